"""The JSON result of DESIGN §3."""
from __future__ import annotations

import json

from ..verify.result import CheckResult, Denial
from .audit import audit_line


def denial_audit_lines(denial: Denial) -> tuple[str, ...]:
    """The lines the denying layer logs: its own view where it has one (a SELinux
    ancestor in a stack sees other labels), else the access as the child sees it."""
    return denial.logged or (audit_line(denial.access, denial.denied_by),)


def denial_to_json(denial: Denial) -> dict:
    lines = denial_audit_lines(denial)
    return {
        "rule": denial.rule.to_json() if denial.rule else None,
        "access": denial.access.to_json(),
        "denied_by": denial.denied_by,
        "audit": lines[0],
        "audit_lines": list(lines),
        "child_profile": denial.child_profile,
        "reason": denial.reason,
        "via": [step.to_json() for step in denial.via],
    }


def result_to_dict(result: CheckResult) -> dict:
    return {
        "verdict": result.verdict.value,
        "child": result.child.to_json(),
        "parent": result.parent.to_json(),
        "denials": [denial_to_json(d) for d in result.denials],
        "undecided": [{"rule": u.rule.to_json() if u.rule else None, "reason": u.reason}
                      for u in result.undecided],
        "warnings": list(result.warnings),
        "stats": {"queries": result.queries, "seconds": round(result.seconds, 4),
                  "product_states": result.product_states,
                  "check_seconds": round(result.elapsed, 4),
                  "profile_pairs": len(result.pairs), "from_cache": result.cached},
    }


def result_to_json(result: CheckResult) -> str:
    return json.dumps(result_to_dict(result), indent=2) + "\n"
