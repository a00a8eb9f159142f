"""The model as JSON, for ``lsmsim parse``."""
from __future__ import annotations

import json

from ..classes import CLASSES
from ..model.policy import Policy, Profile
from ..model.rules import OtherRule


def _rule(rule) -> dict:
    out: dict = {"source": rule.source.to_json() if rule.source else None,
                 "deny": rule.deny, "audit": rule.audit}
    rule_class = CLASSES.of_rule(rule)
    if rule_class is not None:
        out.update(rule_class.rule_json(rule))
    elif isinstance(rule, OtherRule):
        out.update(kind=rule.kind, text=rule.text)
    return out


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
