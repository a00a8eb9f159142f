"""Which profiles an exec rule's paths can attach to."""
from __future__ import annotations

from ..model.decision import AMBIGUOUS, attachment_conflict, pick_attachment
from ..model.glob import Glob
from .dfa import LazyDFA
from .domain import canonical_path
from .nfa import MAX_PATH, TaggedNFA
from .product import BudgetExhausted, Component, ProductSearch

MAX_STATES = 200_000


def attachments_reached(glob: Glob, candidates: list) -> list:
    """The profiles of ``candidates`` the kernel attaches for some canonical path
    ``glob`` matches (:func:`lsmsim.model.decision.pick_attachment`), in order of
    the shortest such path, plus :data:`AMBIGUOUS` where two attachments tie and
    ``None`` where none matches."""
    if not candidates:
        return [None]
    rule = LazyDFA(TaggedNFA.of([glob.regex], MAX_PATH))
    attach = LazyDFA(TaggedNFA.of([p.attachment.regex for p in candidates], MAX_PATH))
    domain = LazyDFA(TaggedNFA.of([canonical_path()]))
    search = ProductSearch([Component(rule, True), Component(attach), Component(domain, True)],
                           MAX_STATES)
    reached: dict[int, object] = {}
    try:
        for state in search.states():
            _record(state, rule, attach, domain, candidates, reached)
    except BudgetExhausted:
        # Too large to settle: every overlapping attachment may be reached.
        return [p for p in candidates if p.attachment.may_overlap(glob)] + [None]
    return list(reached.values())


def _record(state, rule, attach, domain, candidates, reached) -> None:
    """Note the profile attached at ``state`` when it is a path the rule matches."""
    if not rule.tags(state[0]) or not domain.tags(state[2]):
        return
    matched = {id(candidates[t]) for t in attach.tags(state[1])}

    def is_matched(p) -> bool:
        return id(p) in matched
    found = pick_attachment(candidates, is_matched)
    if found is None and attachment_conflict(candidates, is_matched):
        found = AMBIGUOUS
    reached.setdefault(id(found), found)
