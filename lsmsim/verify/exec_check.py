"""Exec transitions under stacking: each layer applies its own transition, so a
child exec is within the parent when the domain the child enters is within the
domain the parent enters after the same exec (DESIGN §5)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..lazy import z3

from ..model.policy import Policy, Profile
from ..model.requests import ExecRequest
from ..model.rules import ExecKind, FileRule, Half
from ..simulate.decide import exec_mode_at
from .context import CheckContext, FollowPair, Pair, Warning
from ..model.decision import (AMBIGUOUS, FAILED, UNCONFINED, attachment_chosen,
                              attachment_conflict, exec_fallback, exec_target)
from .encoders import Z3, FileSpace
from .file_check import HALVES
from .result import Denial, Step, Undecided
from .z3regex import to_z3



@dataclass(frozen=True)
class Target:
    """Where an exec leads on the paths where ``condition`` holds."""

    profile: Profile | str  # a Profile, UNCONFINED, FAILED or AMBIGUOUS
    condition: z3.BoolRef | None  # None where the target is already known

    @property
    def label(self) -> str:
        return self.profile if isinstance(self.profile, str) else self.profile.name


def exec_targets(policy: Policy, profile: Profile, rule: FileRule, space: FileSpace) -> list[Target]:
    """Every domain ``rule``'s transition can lead to, each with the paths it applies to
    (:func:`lsmsim.model.decision.exec_target` decides each)."""
    mode = rule.exec
    true = z3.BoolVal(True)
    if mode.kind not in (ExecKind.PROFILE, ExecKind.CHILD) or mode.target:
        return [Target(exec_target(policy, profile, mode, lambda p: False), true)]
    pool = profile.children if mode.kind is ExecKind.CHILD else policy.profiles
    attached = [p for p in pool if p.attachment is not None]

    def match(p: Profile) -> z3.BoolRef:
        return z3.InRe(space.path, to_z3(p.attachment.regex))
    targets = [Target(p, attachment_chosen(p, attached, match, Z3)) for p in attached]
    # No attachment matches, or two tie: the fallback (if any) applies, else the exec fails.
    targets.append(Target(exec_fallback(profile, mode, AMBIGUOUS),
                          attachment_conflict(attached, match, Z3)))
    none = z3.Not(z3.Or(*map(match, attached))) if attached else true
    targets.append(Target(exec_fallback(profile, mode, FAILED), none))
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
                            yield from compare_targets(pair, rule, other, half, path, mine, theirs)


def compare_targets(pair: Pair, rule: FileRule, other: FileRule, half: Half, path: str,
             mine: Target, theirs: Target) -> Iterator[object]:
    owner = half is Half.OWNER
    step = Step(path, str(rule.exec), str(other.exec))
    if mine.profile == AMBIGUOUS:
        yield Warning(f"{rule.source}: exec of {path!r} fails: two profiles of the child policy "
                      "attach to it with the same specificity")
    elif theirs.profile == AMBIGUOUS:
        yield Undecided(rule.source, f"the parent's transition {other.exec} for {path!r} is "
                                     "ambiguous: two of its profiles attach to it with the "
                                     "same specificity")
    elif mine.profile == FAILED:
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
