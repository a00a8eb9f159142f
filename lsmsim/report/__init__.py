"""Reporters: turn a :class:`~lsmsim.verify.result.CheckResult` into text, JSON,
SARIF or audit-log lines.

The reporters are imported on first use: a start that only needs one format (or a
result from the cache) does not pay for the others.
"""
from __future__ import annotations

import importlib

# The formats of one check's report (``lsmsim check --format``; JUnit is a run's).
FORMAT_NAMES = ("text", "json", "sarif")

_EXPORTS = {"audit_line": "audit", "result_to_json": "json_report",
            "result_to_sarif": "sarif", "result_to_text": "text"}


def __getattr__(name: str):
    if name == "FORMATS":
        return {"text": __getattr__("result_to_text"), "json": __getattr__("result_to_json"),
                "sarif": __getattr__("result_to_sarif")}
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = ["FORMATS", "FORMAT_NAMES", "audit_line", "result_to_json", "result_to_sarif",
           "result_to_text"]
