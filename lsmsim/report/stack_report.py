"""Reports for stacks: the check grouped per layer pair, and simulated requests."""
from __future__ import annotations

import json

from ..batch.pairs import pairs_of_stack
from ..stack.check import StackResult
from ..stack.simulate import DENIED, Simulation
from ..verify.result import Verdict
from .json_report import result_to_dict
from .sarif import pairs_to_sarif
from .text import result_to_text


def _title(pair) -> str:
    return f"{pair.child} within {pair.ancestor} ({pair.relation})"


def stack_to_text(result: StackResult) -> str:
    compared = result.checked
    counts = {v: sum(p.result.verdict is v for p in compared) for v in Verdict}
    lines = [f"{result.verdict.value}: stack {result.stack} ({result.file}): "
             f"{len(compared)} layer pair(s) checked, {counts[Verdict.CONTAINED]} contained, "
             f"{counts[Verdict.EXPANSIONS]} with expansions, {counts[Verdict.UNDECIDED]} "
             "undecided"]
    for pair in result.pairs:
        lines.append("")
        lines.append(f"== {_title(pair)}")
        if pair.result is None:
            lines.append(f"not compared: {pair.note}")
            continue
        if pair.note:
            lines.append(f"assuming {pair.note}")
        lines.append(result_to_text(pair.result).rstrip("\n"))
    return "\n".join(lines) + "\n"


def stack_to_dict(result: StackResult) -> dict:
    return {
        "verdict": result.verdict.value,
        "stack": {"name": result.stack, "file": result.file},
        "pairs": [{"ancestor_layer": p.ancestor, "child_layer": p.child, "relation": p.relation,
                   **(result_to_dict(p.result) if p.result else {"verdict": None,
                                                                  "note": p.note}),
                   **({"assumption": p.note} if p.result and p.note else {})}
                  for p in result.pairs],
        "stats": {"queries": sum(p.result.queries for p in result.checked),
                  "seconds": round(sum(p.result.seconds for p in result.checked), 4)},
    }


def stack_to_json(result: StackResult) -> str:
    return json.dumps(stack_to_dict(result), indent=2) + "\n"


def stack_to_sarif(result: StackResult) -> str:
    return pairs_to_sarif(pairs_of_stack(result))


STACK_FORMATS = {"text": stack_to_text, "json": stack_to_json, "sarif": stack_to_sarif}


def simulation_to_text(simulation: Simulation) -> str:
    after = f" after exec of {', '.join(simulation.execs)}" if simulation.execs else ""
    first = simulation.denied_by
    verdict = f"denied by layer {first.layer}" if first else "allowed by every layer"
    lines = [f"{simulation.request} from layer {simulation.layer}{after}: {verdict}"]
    for decision in simulation.decisions:
        seen = f" as {', '.join(decision.seen)}" if decision.seen and \
            decision.seen != (simulation.request,) else ""
        why = f" ({decision.reason})" if decision.reason else ""
        lines.append(f"  {decision.layer:<12} {decision.lsm:<8} {decision.subject}: "
                     f"{decision.status}{seen}{why}")
        if decision.status == DENIED:
            lines.extend(f"  {'':<12} audit: {line}" for line in decision.audit)
    return "\n".join(lines) + "\n"


def simulations_to_json(simulations: list[Simulation]) -> str:
    if len(simulations) == 1:
        return json.dumps(simulations[0].to_json(), indent=2) + "\n"
    return json.dumps([s.to_json() for s in simulations], indent=2) + "\n"
