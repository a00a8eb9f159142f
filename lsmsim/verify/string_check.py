"""The string-matching classes other than files (mount, signal, ptrace, dbus,
unix) decided on automata: one breadth-first search over the child's DFA, the
parent's DFA and the DFA of the requests the kernel can make, each request written
as the one string the kernel matches (:mod:`lsmsim.automata.encodings`).
:func:`lsmsim.model.decision.allowed` decides each side at every reachable state,
so an empty result is a proof. A class whose requests are several independent
strings (mount, signal, ptrace) is searched string by string and the signatures
joined (:func:`split_signatures`)."""
from __future__ import annotations

from typing import Callable, Iterator

from ..automata.encodings import StringClass
from ..automata.dfa import LazyDFA
from ..automata.nfa import TaggedNFA, utf8
from ..automata.product import BYTE_ORDER, BudgetExhausted, Component, ProductSearch
from ..automata.profile import TaggedAutomaton, string_automaton
from ..model.decision import allowed, matching
from ..simulate.decide import decide
from .context import CheckContext
from .result import Denial, Undecided

MAX_WITNESSES_PER_RULE = 64
# Where each byte comes in the order the search prefers bytes (witness ties).
_RANK = tuple(BYTE_ORDER.index(b) for b in range(256))

# Explores the product of one string's automata: signatures with their texts.
Explore = Callable[[CheckContext, list, bool], dict[tuple, str]]


def witnessed(ctx: CheckContext, rules, request, group, found: dict[int, set]
              ) -> Iterator[object]:
    """A denial for each allow rule of ``rules`` (those the child matches ``request``
    with) whose ``group`` of the request has no witness yet, at most
    :data:`MAX_WITNESSES_PER_RULE` per rule; each confirmed by the simulator first."""
    for rule in rules:
        if rule.deny:
            continue
        groups = found.setdefault(id(rule), set())
        key = group(rule, request)
        if key in groups or len(groups) >= MAX_WITNESSES_PER_RULE:
            continue
        groups.add(key)
        yield confirmed(ctx, rule, request)


def confirmed(ctx: CheckContext, rule, request) -> Denial | Undecided:
    """The denial ``request`` witnesses for ``rule`` once the simulator confirms it
    (the child allows it, the parent denies it); undecided otherwise."""
    pair = ctx.pair
    if not decide(pair.child, request).allowed or decide(pair.parent, request).allowed:
        return Undecided(rule.source, f"witness {request} was not confirmed by the simulator")
    return Denial(rule.source, request, pair.child.name, pair.parent.name,
                  "parent does not grant it", pair.via)


def check_strings(ctx: CheckContext, klass: StringClass, child_rules: list,
                  parent_rules: list) -> Iterator[object]:
    """Every request a child allow rule of ``klass`` grants is granted by the parent;
    otherwise one denial per rule and group, with the shortest witness."""
    if not any(not r.deny for r in child_rules):
        return
    pair, cache = ctx.pair, ctx.automata
    child = cache.strings(pair.child, klass, child_rules)
    parent = cache.strings(pair.parent, klass, parent_rules)
    try:
        signatures = _explore(ctx, [child, parent, cache.string_domain(klass)], True)
    except BudgetExhausted as exhausted:
        yield _unexplored(pair, klass, exhausted)
        return
    found: dict[int, set] = {}
    for (tags, parent_tags, _), text in signatures.items():
        mine = {id(child.items[t]): child.items[t] for t in sorted(tags)}
        theirs = [parent.items[t] for t in sorted(parent_tags)]
        if not mine or not allowed(mine.values(), matching) or allowed(theirs, matching):
            continue
        yield from witnessed(ctx, mine.values(), klass.decode(text), klass.group, found)


def _unexplored(pair, klass, exhausted: BudgetExhausted) -> Undecided:
    return Undecided(pair.child.source, f"{klass.name} rules of {pair.child.name} were not "
                                        f"fully explored: {exhausted} (raise --budget)")


def _explore(ctx: CheckContext, automata: list, prune: bool) -> dict[tuple, str]:
    """Signatures (the tags of each automaton, the last one the domain's parts) with
    their shortest strings; raises :class:`BudgetExhausted`."""
    child, parent, domain = automata
    components = [Component(child.dfa, prune, child.live), Component(parent.dfa),
                  Component(domain.dfa, True)]
    search = ProductSearch(components, max(0, ctx.budget.remaining))

    def signature(state: tuple[int, ...]) -> tuple | None:
        parts = domain.dfa.tags(state[2])
        return (child.dfa.tags(state[0]), parent.dfa.tags(state[1]), parts) if parts else None
    try:
        found = search.first_by(signature)
    finally:
        ctx.budget.spend(search.explored)
        ctx.stats.product_states += search.explored
    return {key: search.witness(state) for key, state in found.items()}


def split_sides(ctx: CheckContext, klass, child_rules: list, parent_rules: list) -> list[tuple]:
    """For each string of ``klass``: the child's, the parent's and the domain's
    automaton (compiled once per profile, kept in the check's cache)."""
    pair, cache = ctx.pair, ctx.automata
    sides = []
    # Each rule's alternatives, worked out once for all strings.
    alternatives: dict[int, list[tuple]] = {}
    for index in range(klass.width):
        def pick(rule, index=index):
            found = alternatives.get(id(rule))
            if found is None:
                found = alternatives[id(rule)] = klass.expressions(rule)
            return [alternative[index] for alternative in found]

        def build(rules, pick=pick, bound=klass.max_length(index)):
            return lambda: string_automaton(rules, pick, bound)

        def domain(index=index):
            parts = [part[index] for part in klass.domain]
            return TaggedAutomaton(tuple(range(len(parts))), LazyDFA(TaggedNFA.of(parts)), None)
        name = f"{klass.name}:{index}"
        sides.append((cache.keyed((name, id(pair.child)), pair.child, build(child_rules)),
                      cache.keyed((name, id(pair.parent)), pair.parent, build(parent_rules)),
                      cache.keyed((f"{name}:domain", 0), klass, domain)))
    return sides


def split_signatures(ctx: CheckContext, klass, child_rules: list, parent_rules: list,
                     explore: Explore) -> tuple[TaggedAutomaton, TaggedAutomaton,
                                                dict[tuple, tuple[str, ...]]]:
    """The child's and the parent's automata of the first string (their ``items``
    index alternatives, the same in every string) and the signatures of whole
    requests of ``klass`` where a child allow alternative matches: (child tags,
    parent tags, domain parts) with the shortest texts, one per string, shortest
    first. ``explore`` explores one string (pruned where the child grants nothing);
    raises :class:`BudgetExhausted`."""
    sides = split_sides(ctx, klass, child_rules, parent_rules)
    child, parent = sides[0][0], sides[0][1]
    grants = frozenset(t for t, rule in enumerate(child.items) if not rule.deny)
    found = [_ranked(explore(ctx, list(side), True)) for side in sides]
    # Any order gives the same join; the strings with fewer signatures first keep
    # the partial joins small.
    joined: dict[tuple, tuple] = {(None, None, None): (0, ((),) * len(sides), ("",) * len(sides))}
    for index in sorted(range(len(sides)), key=lambda i: (len(found[i]), i)):
        joined = _join(joined, found[index], index, grants)
    # Shortest requests first (the check reports the first witness it meets).
    ordered = sorted(joined.items(), key=lambda item: item[1][:2])
    return child, parent, {key: texts for key, (_, _, texts) in ordered}


def _ranked(signatures: dict[tuple, str]) -> list[tuple[tuple, int, tuple, str]]:
    """Each signature with its text, the text's length and its bytes ranked in the
    order the search prefers them (how a tie between equally short texts is broken)."""
    return [(key, len(text), tuple(_RANK[b] for b in utf8(text)), text)
            for key, text in signatures.items()]


def _join(partial: dict, signatures: list, index: int, grants: frozenset[int]) -> dict:
    """The partial requests with string ``index`` added: every partial signature
    (None: nothing known yet) joined with every signature of the string, keeping
    for each joined signature the texts shortest in all, ties broken string by
    string in the order the search prefers bytes. The fields are independent: an
    alternative matches a request when it matches each string, and a request is in
    a domain part that has each of its strings. A join that leaves no child allow
    alternative, or no domain part, can grant nothing and is dropped."""
    by_part: dict[int, list[int]] = {}
    for i, (key, *_) in enumerate(signatures):
        for part in key[2]:
            by_part.setdefault(part, []).append(i)
    out: dict[tuple, tuple] = {}
    for (c1, p1, d1), (length1, ranks1, texts1) in partial.items():
        # Only a signature that shares a domain part can join: look at those alone.
        candidates = range(len(signatures)) if d1 is None else sorted(
            {i for part in d1 for i in by_part.get(part, ())})
        for i in candidates:
            (c2, p2, d2), length2, ranks2, text = signatures[i]
            c = c2 if c1 is None else c1 & c2
            if not c & grants:
                continue
            key = (c, p2 if p1 is None else p1 & p2, d2 if d1 is None else d1 & d2)
            length = length1 + length2
            ranks = ranks1[:index] + (ranks2,) + ranks1[index + 1:]
            best = out.get(key)
            if best is None or (length, ranks) < best[:2]:
                out[key] = (length, ranks, texts1[:index] + (text,) + texts1[index + 1:])
    return out


def check_split_strings(ctx: CheckContext, klass, child_rules: list,
                        parent_rules: list) -> Iterator[object]:
    """As :func:`check_strings`, for a class whose requests are several independent
    strings: each explored on its own, their signatures joined
    (:func:`split_signatures`) and every joined signature decided."""
    if not any(not r.deny for r in child_rules):
        return
    try:
        child, parent, signatures = split_signatures(ctx, klass, child_rules, parent_rules,
                                                     _explore)
    except BudgetExhausted as exhausted:
        yield _unexplored(ctx.pair, klass, exhausted)
        return
    found: dict[int, set] = {}
    for (tags, parent_tags, _), texts in signatures.items():
        mine = {id(child.items[t]): child.items[t] for t in sorted(tags)}
        theirs = [parent.items[t] for t in sorted(parent_tags)]
        if not mine or not allowed(mine.values(), matching) or allowed(theirs, matching):
            continue
        yield from witnessed(ctx, mine.values(), klass.decode(*texts), klass.group, found)

