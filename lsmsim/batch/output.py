"""The report of a check run in the format asked for, compared with a baseline when
one is given, and the exit code that goes with it."""
from __future__ import annotations

import json
from dataclasses import replace

from typing import TYPE_CHECKING

from ..report.json_report import result_to_dict
from ..report.text import result_to_text
from .write import write_report
from .pairs import (EXIT_INTERNAL, EXIT_USAGE, pairs_of_check, pairs_of_stack, run_verdict,
                    worst_exit_code)

if TYPE_CHECKING:
    from ..report.baseline import Comparison

# Stack, SARIF, JUnit and baseline reporters are imported where a run asks for them:
# a check's start (and a result from the cache) should not pay for every format.


def pairs_to_dict(pairs, seconds: float | None = None) -> dict:
    """The JSON of a run of many pairs: the worst verdict and one entry per pair
    (the DESIGN §3 keys, plus ``child_file``/``parent_file`` and ``error``)."""
    entries = []
    for pair in pairs:
        entry = {"child_file": pair.child_file, "parent_file": pair.parent_file,
                 "context": pair.context, "exit_code": pair.exit_code}
        if pair.result is not None:
            entry.update(result_to_dict(pair.result))
        else:
            entry.update({"verdict": "error", "error": pair.error})
        entries.append(entry)
    checked = [p.result for p in pairs if p.result is not None]
    return {"verdict": run_verdict(pairs), "exit_code": worst_exit_code(p.exit_code
                                                                         for p in pairs),
            "pairs": entries,
            "stats": {"pairs": len(pairs), "queries": sum(r.queries for r in checked),
                      "seconds": round(sum(r.seconds for r in checked), 4),
                      **({"wall_seconds": round(seconds, 3)} if seconds is not None else {})}}


def pairs_to_text(pairs, seconds: float | None = None) -> str:
    counts = {}
    for pair in pairs:
        counts[pair.verdict] = counts.get(pair.verdict, 0) + 1
    summary = ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))
    lines = [f"{run_verdict(pairs)}: {len(pairs)} pair(s): {summary}"]
    for pair in pairs:
        lines.append("")
        lines.append(f"== {pair.title}")
        lines.append(f"error: {pair.error}" if pair.result is None
                     else result_to_text(pair.result).rstrip("\n"))
    if seconds is not None:
        lines.append("")
        lines.append(f"{len(pairs)} pair(s) in {seconds:.2f} s")
    return "\n".join(lines) + "\n"


def _check_dicts(document: dict) -> list[dict]:
    """The per-pair parts of a JSON document, in the order findings are listed."""
    if "pairs" not in document:
        return [document]
    return [entry for entry in document["pairs"] if entry.get("verdict") not in (None, "error")]


def annotate_json(document: dict, pairs, comparison: Comparison | None) -> dict:
    """Add each finding's fingerprint (and, against a baseline, its state and the
    fixed findings) to a JSON document of ``pairs``."""
    from ..report.baseline import findings_of_pairs
    findings = iter(findings_of_pairs(pairs))
    states = iter(comparison.states) if comparison else None
    for check in _check_dicts(document):
        for item in [*check.get("denials", []), *check.get("undecided", [])]:
            item["fingerprint"] = next(findings).fingerprint
            if states is not None:
                item["baseline_state"] = next(states)
    if comparison is not None:
        document["baseline"] = {
            "new": len(comparison.new),
            "unchanged": comparison.states.count("unchanged"),
            "fixed": [{"fingerprint": f.fingerprint, "kind": f.kind,
                       "child_profile": f.child_profile, "rule": f.rule_text}
                      for f in comparison.fixed]}
    return document


def _baseline_text(comparison: Comparison) -> str:
    lines = ["", f"baseline: {len(comparison.new)} new, "
                 f"{comparison.states.count('unchanged')} unchanged, "
                 f"{len(comparison.fixed)} fixed"]
    lines += [f"  new:   {f.describe()}" for f in comparison.new]
    lines += [f"  fixed: {f.describe()}" for f in comparison.fixed]
    return "\n".join(lines) + "\n"


class Run:
    """A check run's pairs, with what the single-pair and stack formats need: ``text``
    and ``document`` make the text report and the JSON document of the run (a single
    check and a stack keep the shapes of DESIGN §3 and of the stack report)."""

    def __init__(self, pairs, text, document, with_related=None):
        self.pairs = tuple(pairs)
        self._text = text
        self._document = document
        # The pairs with the parents' closest rules: only SARIF shows them, and finding
        # them costs a simulation per denial.
        self._with_related = with_related or (lambda: self.pairs)

    @classmethod
    def of_check(cls, result, parent=None) -> "Run":
        return cls(pairs_of_check(result), lambda: result_to_text(result),
                   lambda: result_to_dict(result), lambda: pairs_of_check(result, parent))

    @classmethod
    def of_stack(cls, result, stack=None) -> "Run":
        from ..report.stack_report import STACK_FORMATS, stack_to_dict
        return cls(pairs_of_stack(result), lambda: STACK_FORMATS["text"](result),
                   lambda: stack_to_dict(result), lambda: pairs_of_stack(result, stack))

    @classmethod
    def of_pairs(cls, pairs, seconds: float | None = None, load_parent=None) -> "Run":
        """``load_parent(file)`` gives the parent policy of a pair, for SARIF."""
        def with_related():
            from ..report.related import related_for
            return [replace(p, related=related_for(p.result, load_parent(p.parent_file)))
                    if p.result is not None and load_parent else p for p in pairs]
        return cls(pairs, lambda: pairs_to_text(pairs, seconds),
                   lambda: pairs_to_dict(pairs, seconds), with_related)

    def render(self, fmt: str, comparison: Comparison | None = None) -> str:
        if fmt == "sarif":
            from ..report.sarif import pairs_to_sarif
            return pairs_to_sarif(self._with_related(), comparison)
        if fmt == "junit":
            from ..report.junit import pairs_to_junit
            return pairs_to_junit(self.pairs)
        if fmt == "json":
            return json.dumps(annotate_json(self._document(), self.pairs, comparison),
                              indent=2) + "\n"
        return self._text() + (_baseline_text(comparison) if comparison else "")

    def exit_code(self, comparison: Comparison | None = None) -> int:
        """The worst pair's code; against a baseline only new findings count (an
        error of a pair still does)."""
        codes = [p.exit_code for p in self.pairs]
        if comparison is None:
            return worst_exit_code(codes)
        errors = [code for code in codes if code in (EXIT_USAGE, EXIT_INTERNAL)]
        return worst_exit_code([comparison.exit_code, *errors])


def emit(run: Run, fmt: str, output: str | None, baseline: str | None = None,
         write_baseline: str | None = None) -> int:
    """Write the report (to ``output`` or standard output) and return the exit code."""
    comparison = None
    if baseline:
        from ..report.baseline import compare, findings_of_pairs, read_baseline
        comparison = compare(findings_of_pairs(run.pairs), read_baseline(baseline))
    text = run.render(fmt, comparison)
    if write_baseline:
        with open(write_baseline, "w", encoding="utf-8") as handle:
            handle.write(run.render("json"))
    write_report(text, output)
    return run.exit_code(comparison)

