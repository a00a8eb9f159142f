"""Where one exec leads a task, concretely: the profile it runs under afterwards."""
from __future__ import annotations

from ..model.policy import Policy, Profile
from ..model.rules import ExecKind, ExecMode
from .decide import exec_mode_at

UNCONFINED = "unconfined"


def exec_transition(policy: Policy, profile: Profile | str, path: str, owner: bool = False
                    ) -> tuple[Profile | str | None, ExecMode | None]:
    """The domain after ``profile`` executes ``path`` and the mode that took it there.

    The domain is a :class:`Profile`, :data:`UNCONFINED`, or ``None`` when the exec
    fails (not allowed, or a ``px``/``cx`` target that does not exist and no fallback).
    """
    if profile == UNCONFINED:
        return UNCONFINED, None
    mode = exec_mode_at(profile, path, owner)
    if mode is None:
        return None, None
    if mode.kind is ExecKind.INHERIT:
        return profile, mode
    if mode.kind is ExecKind.UNCONFINED:
        return UNCONFINED, mode
    pool = profile.children if mode.kind is ExecKind.CHILD else policy.profiles
    if mode.target:
        name = mode.target.removeprefix(profile.name + "//") if mode.kind is ExecKind.CHILD \
            else mode.target
        found = next((p for p in pool if p.name == name), None)
    else:
        matching = [p for p in pool if p.attachment is not None and p.attachment.matches(path)]
        exact = [p for p in matching if p.attachment.is_literal]
        found = max(exact or matching, key=lambda p: len(p.attachment.literal_prefix),
                    default=None)
    if found is not None:
        return found, mode
    fallback = {ExecKind.INHERIT: profile, ExecKind.UNCONFINED: UNCONFINED}
    return fallback.get(mode.fallback), mode
