"""Baselines: which findings of a run are new, unchanged or gone since an earlier run.

A finding's fingerprint hashes what identifies it to the person who owns the policy —
whether it is an expansion or an undecided rule, the child profile, the rule's text with
its spacing normalised, the kind of access that witnesses it and, inside a stack, the
layer pair — and nothing that moves when unrelated lines change (line numbers,
columns, the concrete witness, timings). One rule can give several findings with one
fingerprint (e.g. both halves of a file rule); they are compared as a multiset.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..errors import PolicyError, Position
from ..verify.result import Denial, Undecided

EXPANSION, UNDECIDED = "expansion", "undecided"
FINGERPRINT_KEY = "lsmsimFinding/v1"
NEW, UNCHANGED, ABSENT = "new", "unchanged", "absent"


def fingerprint(kind: str, child_profile: str, rule_text: str | None, witness: str,
                context: str = "") -> str:
    """The stable identity of one finding (hex SHA-256, first 32 digits)."""
    text = " ".join((rule_text or "(policy)").split())
    key = "\x00".join((kind, child_profile, text, witness, context))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def denial_fingerprint(denial: Denial, context: str = "") -> str:
    return fingerprint(EXPANSION, denial.child_profile, denial.rule.text if denial.rule else None,
                       denial.access.to_json()["class"], context)


def undecided_fingerprint(item: Undecided, child_profile: str, context: str = "") -> str:
    return fingerprint(UNDECIDED, child_profile, item.rule.text if item.rule else None,
                       UNDECIDED, context)


@dataclass(frozen=True)
class Finding:
    """One finding as a baseline remembers it."""

    fingerprint: str
    kind: str
    child_profile: str
    rule_text: str | None
    location: str = ""

    def describe(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.rule_text or '(policy)'} ({self.kind} in {self.child_profile})"


def findings_of_pairs(pairs) -> list[Finding]:
    """Every finding of a run's pairs (see :mod:`lsmsim.batch.pairs`), in report order."""
    out = []
    for pair in pairs:
        if pair.result is None:
            continue
        for denial in pair.result.denials:
            out.append(Finding(denial_fingerprint(denial, pair.context), EXPANSION,
                               denial.child_profile, denial.rule.text if denial.rule else None,
                               str(denial.rule) if denial.rule else pair.child_file))
        for item in pair.result.undecided:
            profile = pair.result.child.profile
            out.append(Finding(undecided_fingerprint(item, profile, pair.context), UNDECIDED,
                               profile, item.rule.text if item.rule else None,
                               str(item.rule) if item.rule else pair.child_file))
    return out


def _findings_of_json_check(check: dict, context: str) -> list[Finding]:
    out = []
    profile = (check.get("child") or {}).get("profile", "")
    for denial in check.get("denials", []):
        rule = denial.get("rule") or {}
        out.append(Finding(fingerprint(EXPANSION, denial.get("child_profile") or profile,
                                       rule.get("text"), denial["access"]["class"], context),
                           EXPANSION, denial.get("child_profile") or profile, rule.get("text")))
    for item in check.get("undecided", []):
        rule = item.get("rule") or {}
        out.append(Finding(fingerprint(UNDECIDED, profile, rule.get("text"), UNDECIDED,
                                       context), UNDECIDED, profile, rule.get("text")))
    return out


def findings_of_json(document: dict) -> list[Finding]:
    """The findings of an earlier ``--format json`` result: one check, a stack, or a run
    of many pairs."""
    if "pairs" not in document:
        return _findings_of_json_check(document, "")
    out = []
    for pair in document["pairs"]:
        context = pair.get("context") or ""
        if not context and "ancestor_layer" in pair:
            context = (f"{document['stack']['name']}: {pair['child_layer']} within "
                       f"{pair['ancestor_layer']} ({pair['relation']})")
        out += _findings_of_json_check(pair, context)
    return out


def findings_of_sarif(document: dict) -> list[Finding]:
    """The findings of an earlier ``--format sarif`` log, by their partial fingerprints
    (results a baseline already marked absent are not findings)."""
    out = []
    for run in document.get("runs", []):
        for result in run.get("results", []):
            mark = (result.get("partialFingerprints") or {}).get(FINGERPRINT_KEY)
            if mark and result.get("baselineState") != ABSENT:
                kind = EXPANSION if result.get("ruleId") == "LSM001" else UNDECIDED
                props = result.get("properties") or {}
                out.append(Finding(mark, kind, props.get("childProfile", ""),
                                   props.get("ruleText")))
    return out


def read_baseline(path: str | Path) -> list[Finding]:
    """The findings of an earlier JSON or SARIF result."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise PolicyError(f"cannot read baseline: {error.strerror}", Position(str(path), 1, 1)) \
            from None
    except json.JSONDecodeError as error:
        raise PolicyError(f"baseline is not JSON: {error.msg}",
                          Position(str(path), error.lineno, error.colno)) from None
    if not isinstance(document, dict):
        raise PolicyError("baseline is neither a lsmsim JSON result nor a SARIF log",
                          Position(str(path), 1, 1))
    if "runs" in document:
        return findings_of_sarif(document)
    if "verdict" in document:
        return findings_of_json(document)
    raise PolicyError("baseline is neither a lsmsim JSON result nor a SARIF log",
                      Position(str(path), 1, 1))


@dataclass(frozen=True)
class Comparison:
    """A run's findings against a baseline: each current finding's state, in report
    order, and the baseline's findings that no longer appear."""

    states: tuple[str, ...]
    current: tuple[Finding, ...]
    fixed: tuple[Finding, ...]

    def state_of(self) -> dict[str, list[str]]:
        """Fingerprint → the states of its occurrences, in report order."""
        out: dict[str, list[str]] = {}
        for finding, state in zip(self.current, self.states):
            out.setdefault(finding.fingerprint, []).append(state)
        return out

    @property
    def new(self) -> tuple[Finding, ...]:
        return tuple(f for f, s in zip(self.current, self.states) if s == NEW)

    @property
    def exit_code(self) -> int:
        """1 for a new expansion, else 3 for a new undecided rule, else 0."""
        kinds = {f.kind for f in self.new}
        return 1 if EXPANSION in kinds else 3 if UNDECIDED in kinds else 0


def compare(current: list[Finding], baseline: list[Finding]) -> Comparison:
    """Match findings by fingerprint, as many times as the baseline holds each."""
    remaining = Counter(f.fingerprint for f in baseline)
    states = []
    for finding in current:
        if remaining[finding.fingerprint] > 0:
            remaining[finding.fingerprint] -= 1
            states.append(UNCHANGED)
        else:
            states.append(NEW)
    fixed = []
    for finding in baseline:
        if remaining[finding.fingerprint] > 0:
            remaining[finding.fingerprint] -= 1
            fixed.append(finding)
    return Comparison(tuple(states), tuple(current), tuple(fixed))
