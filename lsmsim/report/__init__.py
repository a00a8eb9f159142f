"""Reporters: turn a :class:`~lsmsim.verify.result.CheckResult` into text, JSON,
SARIF or audit-log lines."""
from .audit import audit_line
from .json_report import result_to_json
from .sarif import result_to_sarif
from .text import result_to_text

FORMATS = {"text": result_to_text, "json": result_to_json, "sarif": result_to_sarif}

__all__ = ["FORMATS", "audit_line", "result_to_json", "result_to_sarif", "result_to_text"]
