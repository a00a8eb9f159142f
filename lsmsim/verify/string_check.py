"""The string-matching classes other than files (mount, signal, ptrace, dbus,
unix) decided on automata: one breadth-first search over the child's DFA, the
parent's DFA and the DFA of the requests the kernel can make, each request written
as the one string the kernel matches (:mod:`lsmsim.automata.encodings`).
:func:`lsmsim.model.decision.allowed` decides each side at every reachable state,
so an empty result is a proof."""
from __future__ import annotations

from typing import Iterator

from ..automata.encodings import StringClass
from ..automata.dfa import LazyDFA
from ..automata.nfa import TaggedNFA
from ..automata.product import BudgetExhausted, Component, ProductSearch
from ..automata.profile import TaggedAutomaton, string_automaton
from ..model.decision import allowed, matching
from ..simulate.decide import decide
from .context import CheckContext
from .result import Denial, Undecided

MAX_WITNESSES_PER_RULE = 64


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
    """For each of the two strings of ``klass``: the child's, the parent's and the
    domain's automaton (compiled once per profile, kept in the check's cache)."""
    pair, cache = ctx.pair, ctx.automata
    sides = []
    for half in (0, 1):
        def pick(rule, half=half):
            return [alternative[half] for alternative in klass.expressions(rule)]
        sides.append((
            cache.keyed((f"{klass.name}:{half}", id(pair.child)), pair.child,
                        lambda pick=pick: string_automaton(child_rules, pick, klass.max_length)),
            cache.keyed((f"{klass.name}:{half}", id(pair.parent)), pair.parent,
                        lambda pick=pick: string_automaton(parent_rules, pick, klass.max_length)),
            cache.keyed((f"{klass.name}:{half}:domain", 0), klass, lambda half=half: TaggedAutomaton(
                tuple(range(len(klass.domain))),
                LazyDFA(TaggedNFA.of([part[half] for part in klass.domain])), None))))
    return sides


def check_split_strings(ctx: CheckContext, klass, child_rules: list,
                        parent_rules: list) -> Iterator[object]:
    """As :func:`check_strings`, for a class whose requests are two independent
    strings: each explored on its own, every pair of their signatures decided."""
    if not any(not r.deny for r in child_rules):
        return
    pair = ctx.pair
    sides = split_sides(ctx, klass, child_rules, parent_rules)
    try:
        # The first string (the paths) decides which rules can match at all: prune there.
        first = _explore(ctx, list(sides[0]), True)
        second = _explore(ctx, list(sides[1]), False)
    except BudgetExhausted as exhausted:
        yield _unexplored(pair, klass, exhausted)
        return
    child, parent = sides[0][0], sides[0][1]
    found: dict[int, set] = {}
    seconds = sorted(second.items(), key=lambda item: len(item[1]))
    for (c1, p1, d1), text1 in sorted(first.items(), key=lambda item: len(item[1])):
        if not c1:
            continue
        for (c2, p2, d2), text2 in seconds:
            if not d1 & d2:
                continue  # no kind of request has both strings
            # Tags index alternatives, the same in both strings' automata.
            mine = {id(child.items[t]): child.items[t] for t in sorted(c1 & c2)}
            theirs = [parent.items[t] for t in sorted(p1 & p2)]
            if not mine or not allowed(mine.values(), matching) or allowed(theirs, matching):
                continue
            request = klass.decode(text1, text2)
            yield from witnessed(ctx, mine.values(), request, klass.group, found)
