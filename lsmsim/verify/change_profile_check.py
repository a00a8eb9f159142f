"""change_profile under stacking: each layer decides the change with its own rules.

A change the child allows and the parent does not leaves the parent layer in its
profile, so the profile the child enters must stay within it: the pair (target,
parent) is followed, a change to ``unconfined`` is an expansion, and so is a change
to a label no profile of the child policy has (what it names is not known here).
A change both allow moves the parent to its own profile of that label, and the
pair (child target, parent target) is followed. A stacking change (``&X``) keeps
every profile of the task's label and adds X, so it only narrows what each layer
allows: nothing to follow.

This module asks Z3 (``--engine z3``); :mod:`.change_profile_strings` asks the same
question on automata, and both report through the functions below.
"""
from __future__ import annotations

from typing import Iterator

from ..lazy import z3

from ..model.change_profile import ChangeProfileRequest, ChangeProfileRule
from ..model.labels import UNCONFINED, profiles_by_label, resolve
from ..simulate.decide import decide
from .change_profile_space import ChangeProfileSpace
from .context import CheckContext, FollowPair, Pair
from .result import Denial, Step, Undecided
from .z3regex import z3_text


def known_labels(policy) -> list[str]:
    """The labels a change may name that lead somewhere known: every profile of
    ``policy`` and ``unconfined``."""
    return sorted(profiles_by_label(policy)) + [UNCONFINED]


def check_change_profile(ctx: CheckContext) -> Iterator[object]:
    pair = ctx.pair
    child_rules = pair.child.rules_of(ChangeProfileRule)
    parent_rules = pair.parent.rules_of(ChangeProfileRule)
    allowing = [r for r in child_rules if not r.deny]
    if not allowing:
        return
    space = ChangeProfileSpace()
    known = known_labels(pair.child_policy)
    beyond = (space.domain(), space.allows(child_rules), z3.Not(space.allows(parent_rules)),
              space.not_stacking())
    for rule in allowing:
        # Labels of the child policy the parent does not let the task change to.
        blocked: list[z3.BoolRef] = []
        for _ in known:
            outcome = ctx.prover.solve(*beyond, space.rule(rule), space.is_one_of(known), *blocked)
            if outcome.status != "sat":
                yield from _gave_up(rule, outcome)
                break
            request = space.value(outcome.model)
            blocked.append(space.target != z3_text(request.target))
            yield from parent_stays(ctx, rule, request)
        # Any other label: one witness.
        outcome = ctx.prover.solve(*beyond, space.rule(rule), z3.Not(space.is_one_of(known)),
                                   prefer=space.readable())
        if outcome.status != "sat":
            yield from _gave_up(rule, outcome)
            continue
        yield other_label(ctx, rule, space.value(outcome.model))
    yield from both_change(ctx, known)


def other_label(ctx: CheckContext, rule: ChangeProfileRule,
                request: ChangeProfileRequest) -> Denial | Undecided:
    """The finding of a change the child allows and the parent does not to a label
    no profile of the child policy has: a denial, once the simulator confirms it."""
    pair = ctx.pair
    if not _confirmed(ctx, rule, request):
        return _unconfirmed(rule, request)
    return Denial(rule.source, request, pair.child.name, pair.parent.name,
                  f"the parent does not allow changing to {request.target!r}, and no "
                  "profile of the child policy has that name", pair.via)


def both_change(ctx: CheckContext, known: list[str]) -> Iterator[object]:
    """The pairs each change to a known label both sides allow leads to."""
    pair = ctx.pair
    for label in known:
        request = ChangeProfileRequest(label)
        if decide(pair.child, request).allowed and decide(pair.parent, request).allowed:
            yield from _both_change(ctx, label)


def _gave_up(rule: ChangeProfileRule, outcome) -> Iterator[object]:
    if outcome.status == "unknown":
        yield Undecided(rule.source, f"solver gave up on change_profile ({outcome.reason})")


def _confirmed(ctx: CheckContext, rule: ChangeProfileRule, request: ChangeProfileRequest) -> bool:
    return decide(ctx.pair.child, request).allowed and not decide(ctx.pair.parent, request).allowed


def _unconfirmed(rule: ChangeProfileRule, request: ChangeProfileRequest) -> Undecided:
    return Undecided(rule.source, f"change_profile witness {request.target!r} was not "
                                  "confirmed by the simulator")


def parent_stays(ctx: CheckContext, rule: ChangeProfileRule,
                 request: ChangeProfileRequest) -> Iterator[object]:
    """The findings of a change the child allows and the parent does not to a known
    label (``request.target``): the pair the task then runs as is followed, and
    unconfined is a denial; each once the simulator confirms the request."""
    pair = ctx.pair
    if not _confirmed(ctx, rule, request):
        yield _unconfirmed(rule, request)
        return
    target = resolve(pair.child_policy, request.target)
    if target == UNCONFINED:
        yield Denial(rule.source, request, pair.child.name, pair.parent.name,
                     "the child may change to unconfined; the parent does not allow that "
                     "change and stays confined", pair.via)
    elif target is not None:
        step = Step(request.target, "change_profile", "stays")
        yield FollowPair(Pair(pair.child_policy, target, pair.parent_policy, pair.parent,
                              pair.via + (step,)))


def _both_change(ctx: CheckContext, label: str) -> Iterator[object]:
    pair = ctx.pair
    mine = resolve(pair.child_policy, label)
    theirs = resolve(pair.parent_policy, label)
    if mine == UNCONFINED:  # then the label names unconfined for the parent too
        return
    # Where the parent policy has no such profile its change fails and it stays.
    after = theirs if theirs is not None else pair.parent
    step = Step(label, "change_profile", "change_profile" if theirs is not None else "stays")
    if after != UNCONFINED:
        yield FollowPair(Pair(pair.child_policy, mine, pair.parent_policy, after,
                              pair.via + (step,)))
