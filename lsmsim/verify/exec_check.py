"""Exec transitions under stacking: each layer applies its own transition, so a
child exec is within the parent when the domain the child enters is within the
domain the parent enters after the same exec (DESIGN §5)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import z3

from ..model.policy import Policy, Profile
from ..model.requests import ExecRequest
from ..model.rules import ExecKind, FileRule, Half
from ..simulate.decide import exec_mode_at
from .context import CheckContext, FollowPair, Pair, Warning
from .encoders import FileSpace
from .file_check import HALVES
from .result import Denial, Step, Undecided
from .z3regex import to_z3

UNCONFINED = "unconfined"
FAILED = "failed"


@dataclass(frozen=True)
class Target:
    """Where an exec leads on the paths where ``condition`` holds."""

    profile: Profile | str  # a Profile, UNCONFINED, or FAILED (no such profile)
    condition: z3.BoolRef

    @property
    def label(self) -> str:
        return self.profile if isinstance(self.profile, str) else self.profile.name


def exec_targets(policy: Policy, profile: Profile, rule: FileRule, space: FileSpace) -> list[Target]:
    """Every domain ``rule``'s transition can lead to, each with the paths it applies to."""
    mode = rule.exec
    true = z3.BoolVal(True)
    if mode.kind is ExecKind.INHERIT:
        return [Target(profile, true)]
    if mode.kind is ExecKind.UNCONFINED:
        return [Target(UNCONFINED, true)]
    missing = {ExecKind.INHERIT: profile, ExecKind.UNCONFINED: UNCONFINED}.get(mode.fallback, FAILED)
    pool = profile.children if mode.kind is ExecKind.CHILD else policy.profiles
    if mode.target:
        name = mode.target.removeprefix(profile.name + "//") if mode.kind is ExecKind.CHILD \
            else mode.target
        found = next((p for p in pool if p.name == name), None)
        return [Target(found if found is not None else missing, true)]
    attached = [p for p in pool if p.attachment is not None]
    conditions = [z3.InRe(space.path, to_z3(p.attachment.regex)) for p in attached]
    targets = [Target(p, c) for p, c in zip(attached, conditions)]
    targets.append(Target(missing, z3.Not(z3.Or(*conditions)) if conditions else true))
    return targets


def check_exec(ctx: CheckContext) -> Iterator[object]:
    pair = ctx.pair
    space = FileSpace()
    child_rules = pair.child.rules_of(FileRule)
    parent_rules = pair.parent.rules_of(FileRule)
    for rule in child_rules:
        if rule.deny or rule.exec is None:
            continue
        child_targets = exec_targets(pair.child_policy, pair.child, rule, space)
        for half in HALVES:
            if not rule.qualifier.covers(half):
                continue
            for other in parent_rules:
                if other.deny or other.exec is None or not other.qualifier.covers(half) \
                        or not rule.glob.may_overlap(other.glob):
                    continue
                both = (space.domain(), space.exec_applies(rule, child_rules, half),
                        space.allows(child_rules, "x", half),
                        space.exec_applies(other, parent_rules, half),
                        space.allows(parent_rules, "x", half))
                for mine in child_targets:
                    for theirs in exec_targets(pair.parent_policy, pair.parent, other, space):
                        outcome = ctx.prover.solve(*both, mine.condition, theirs.condition,
                                                   prefer=space.readable())
                        if outcome.status == "unknown":
                            yield Undecided(rule.source, f"solver gave up comparing exec "
                                                         f"transitions ({outcome.reason})")
                        elif outcome.status == "sat":
                            path = space.value(outcome.model)
                            yield from _compare(pair, rule, other, half, path, mine, theirs)


def _compare(pair: Pair, rule: FileRule, other: FileRule, half: Half, path: str,
             mine: Target, theirs: Target) -> Iterator[object]:
    owner = half is Half.OWNER
    step = Step(path, str(rule.exec), str(other.exec))
    if mine.profile == FAILED:
        yield Warning(f"{rule.source}: exec of {path!r} fails: no profile {rule.exec.target or 'attached to it'} "
                      "in the child policy")
    elif theirs.profile == UNCONFINED:
        return
    elif theirs.profile == FAILED:
        yield Undecided(rule.source, f"the parent's transition {other.exec} for {path!r} leads "
                                     "to a profile that is not in the parent policy")
    elif mine.profile == UNCONFINED:
        if exec_mode_at(pair.child, path, owner) != rule.exec or \
                exec_mode_at(pair.parent, path, owner) != other.exec:
            yield Undecided(rule.source, f"exec witness {path!r} was not confirmed by the simulator")
            return
        yield Denial(rule.source, ExecRequest(path, str(rule.exec), UNCONFINED, owner),
                     pair.child.name, pair.parent.name,
                     f"child runs {path} unconfined where the parent confines it ({other.exec}"
                     f" -> {theirs.label})", pair.via)
    else:
        yield FollowPair(Pair(pair.child_policy, mine.profile, pair.parent_policy, theirs.profile,
                              pair.via + (step,)))
