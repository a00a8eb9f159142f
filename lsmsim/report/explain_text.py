"""The explanation of a verdict for people at a terminal: the check's report with
the closest parent rules under each denial, then every child rule with the parent
rules that cover its permissions."""
from __future__ import annotations

from ..model.source import Source
from ..verify.explain import (COVERED, EXPANDED, DenialExplanation, Explanation,
                              PairExplanation, PermissionCover, RuleExplanation)
from ..verify.explain_stack import StackExplanation
from .text import result_to_text

# Parent rules listed per permission group; JSON lists them all.
MAX_LISTED = 8


def _where(source: Source) -> str:
    return f"{source}: {source.text}"


def denial_lines(explained: DenialExplanation) -> list[str]:
    """The lines shown under one denial: the closest parent rules, or why none."""
    if not explained.closest:
        return [f"    closest:      {explained.note}"]
    lines = []
    for index, near in enumerate(explained.closest[:MAX_LISTED]):
        what = [f"{word} {_joined(items)}" for word, items in
                (("grants", near.grants), ("lacks", near.lacks), ("denies", near.removes))
                if items]
        if near.exec:
            what.append(f"exec {near.exec}")
        label = "closest:" if index == 0 else ""
        lines.append(f"    {label:<13} {_where(near.rule)} ({'; '.join(what)})")
    if len(explained.closest) > MAX_LISTED:
        lines.append(f"    {'':<13} ... and {len(explained.closest) - MAX_LISTED} more")
    return lines


def _letters(items) -> bool:
    return all(len(item) == 1 for item in items)


def _joined(items) -> str:
    """File letters run together (``rwk``), other permissions listed."""
    return "".join(items) if _letters(items) else ", ".join(items)


def _group_label(covers: list[PermissionCover]) -> str:
    """``rwa (other, owner)`` for file letters, ``chown, setuid`` otherwise."""
    perms = list(dict.fromkeys(c.permission for c in covers))
    halves = list(dict.fromkeys(c.half for c in covers if c.half))
    joined = _joined(perms)
    if not halves:
        return joined
    if len(covers) == len(perms) * len(halves):
        return f"{joined} ({', '.join(halves)})"
    return ", ".join(f"{c.permission} ({c.half})" for c in covers)


def rule_lines(rule: RuleExplanation) -> list[str]:
    """One child rule: its permissions grouped by status and covering rules."""
    lines = [_where(rule.rule)]
    groups: dict[tuple, list[PermissionCover]] = {}
    for cover in rule.permissions:
        groups.setdefault((cover.status, cover.covered_by), []).append(cover)
    for (status, parents), covers in groups.items():
        label = _group_label(covers)
        if status == COVERED:
            lines.append(f"    {label}: covered by")
        elif status == EXPANDED:
            lines.append(f"    {label}: EXPANDED (see the denials); where the parent "
                         "grants it, by" if parents else f"    {label}: EXPANDED, no parent "
                         "rule grants it")
        else:
            lines.append(f"    {label}: not granted (the child's own rules leave nothing)")
        lines.extend(f"        {_where(p)}" for p in parents[:MAX_LISTED])
        if len(parents) > MAX_LISTED:
            lines.append(f"        ... and {len(parents) - MAX_LISTED} more")
    if rule.denials:
        lines.append(f"    denials: {rule.denials} reported on this rule (above)")
    lines.extend(f"    note: {note}" for note in rule.notes)
    return lines


def pair_lines(pair: PairExplanation, first: bool) -> list[str]:
    covered = sum(r.covered for r in pair.rules)
    title = "" if first else f"via exec: {pair.child} within {pair.parent}: "
    lines = [f"{title}{len(pair.rules)} child rule(s), {covered} covered by the parent, "
             f"{len(pair.rules) - covered} not (or not wholly)"]
    if pair.note:
        lines.append(f"incomplete: {pair.note}")
    for rule in pair.rules:
        lines.append("")
        lines.extend(rule_lines(rule))
    return lines


def explanation_to_text(explanation: Explanation) -> str:
    """The check's report with each denial's closest parent rules, then the rules."""
    report = result_to_text(explanation.result,
                            [denial_lines(d) for d in explanation.denials]).rstrip("\n")
    lines = [report, "", "why: each child rule and the parent rules that cover it"]
    if not explanation.pairs:
        lines.append("(nothing explained: the check's budget ran out first; raise --budget)")
    for index, pair in enumerate(explanation.pairs):
        lines.append("")
        lines.extend(pair_lines(pair, index == 0))
    return "\n".join(lines) + "\n"


def stack_explanation_to_text(explained: StackExplanation) -> str:
    """The stack report, each compared pair of AppArmor layers explained."""
    from ..report.stack_report import stack_to_text
    result = explained.result
    lines = [stack_to_text(result).splitlines()[0]]
    for pair, explanation in zip(result.pairs, explained.pairs):
        lines.append("")
        lines.append(f"== {pair.child} within {pair.ancestor} ({pair.relation})")
        if pair.result is None:
            lines.append(f"not compared: {pair.note}")
        elif explanation is None:
            lines.append(result_to_text(pair.result).rstrip("\n"))
            lines.append("(not explained: only pairs of AppArmor layers are)")
        else:
            lines.append(explanation_to_text(explanation).rstrip("\n"))
    return "\n".join(lines) + "\n"
