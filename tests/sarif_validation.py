"""Validation of SARIF logs against the official SARIF 2.1.0 schema (OASIS, errata 01),
vendored in tests/schemas/, plus what code scanning needs beyond the schema."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"


@lru_cache(maxsize=1)
def _validator():
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def assert_valid_sarif(text: str) -> dict:
    """The parsed log, after checking it against the schema and code scanning's
    expectations: rules with help and helpUri, every result at a region of a file."""
    log = json.loads(text)
    errors = sorted(_validator().iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    for run in log["runs"]:
        rules = run["tool"]["driver"]["rules"]
        for rule in rules:
            assert rule["shortDescription"]["text"] and rule["help"]["text"]
            assert rule["helpUri"].startswith("https://")
        for result in run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            if result.get("baselineState") == "absent":
                continue
            (location,) = result["locations"]
            physical = location["physicalLocation"]
            assert physical["artifactLocation"]["uri"]
            assert physical["region"]["startLine"] >= 1
    return log
