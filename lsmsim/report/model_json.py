"""The model as JSON, for ``lsmsim parse``."""
from __future__ import annotations

import json

from ..model.mount import MountRule
from ..model.mqueue import MqueueRule
from ..model.task_classes import IoUringRule, UsernsRule
from ..model.change_profile import ChangeProfileRule
from ..model.link import LinkRule
from ..model.policy import Policy, Profile
from ..model.requests import sorted_perms
from ..model.rules import (CapabilityRule, FileRule, IpcRule, NetworkRule, OtherRule, PtraceRule,
                           SignalRule)


def _rule(rule) -> dict:
    out: dict = {"source": rule.source.to_json() if rule.source else None,
                 "deny": rule.deny, "audit": rule.audit}
    match rule:
        case FileRule():
            out.update(kind="file", path=rule.glob.text, perms=sorted_perms(rule.perms),
                       qualifier=rule.qualifier.value, exec=str(rule.exec) if rule.exec else None)
        case CapabilityRule():
            out.update(kind="capability", names=sorted(rule.names))
        case NetworkRule():
            out.update(kind="network", family=rule.family, type=rule.sock_type,
                       protocol=rule.protocol)
        case SignalRule():
            out.update(kind="signal", perms=sorted(rule.perms), signals=sorted(rule.signals),
                       peer=rule.peer.text if rule.peer else None)
        case PtraceRule():
            out.update(kind="ptrace", perms=sorted(rule.perms),
                       peer=rule.peer.text if rule.peer else None)
        case IpcRule():
            out.update(kind=rule.kind, perms=sorted(rule.perms),
                       conditions={field: glob.text for field, glob in rule.conditions})
        case MountRule():
            out.update(kind="mount", operation=rule.operation, text=rule.text,
                       target=rule.target, entries=[_mount_entry(e) for e in rule.entries])
        case MqueueRule():
            out.update(kind="mqueue", perms=sorted(rule.perms), type=rule.queue_type,
                       name=rule.name.text if rule.name else None,
                       label=rule.label.text if rule.label else None)
        case UsernsRule():
            out.update(kind="userns", perms=sorted(rule.perms))
        case IoUringRule():
            out.update(kind="io_uring", perms=sorted(rule.perms),
                       label=rule.label.text if rule.label else None)
        case LinkRule():
            out.update(kind="link", path=rule.link.text, target=rule.target.text,
                       subset=rule.subset, qualifier=rule.qualifier.value)
        case ChangeProfileRule():
            out.update(kind="change_profile", exec=rule.exec.text if rule.exec else None,
                       target=rule.target.text, unsafe=rule.unsafe)
        case OtherRule():
            out.update(kind=rule.kind, text=rule.text)
    return out


def _mount_entry(entry) -> dict:
    def text(glob):
        return glob.text if glob is not None else None
    return {"operation": entry.operation, "mountpoint": text(entry.mountpoint),
            "source": text(entry.source),
            "fstypes": [g.text for g in entry.fstypes] if entry.fstypes is not None else None,
            "flags": str(entry.flags)}


def _profile(profile: Profile) -> dict:
    return {"name": profile.name, "mode": profile.mode.value, "flags": list(profile.flags),
            "attachment": profile.attachment.text if profile.attachment else None,
            "hat": profile.hat, "rules": [_rule(r) for r in profile.rules],
            "children": [_profile(c) for c in profile.children]}


def policy_to_json(policy: Policy) -> str:
    return json.dumps({"file": policy.file, "lsm": policy.lsm, "files_read": list(policy.files_read),
                       "profiles": [_profile(p) for p in policy.profiles]}, indent=2) + "\n"


def policy_to_text(policy: Policy) -> str:
    lines = [f"{policy.file}: {len(policy.profiles)} profile(s), {len(policy.files_read)} file(s) read"]

    def walk(profile: Profile, depth: int):
        pad = "  " * depth
        lines.append(f"{pad}profile {profile.name} ({profile.mode.value}): {len(profile.rules)} rules")
        for child in profile.children:
            walk(child, depth + 1)
    for p in policy.profiles:
        walk(p, 1)
    return "\n".join(lines) + "\n"
