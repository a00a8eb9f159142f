"""The report for people at a terminal."""
from __future__ import annotations

from typing import Sequence

from ..classes import CLASSES
from ..model.requests import Request
from ..verify.result import CheckResult, Verdict
from .json_report import denial_audit_lines
from .avc import describe_selinux, is_selinux_request


def describe_access(access: Request) -> str:
    """A one-line human description of a concrete access."""
    if is_selinux_request(access):
        return describe_selinux(access)
    rule_class = CLASSES.of_request(access)
    return rule_class.describe(access) if rule_class else str(access)


def result_to_text(result: CheckResult, denial_notes: Sequence[list[str]] = ()) -> str:
    """The report; ``denial_notes[i]`` are lines shown under denial ``i`` (an explanation)."""
    child = f"{result.child.profile} ({result.child.file})"
    parent = f"{result.parent.profile} ({result.parent.file})"
    lines = []
    if result.verdict is Verdict.CONTAINED:
        lines.append(f"contained: {child} is proven within {parent}")
    elif result.verdict is Verdict.EXPANSIONS:
        lines.append(f"expansions: {child} reaches beyond {parent}: "
                     f"{len(result.denials)} denial(s)")
    else:
        lines.append(f"undecided: could not prove {child} within {parent}")
    for index, denial in enumerate(result.denials):
        rule = denial.rule
        lines.append("")
        lines.append(f"{rule}: {rule.text}" if rule else "(implicit rule)")
        lines.append(f"    child allows: {describe_access(denial.access)}")
        lines.append(f"    denied by:    {denial.denied_by} ({denial.reason})")
        for step in denial.via:
            lines.append(f"    via exec:     {step.path} (child {step.child_mode}, "
                         f"parent {step.parent_mode})")
        lines.extend(f"    audit:        {line}" for line in denial_audit_lines(denial))
        if index < len(denial_notes):
            lines.extend(denial_notes[index])
    if result.undecided:
        lines.append("")
        for item in result.undecided:
            where = f"{item.rule}: {item.rule.text}" if item.rule else "(policy)"
            lines.append(f"undecided: {where}: {item.reason}")
    for warning in result.warnings:
        lines.append(f"warning: {warning}")
    lines.append("")
    work = [f"{result.queries} solver queries ({result.seconds:.2f} s)"]
    if result.product_states:
        work.insert(0, f"{result.product_states:,} automaton states")
    lines.append(f"{', '.join(work)}, {len(result.pairs)} profile pair(s)"
                 + (f", {result.elapsed:.2f} s in all" if result.elapsed else "")
                 + (" (the proof of an earlier run on the same files, from the cache)"
                    if result.cached else ""))
    return "\n".join(lines) + "\n"
