"""change_hat under stacking: a task may move into a hat of its profile (or, from a
hat, into a sibling hat). The child layer enters the child's hat; the parent layer
enters its own hat of the same name where it has one, and otherwise stays in its
profile. Either way the hat must stay within the parent's profile in force after
the change: the pair is followed."""
from __future__ import annotations

from typing import Iterator

from ..model.policy import Policy, Profile
from .context import CheckContext, FollowPair, Pair
from .result import Step


def owner_of(policy: Policy, profile: Profile) -> Profile | None:
    """The profile whose child or hat ``profile`` is (found by identity)."""
    pending = list(policy.profiles)
    while pending:
        candidate = pending.pop()
        if any(child is profile for child in candidate.children):
            return candidate
        pending.extend(candidate.children)
    return None


def _hats(profile: Profile | None) -> list[Profile]:
    return [child for child in profile.children if child.hat] if profile is not None else []


def check_hats(ctx: CheckContext) -> Iterator[object]:
    pair = ctx.pair
    reachable = _hats(pair.child)
    if pair.child.hat:  # from a hat, change_hat goes to a sibling
        reachable += [h for h in _hats(owner_of(pair.child_policy, pair.child))
                      if h is not pair.child]
    if not reachable:
        return
    base = owner_of(pair.parent_policy, pair.parent) if pair.parent.hat else pair.parent
    parent_hats = {hat.name: hat for hat in _hats(base)}
    for hat in reachable:
        after = parent_hats.get(hat.name, pair.parent)
        step = Step(f"^{hat.name}", "change_hat",
                    "change_hat" if after is not pair.parent else "stays")
        yield FollowPair(Pair(pair.child_policy, hat, pair.parent_policy, after,
                              pair.via + (step,)))
