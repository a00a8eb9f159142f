"""Conflicting exec transitions, which apparmor_parser refuses ("conflicting x
modifiers"): two allow rules of one profile that give one path (of one half)
different exec types. Rules without a wildcard (``ExactMatchFlag``) are merged
apart from the others, so an exact rule never conflicts with a wildcard one: it
overrides it. change_profile rules with an exec condition carry exec bits on their
``EXEC \\0 TARGET`` entry and conflict the same way when one is ``unsafe`` and the
other is not (exact only when both exec and target are). Deny rules conflict only
when written alike."""
from __future__ import annotations

from itertools import combinations
from typing import Iterable, Iterator

from ...model.change_profile import ChangeProfileRule
from ...model.exec_type import exec_type
from ...model.overlap import intersects
from ...model.regex import Lit, Seq
from ...model.rules import FileRule, Half


def _file_conflicts(rules: list[FileRule]) -> Iterator[tuple[FileRule, FileRule]]:
    for half in Half:
        mine = [r for r in rules if r.qualifier.covers(half)]
        # Each rule's exec type once, not once per pair; one type throughout (the
        # usual profile) cannot conflict.
        types = [exec_type(r.exec) for r in mine]
        if all(t == types[0] for t in types):
            continue
        for (i, a), (j, b) in combinations(enumerate(mine), 2):
            if types[i] != types[j] and a.glob.is_exact == b.glob.is_exact \
                    and a.glob.may_overlap(b.glob) and intersects(a.glob.regex, b.glob.regex):
                yield a, b


def _pair(rule: ChangeProfileRule):
    return Seq((rule.exec.regex, Lit("\0"), rule.target.regex))


def _change_profile_conflicts(rules: list[ChangeProfileRule]) -> Iterator[tuple]:
    for a, b in combinations(rules, 2):
        exact_a = a.exec.is_exact and a.target.is_exact
        exact_b = b.exec.is_exact and b.target.is_exact
        if a.unsafe != b.unsafe and exact_a == exact_b and a.exec.may_overlap(b.exec) \
                and intersects(_pair(a), _pair(b)):
            yield a, b


def _merged_conflicts(rules: list[ChangeProfileRule]) -> Iterator[tuple]:
    """Deny rules are only merged when written alike (same exec, target and audit;
    parser_merge.c), and then their exec bits must agree too."""
    seen: dict[tuple, ChangeProfileRule] = {}
    for rule in rules:
        first = seen.setdefault((rule.exec.text, rule.target.text, rule.audit), rule)
        if first.unsafe != rule.unsafe:
            yield first, rule


def exec_conflict(rules: Iterable) -> tuple | None:
    """The first pair of rules whose exec transitions conflict, or None."""
    rules = list(rules)
    files = [r for r in rules if isinstance(r, FileRule) and r.exec is not None and not r.deny]
    changes = [r for r in rules if isinstance(r, ChangeProfileRule) and r.exec is not None]
    return next(_file_conflicts(files), None) \
        or next(_change_profile_conflicts([r for r in changes if not r.deny]), None) \
        or next(_merged_conflicts([r for r in changes if r.deny]), None)
