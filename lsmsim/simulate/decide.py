"""The concrete meaning of a profile: what it decides for one request.

Each class decides its own requests (:mod:`lsmsim.classes`); this module finds the
class of a request in the registry, and names the file-class functions the engines
and tests call directly.
"""
from __future__ import annotations

from ..classes import CLASSES, Decision
from ..classes.exec_transition import exec_mode_at, exec_rules_at
from ..classes.file import file_permissions
from ..classes.link import link_subset_holds
from ..model.policy import Profile
from ..model.requests import Request


def decide(profile: Profile, request: Request) -> Decision:
    """What ``profile`` decides for ``request``."""
    rule_class = CLASSES.of_request(request)
    if rule_class is None:
        raise TypeError(f"no decision procedure for {type(request).__name__}")
    return rule_class.decide(profile, request)


__all__ = ["Decision", "decide", "exec_mode_at", "exec_rules_at", "file_permissions",
           "link_subset_holds"]
