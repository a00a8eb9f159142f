"""How large each expansion is, in the text report and the JSON result."""
from __future__ import annotations

from decimal import Decimal
from typing import Sequence

from ..verify.measure import DenialMeasure

EXACT_BELOW = 10 ** 6


def format_count(count: int) -> str:
    """Exact with thousands separators below a million, else like ``2.3e+598``."""
    if count < EXACT_BELOW:
        return f"{count:,}"
    return format(Decimal(count), ".1e").lower()


def measure_lines(measure: DenialMeasure | None) -> list[str]:
    """The lines a denial's measure adds to the text report."""
    if measure is None:
        return []
    if measure.paths is None:
        return [f"    expansion:    not counted ({measure.reason})"]
    total = format_count(measure.paths)
    size = f"{total} canonical path(s) of at most {measure.length} bytes"
    # Per letter only where a letter's count reads differently from the total.
    if any(format_count(n) != total for _, n in measure.by_perm):
        size += " (" + ", ".join(f"{letter} {format_count(n)}"
                                 for letter, n in measure.by_perm) + ")"
    lines = [f"    expansion:    {size}"]
    exposure = measure.listing
    if exposure is not None:
        named = ", ".join(exposure.examples)
        more = ", ..." if exposure.count > len(exposure.examples) else ""
        lines.append(f"    listed:       {exposure.count:,} of {exposure.listed:,} paths in "
                     f"{exposure.listing}" + (f": {named}{more}" if named else ""))
    return lines


def measure_to_json(measure: DenialMeasure) -> dict:
    """A denial's measure as JSON: counts as strings of decimal digits (they exceed
    what JSON numbers carry exactly), null where not counted."""
    out: dict = {"paths": None if measure.paths is None else str(measure.paths),
                 "length": measure.length}
    if measure.paths is None:
        out["reason"] = measure.reason
    if measure.by_perm:
        out["by_perm"] = {letter: str(n) for letter, n in measure.by_perm}
    if measure.listing is not None:
        exposure = measure.listing
        out["listing"] = {"file": exposure.listing, "listed": exposure.listed,
                          "count": exposure.count, "examples": list(exposure.examples)}
    return out


def add_measures(document: dict, measures: Sequence[DenialMeasure | None]) -> dict:
    """Put each measure under its denial's ``measure`` key in a JSON result
    (:func:`lsmsim.report.json_report.result_to_dict`); denials not measured get none."""
    for entry, measure in zip(document.get("denials", []), measures):
        if measure is not None:
            entry["measure"] = measure_to_json(measure)
    return document
