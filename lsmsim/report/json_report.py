"""The JSON result of DESIGN §3."""
from __future__ import annotations

import json

from ..verify.result import CheckResult, Denial
from .audit import audit_line


def denial_to_json(denial: Denial) -> dict:
    return {
        "rule": denial.rule.to_json() if denial.rule else None,
        "access": denial.access.to_json(),
        "denied_by": denial.denied_by,
        "audit": audit_line(denial.access, denial.denied_by),
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
                  "profile_pairs": len(result.pairs)},
    }


def result_to_json(result: CheckResult) -> str:
    return json.dumps(result_to_dict(result), indent=2) + "\n"
