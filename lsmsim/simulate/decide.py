"""The concrete meaning of a profile: what it decides for one request.

Every decision is built from the rules' own ``matches``/``covers`` methods, the
same rule objects the Z3 encoders read.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..model.change_profile import ChangeProfileRequest, ChangeProfileRule
from ..model.exec_type import exec_subset
from ..model.link import LinkRequest, LinkRule
from ..model.mount import MountRequest, MountRule
from ..model.mqueue import MqueueRequest, MqueueRule
from ..model.task_classes import IoUringRequest, IoUringRule, UsernsRequest, UsernsRule
from ..model.policy import Profile
from ..model.requests import (CapabilityRequest, ExecRequest, FileRequest, IpcRequest,
                              NetworkRequest, PtraceRequest, Request, SignalRequest)
from ..model.decision import (allowed, exec_applies, exec_deciders, file_allows, link_allowed,
                              matching)
from ..model.rules import (FILE_PERMS, CapabilityRule, ExecMode, FileRule, Half, IpcRule,
                           NetworkRule, PtraceRule, Rule, SignalRule)


@dataclass(frozen=True)
class Decision:
    """The outcome for one request: ``denied`` holds what was asked and refused
    (permission letters for files, the request's own name otherwise)."""

    allowed: bool
    denied: frozenset[str]
    rules: tuple[Rule, ...]
    exec_mode: ExecMode | None = None


def _half(owner: bool) -> Half:
    return Half.OWNER if owner else Half.OTHER


def file_permissions(profile: Profile, path: str, owner: bool) -> frozenset[str]:
    """Letters granted on ``path``: union of matching allows minus every matching deny."""
    rules = profile.rules_of(FileRule)
    matched = {id(r) for r in rules if r.glob.matches(path)}
    half = _half(owner)
    granted = {letter for letter in FILE_PERMS
               if file_allows(rules, letter, half, lambda r: id(r) in matched)}
    # 'l' on a path alone comes from link rules; a deny never masks it there.
    if any(not r.deny and r.covers(path, owner) for r in profile.rules_of(LinkRule)):
        granted.add("l")
    return frozenset(granted)


def exec_rules_at(profile: Profile, path: str, owner: bool) -> list[FileRule]:
    """The allow rules whose exec transition applies at ``path`` (exact paths beat
    globs: :func:`lsmsim.model.decision.exec_applies`)."""
    half = _half(owner)
    rules = profile.rules_of(FileRule)
    matched = {id(r) for r in exec_deciders(rules, half) if r.glob.matches(path)}
    return [r for r in exec_deciders(rules, half)
            if exec_applies(r, rules, half, lambda r: id(r) in matched)]


def exec_mode_at(profile: Profile, path: str, owner: bool) -> ExecMode | None:
    """The transition taken when executing ``path``, or None if exec is not allowed."""
    if "x" not in file_permissions(profile, path, owner):
        return None
    rules = exec_rules_at(profile, path, owner)
    return rules[0].exec if rules else None


def _decide_file(profile: Profile, request: FileRequest) -> Decision:
    granted = file_permissions(profile, request.path, request.owner)
    denied = request.perms - granted
    rules = tuple(r for r in profile.rules_of(FileRule) if r.matches(request))
    return Decision(not denied, frozenset(denied), rules)


def _decide_exec(profile: Profile, request: ExecRequest) -> Decision:
    mode = exec_mode_at(profile, request.path, request.owner)
    rules = tuple(exec_rules_at(profile, request.path, request.owner))
    return Decision(mode is not None, frozenset() if mode else frozenset("x"), rules, mode)


def link_subset_holds(profile: Profile, link: str, target: str, owner: bool) -> bool:
    """The kernel's link subset test: every permission on ``link`` ('l' aside) is
    held on ``target`` too, with the same exec transition."""
    on_link = file_permissions(profile, link, owner) - {"l"}
    on_target = file_permissions(profile, target, owner)
    if not on_link <= on_target:
        return False
    return "x" not in on_link or exec_subset(exec_mode_at(profile, link, owner),
                                             exec_mode_at(profile, target, owner))


def _decide_link(profile: Profile, request: LinkRequest) -> Decision:
    rules = profile.rules_of(LinkRule)
    half = Half.OWNER if request.owner else Half.OTHER
    found = [r for r in rules if r.matches(request)]
    allowed_ = link_allowed(
        found, half, lambda: link_subset_holds(profile, request.link, request.target,
                                               request.owner), matching)
    return Decision(allowed_, frozenset() if allowed_ else frozenset("l"),
                    tuple([r for r in found if not r.deny] + [r for r in found if r.deny]))


def _decide_named(profile: Profile, request, kind: type, label: str) -> Decision:
    rules = profile.rules_of(kind)
    found = [r for r in rules if r.matches(request)]
    ok = allowed(found, matching)
    return Decision(ok, frozenset() if ok else frozenset({label}),
                    tuple([r for r in found if not r.deny] + [r for r in found if r.deny]))


def decide(profile: Profile, request: Request) -> Decision:
    """What ``profile`` decides for ``request``."""
    match request:
        case FileRequest():
            return _decide_file(profile, request)
        case ExecRequest():
            return _decide_exec(profile, request)
        case CapabilityRequest():
            return _decide_named(profile, request, CapabilityRule, request.name)
        case NetworkRequest():
            return _decide_named(profile, request, NetworkRule, "create")
        case SignalRequest():
            return _decide_named(profile, request, SignalRule, request.perm)
        case PtraceRequest():
            return _decide_named(profile, request, PtraceRule, request.perm)
        case IpcRequest():
            return _decide_named(profile, request, IpcRule, request.perm)
        case LinkRequest():
            return _decide_link(profile, request)
        case ChangeProfileRequest():
            return _decide_named(profile, request, ChangeProfileRule, "change_profile")
        case MountRequest():
            return _decide_named(profile, request, MountRule, request.operation)
        case UsernsRequest():
            return _decide_named(profile, request, UsernsRule, request.perm)
        case IoUringRequest():
            return _decide_named(profile, request, IoUringRule, request.perm)
        case MqueueRequest():
            return _decide_named(profile, request, MqueueRule, request.perm)
    raise TypeError(f"no decision procedure for {type(request).__name__}")
