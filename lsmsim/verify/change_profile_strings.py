"""change_profile decided on automata.

A request is one string: ``n\\0TARGET`` for a change now, ``x\\0EXEC\\0TARGET`` for a
change at the exec of EXEC (no field holds a NUL, so the fields stay apart). A rule
is the alternatives that match it there; a deny rule's alternatives cross the
fields the way its compiled entries do (:mod:`lsmsim.model.change_profile`). The
domain automaton tags the requests the kernel can make and, beside them, which
known label (a profile of the child policy, or ``unconfined``) the target is. One
breadth-first search over the child's DFA, the parent's DFA and that domain yields
every signature (the rules each side matches, the known label if any) with its
shortest request; :func:`lsmsim.model.decision.allowed` decides each side. An
empty result is a proof only because the whole product is explored."""
from __future__ import annotations

from typing import Iterator

from ..automata.dfa import LazyDFA
from ..automata.domain import canonical_path
from ..automata.encodings import ANY, StringClass
from ..automata.nfa import TaggedNFA
from ..automata.product import BudgetExhausted
from ..automata.profile import TaggedAutomaton
from ..model.change_profile import ChangeProfileRequest, ChangeProfileRule
from ..model.decision import allowed, matching
from ..model.regex import Alt, CharSet, Lit, Regex, Seq
from .change_profile_check import both_change, known_labels, other_label, parent_stays
from .context import CheckContext
from .result import Undecided
from .string_check import _explore

NOW, ONEXEC = Lit("n\0"), Lit("x\0")
SEP = Lit("\0")
# A target the domain admits: not empty, and no stacking mark (a stacking change only
# narrows what each layer allows: nothing to check).
_NOT_STACKING = Seq((CharSet.of([(ord("&"), ord("&"))], negate=True), ANY))


def _expressions(rule: ChangeProfileRule) -> list[Regex]:
    target, exec_glob = rule.target.regex, rule.exec_glob.regex
    if not rule.deny:
        return [Seq((NOW, target)), Seq((ONEXEC, exec_glob, SEP, target))]
    # Target and exec strings share the compiled DFA: either glob masks either field.
    return [Seq((NOW, target)),
            *(Seq((ONEXEC, ANY, SEP, glob)) for glob in (target, exec_glob)),
            *(Seq((ONEXEC, glob, SEP, ANY)) for glob in (target, exec_glob))]


def _decode(text: str) -> ChangeProfileRequest:
    kind, *fields = text.split("\0")
    return ChangeProfileRequest(fields[-1], fields[0] if kind == "x" else None)


CHANGE_PROFILE = StringClass(
    "change_profile", ChangeProfileRule, _expressions,
    (Seq((NOW, _NOT_STACKING)), Seq((ONEXEC, canonical_path(), SEP, _NOT_STACKING))),
    _decode, lambda rule, request: request.target)


def _domain(known: tuple[str, ...]) -> TaggedAutomaton:
    """The request parts (tags 0 and 1), then one tag per known label: the target
    is that label, whatever the rest of the request."""
    labels = [Seq((Alt((NOW, Seq((ONEXEC, ANY, SEP)))), Lit(label))) for label in known]
    parts = len(CHANGE_PROFILE.domain)
    return TaggedAutomaton(tuple(range(parts + len(known))),
                           LazyDFA(TaggedNFA.of([*CHANGE_PROFILE.domain, *labels])), None)


def check_change_profile(ctx: CheckContext) -> Iterator[object]:
    """The same question and findings as
    :func:`lsmsim.verify.change_profile_check.check_change_profile`, on automata."""
    pair, cache = ctx.pair, ctx.automata
    child_rules = pair.child.rules_of(ChangeProfileRule)
    parent_rules = pair.parent.rules_of(ChangeProfileRule)
    allowing = [r for r in child_rules if not r.deny]
    if not allowing:
        return
    known = known_labels(pair.child_policy)
    distinct = tuple(dict.fromkeys(known))
    parts = len(CHANGE_PROFILE.domain)
    child = cache.strings(pair.child, CHANGE_PROFILE, child_rules)
    parent = cache.strings(pair.parent, CHANGE_PROFILE, parent_rules)
    domain = cache.keyed(("change_profile:labels", distinct), None, lambda: _domain(distinct))
    try:
        signatures = _explore(ctx, [child, parent, domain], True)
    except BudgetExhausted as exhausted:
        for rule in allowing:
            yield Undecided(rule.source, f"change_profile rules of {pair.child.name} were not "
                                         f"fully explored: {exhausted} (raise --budget)")
        yield from both_change(ctx, known)
        return
    # Per allow rule: the shortest request to each known label, and to any other.
    # Keyed by the rule, not its identity: automata may come compiled from an earlier run.
    found: dict[ChangeProfileRule, dict[str | None, ChangeProfileRequest]] = {}
    for (tags, parent_tags, domain_tags), text in sorted(signatures.items(),
                                                         key=lambda item: len(item[1])):
        if not any(t < parts for t in domain_tags):
            continue  # the target is a known label, but no request the kernel makes
        mine = {id(child.items[t]): child.items[t] for t in sorted(tags)}
        theirs = [parent.items[t] for t in sorted(parent_tags)]
        if not mine or not allowed(mine.values(), matching) or allowed(theirs, matching):
            continue
        label = next((distinct[t - parts] for t in domain_tags if t >= parts), None)
        for rule in mine.values():
            if not rule.deny:
                found.setdefault(rule, {}).setdefault(label, _decode(text))
    for rule in allowing:
        witnesses = found.get(rule, {})
        for label, request in witnesses.items():
            if label is not None:
                yield from parent_stays(ctx, rule, request)
        if None in witnesses:
            yield other_label(ctx, rule, witnesses[None])
    yield from both_change(ctx, known)
