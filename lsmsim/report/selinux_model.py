"""A SELinux model as JSON or text, for ``lsmsim parse``."""
from __future__ import annotations

import json

from ..model.selinux import AVRule, SELinuxPolicy


def _rule(rule: AVRule) -> dict:
    return {"source": rule.source.to_json() if rule.source else None, "kind": rule.kind,
            "sources": sorted(rule.sources.names), "excluded": sorted(rule.sources.excluded),
            "targets": sorted(rule.targets.names), "self": rule.targets.self_,
            "perms": {c: sorted(p) for c, p in rule.perms},
            "condition": ({"expr": str(rule.condition.expr), "branch": rule.condition.branch}
                          if rule.condition else None)}


def selinux_to_json(policy: SELinuxPolicy) -> str:
    return json.dumps({
        "file": policy.file, "lsm": policy.lsm, "mls": policy.mls,
        "classes": {c: sorted(p) for c, p in policy.classes.items()},
        "types": list(policy.types),
        "attributes": {a: sorted(m) for a, m in policy.attributes.items()},
        "aliases": dict(policy.aliases), "booleans": dict(policy.booleans),
        "typebounds": dict(policy.typebounds), "permissive": sorted(policy.permissive),
        "rules": [_rule(r) for r in policy.rules],
        "constraints": [{"source": c.source.to_json() if c.source else None, "mls": c.mls,
                         "perms": {k: sorted(p) for k, p in c.perms}, "expr": str(c.expr)}
                        for c in policy.constraints],
    }, indent=2) + "\n"


def selinux_to_text(policy: SELinuxPolicy) -> str:
    kinds: dict[str, int] = {}
    for rule in policy.rules:
        kinds[rule.kind] = kinds.get(rule.kind, 0) + 1
    rules = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no rules"
    return (f"{policy.file}: SELinux{' MLS' if policy.mls else ''} policy, "
            f"{len(policy.types)} types, {len(policy.attributes)} attributes, "
            f"{len(policy.booleans)} booleans, {rules}, {len(policy.constraints)} constraints\n")
