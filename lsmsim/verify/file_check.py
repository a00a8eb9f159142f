"""File permissions: every letter a child allow rule grants must be granted by the
parent on every path (and half) where the child grants it."""
from __future__ import annotations

from typing import Iterator

from ..lazy import z3

from ..model.requests import ExecRequest, FileRequest, sorted_perms
from ..model.rules import FileRule, Half
from ..simulate.decide import file_permissions
from .context import CheckContext
from .encoders import FileSpace
from .result import Denial, Undecided

HALVES = (Half.OTHER, Half.OWNER)  # "other" first: its witnesses read as the common case


def check_files(ctx: CheckContext) -> Iterator[object]:
    pair = ctx.pair
    child_rules = pair.child.rules_of(FileRule)
    parent_rules = pair.parent.rules_of(FileRule)
    space = FileSpace()
    for rule in child_rules:
        if rule.deny:
            continue
        witnessed: set[str] = set()
        near_child = [r for r in child_rules if r.glob.may_overlap(rule.glob)]
        near_parent = [r for r in parent_rules if r.glob.may_overlap(rule.glob)]
        for half in HALVES:
            if not rule.qualifier.covers(half):
                continue
            for letter in sorted_perms(rule.perms - {"l"}):  # links: link_check
                if letter in witnessed:  # grows as witnesses are found
                    continue
                outcome = ctx.prover.solve(
                    space.domain(), space.glob(rule),
                    space.allows(near_child, letter, half),
                    z3.Not(space.allows(near_parent, letter, half)),
                    prefer=space.readable())
                if outcome.status == "unknown":
                    yield Undecided(rule.source, f"solver gave up on '{letter}' for the "
                                                 f"{half.value} half ({outcome.reason})")
                    continue
                if outcome.status == "unsat":
                    continue
                path = space.value(outcome.model)
                yield from confirm_file_denial(ctx, rule, path, half, letter, witnessed)


def confirm_file_denial(ctx: CheckContext, rule: FileRule, path: str, half: Half, letter: str,
             witnessed: set[str]) -> Iterator[object]:
    pair = ctx.pair
    owner = half is Half.OWNER
    granted_by_child = file_permissions(pair.child, path, owner) & rule.perms
    granted_by_parent = file_permissions(pair.parent, path, owner)
    denied = granted_by_child - granted_by_parent
    if letter not in denied:
        yield Undecided(rule.source, f"witness {path!r} for '{letter}' was not confirmed "
                                     "by the simulator")
        return
    witnessed.update(denied)
    data_perms = denied - {"x"}
    if data_perms:
        yield Denial(rule.source, FileRequest(path, frozenset(data_perms), owner),
                     pair.child.name, pair.parent.name,
                     f"parent grants only '{''.join(sorted_perms(granted_by_parent)) or '-'}'"
                     f" on this path", pair.via)
    if "x" in denied:
        yield Denial(rule.source, ExecRequest(path, str(rule.exec), rule.exec.target if rule.exec
                                              else None, owner),
                     pair.child.name, pair.parent.name, "parent does not allow executing "
                     "this path", pair.via)
