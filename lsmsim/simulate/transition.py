"""Where one exec leads a task, concretely: the profile it runs under afterwards."""
from __future__ import annotations

from ..model.policy import Policy, Profile
from ..model.rules import ExecMode
from ..model.decision import AMBIGUOUS, FAILED, UNCONFINED, exec_target
from .decide import exec_mode_at


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
    target = exec_target(policy, profile, mode, lambda p: p.attachment.matches(path))
    if target in (FAILED, AMBIGUOUS):
        return None, mode
    return target, mode
