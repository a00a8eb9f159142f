"""SARIF 2.1.0, so code scanning (GitHub, GitLab, Azure DevOps) annotates the child
policy's lines: one result per finding at the child rule, the parent rules that come
closest as related locations, stable partial fingerprints, and ``baselineState`` when
the run is compared with a baseline."""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

from .. import __version__
from ..verify.result import CheckResult
from .baseline import (ABSENT, EXPANSION, FINGERPRINT_KEY, denial_fingerprint,
                       undecided_fingerprint)
from .json_report import denial_audit_lines
from .text import describe_access

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# Where the README is published; each rule's helpUri is a section of it.
README_URI = "https://github.com/lsmsim/lsmsim/blob/main/README.md"
SRCROOT = "%SRCROOT%"

RULES = (
    {"id": "LSM001", "name": "ExpansionBeyondParent",
     "shortDescription": {"text": "Child rule grants access the parent policy denies"},
     "fullDescription": {"text": "The child policy allows an access that a policy above it "
                                 "denies. The kernel grants a task only what every layer "
                                 "allows, so the access fails at run time with the logged "
                                 "denial."},
     "help": {"text": "Narrow the child rule to what the parent allows, or widen the parent "
                      "policy. The message names a concrete access (the witness) and the line "
                      "the host would log.",
              "markdown": "Narrow the child rule to what the parent allows, or widen the "
                          "parent policy. The message names a concrete access (the witness) "
                          "and the line the host would log."},
     "helpUri": f"{README_URI}#lsm001-expansion-beyond-the-parent",
     "defaultConfiguration": {"level": "error"},
     "properties": {"tags": ["security", "lsm"]}},
    {"id": "LSM002", "name": "Undecided",
     "shortDescription": {"text": "Containment of this rule could not be proven"},
     "fullDescription": {"text": "lsmsim could neither prove the rule within the parent nor "
                                 "find an access that escapes (an unsupported construct or "
                                 "an exhausted budget)."},
     "help": {"text": "Check the rule by hand or raise the budget; an undecided rule is "
                      "never reported as contained.",
              "markdown": "Check the rule by hand or raise the budget; an undecided rule is "
                          "never reported as contained."},
     "helpUri": f"{README_URI}#lsm002-undecided",
     "defaultConfiguration": {"level": "warning"},
     "properties": {"tags": ["lsm"]}},
)
_INDEX = {rule["id"]: index for index, rule in enumerate(RULES)}


def artifact_location(path: str) -> dict:
    """A relative path stays relative to the source root (as code scanning expects);
    an absolute one becomes relative to the working folder when under it, else a
    ``file:`` URI."""
    target = Path(path)
    if target.is_absolute():
        try:
            target = target.relative_to(Path.cwd())
        except ValueError:
            return {"uri": target.as_uri()}
    return {"uri": quote(target.as_posix()), "uriBaseId": SRCROOT}


def _physical(source, fallback_file: str) -> dict:
    if source is None:
        return {"physicalLocation": {"artifactLocation": artifact_location(fallback_file),
                                     "region": {"startLine": 1}}}
    region = {"startLine": max(source.line, 1), "startColumn": max(source.column, 1)}
    if source.text:
        region["snippet"] = {"text": source.text}
    return {"physicalLocation": {"artifactLocation": artifact_location(source.file),
                                 "region": region}}


def _result(rule_id: str, message: str, source, fallback_file: str, mark: str,
            properties: dict) -> dict:
    rule = RULES[_INDEX[rule_id]]
    return {"ruleId": rule_id, "ruleIndex": _INDEX[rule_id],
            "level": rule["defaultConfiguration"]["level"],
            "message": {"text": message},
            "locations": [_physical(source, fallback_file)],
            "partialFingerprints": {FINGERPRINT_KEY: mark},
            "properties": properties}


def sarif_results(result: CheckResult, context: str = "",
                  related: tuple = ()) -> list[dict]:
    """One SARIF result per denial and per undecided rule. ``context`` names the pair
    (a stack's layer pair) in each message and fingerprint; ``related`` holds, per
    denial, the parent rules that come closest to granting it."""
    prefix = f"[{context}] " if context else ""
    results = []
    for index, denial in enumerate(result.denials):
        item = _result(
            "LSM001",
            f"{prefix}{describe_access(denial.access)} is allowed by {denial.child_profile} "
            f"but denied by {denial.denied_by} ({denial.reason}): "
            f"{' '.join(denial_audit_lines(denial))}",
            denial.rule, result.child.file, denial_fingerprint(denial, context),
            {"childProfile": denial.child_profile,
             "ruleText": denial.rule.text if denial.rule else None,
             "deniedBy": denial.denied_by, "witness": denial.access.to_json(),
             **({"pair": context} if context else {})})
        closest = related[index] if index < len(related) else ()
        if closest:
            item["relatedLocations"] = [
                {"id": number, **_physical(source, result.parent.file),
                 "message": {"text": f"closest rule of {denial.denied_by}"}}
                for number, source in enumerate(closest, 1)]
        results.append(item)
    for undecided in result.undecided:
        results.append(_result(
            "LSM002", f"{prefix}{undecided.reason}", undecided.rule, result.child.file,
            undecided_fingerprint(undecided, result.child.profile, context),
            {"childProfile": result.child.profile,
             "ruleText": undecided.rule.text if undecided.rule else None,
             **({"pair": context} if context else {})}))
    return results


def _root_uri() -> str:
    return Path(os.getcwd()).as_uri().rstrip("/") + "/"


def sarif_log(results: list[dict]) -> str:
    """A SARIF 2.1.0 log of one lsmsim run."""
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "lsmsim", "version": __version__,
                                      "semanticVersion": __version__,
                                      "informationUri": README_URI,
                                      "rules": list(RULES)}},
                  "originalUriBaseIds": {SRCROOT: {"uri": _root_uri()}},
                  "columnKind": "unicodeCodePoints",
                  "results": results}],
    }
    return json.dumps(log, indent=2) + "\n"


def pairs_to_sarif(pairs, comparison=None) -> str:
    """The log of a run of pairs (:mod:`lsmsim.batch.pairs`); with a baseline
    ``comparison``, each result carries its ``baselineState`` and the baseline's
    findings that are gone follow as ``absent``."""
    results = [item for pair in pairs if pair.result is not None
               for item in sarif_results(pair.result, pair.context, pair.related)]
    if comparison is not None:
        for item, state in zip(results, comparison.states):
            item["baselineState"] = state
        for finding in comparison.fixed:
            rule_id = "LSM001" if finding.kind == EXPANSION else "LSM002"
            results.append({"ruleId": rule_id, "ruleIndex": _INDEX[rule_id],
                            "kind": "pass", "level": "none", "baselineState": ABSENT,
                            "message": {"text": f"fixed: {finding.describe()}"},
                            "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
                            "properties": {"childProfile": finding.child_profile,
                                           "ruleText": finding.rule_text}})
    return sarif_log(results)


def result_to_sarif(result: CheckResult) -> str:
    return sarif_log(sarif_results(result))
