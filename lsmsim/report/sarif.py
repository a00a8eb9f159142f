"""SARIF 2.1.0, so CI systems can annotate the child policy's lines."""
from __future__ import annotations

import json

from ..verify.result import CheckResult
from .json_report import denial_audit_lines
from .text import describe_access

_RULES = [
    {"id": "LSM001", "name": "ExpansionBeyondParent",
     "shortDescription": {"text": "Child rule grants access the parent policy denies"}},
    {"id": "LSM002", "name": "Undecided",
     "shortDescription": {"text": "Containment of this rule could not be proven"}},
]


def _location(source) -> list[dict]:
    if source is None:
        return []
    return [{"physicalLocation": {"artifactLocation": {"uri": source.file},
                                  "region": {"startLine": source.line,
                                             "startColumn": source.column,
                                             "snippet": {"text": source.text}}}}]


def sarif_results(result: CheckResult, context: str = "") -> list[dict]:
    """One SARIF result per denial and per undecided rule; ``context`` prefixes each
    message (a stack names the layer pair)."""
    results = []
    for denial in result.denials:
        results.append({
            "ruleId": "LSM001", "level": "error",
            "message": {"text": f"{context}{describe_access(denial.access)} is allowed by "
                                f"{denial.child_profile} but denied by {denial.denied_by}: "
                                f"{' '.join(denial_audit_lines(denial))}"},
            "locations": _location(denial.rule)})
    for item in result.undecided:
        results.append({"ruleId": "LSM002", "level": "warning",
                        "message": {"text": f"{context}{item.reason}"},
                        "locations": _location(item.rule)})
    return results


def sarif_log(results: list[dict]) -> str:
    """A SARIF 2.1.0 log of one lsmsim run."""
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "lsmsim", "rules": _RULES}},
                  "results": results}],
    }
    return json.dumps(log, indent=2) + "\n"


def result_to_sarif(result: CheckResult) -> str:
    return sarif_log(sarif_results(result))
