"""One run's checks as a flat list of pairs, whatever produced them: a single
``--child``/``--parent`` check, the layer pairs of a stack, or many children in one run."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model.source import Source
from ..verify.result import CheckResult, Verdict

if TYPE_CHECKING:
    from ..stack.check import StackResult

EXIT_CONTAINED, EXIT_EXPANSIONS, EXIT_USAGE, EXIT_UNDECIDED, EXIT_INTERNAL = 0, 1, 2, 3, 4
# How bad an exit code is for a run of many pairs: an error outranks a finding, and
# expansions outrank undecided, as they do inside one check.
_SEVERITY = {EXIT_CONTAINED: 0, EXIT_UNDECIDED: 1, EXIT_EXPANSIONS: 2, EXIT_USAGE: 3,
             EXIT_INTERNAL: 4}


def worst_exit_code(codes) -> int:
    """The exit code of a run: the worst of its pairs' (0 for no pairs)."""
    return max(codes, key=lambda code: _SEVERITY.get(code, 5), default=EXIT_CONTAINED)


@dataclass(frozen=True)
class PairReport:
    """One child checked within one parent. ``context`` names the layer pair when the
    pair comes from a stack; ``error`` holds the one-line message when the pair could
    not be checked (``error_code`` 2 for bad input, 3 for an exhausted budget, 4 for
    a bug)."""

    child_file: str
    parent_file: str
    result: CheckResult | None
    context: str = ""
    error: str | None = None
    error_code: int = EXIT_CONTAINED
    # Per denial of ``result``, the parent rules that come closest to granting it.
    related: tuple[tuple[Source, ...], ...] = ()
    # Wall-clock seconds of loading and checking, where the run measured them.
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return self.result.exit_code if self.result is not None else self.error_code

    @property
    def verdict(self) -> str:
        """``contained``, ``expansions``, ``undecided`` or ``error``."""
        return self.result.verdict.value if self.result is not None else "error"

    @property
    def title(self) -> str:
        """How reports name the pair."""
        if self.context:
            return self.context
        if self.result is None:
            return f"{self.child_file} within {self.parent_file}"
        return (f"{self.result.child.profile} ({self.child_file}) within "
                f"{self.result.parent.profile} ({self.parent_file})")


def layer_pair_title(ancestor: str, child: str, relation: str) -> str:
    """The name of a stack's layer pair in messages and fingerprints."""
    return f"{child} within {ancestor} ({relation})"


def pairs_of_check(result: CheckResult, parent: object = None) -> tuple[PairReport, ...]:
    """One pair; ``parent`` (the loaded parent policy) lets reports name its closest
    rules."""
    return (PairReport(result.child.file, result.parent.file, result,
                       related=_related(result, parent)),)


def _related(result: CheckResult, parent: object) -> tuple:
    """The parent's closest rules of each denial (what SARIF shows), found by the
    simulator: imported only where a report asks for them."""
    if parent is None:
        return tuple(() for _ in result.denials)
    from ..report.related import related_for
    return related_for(result, parent)


def pairs_of_stack(result: StackResult, stack=None) -> tuple[PairReport, ...]:
    """The compared layer pairs of a stack (pairs of different LSMs are not checks);
    with the loaded ``stack``, reports name the ancestors' closest rules."""
    return tuple(PairReport(result.file, result.file, p.result,
                            context=f"{result.stack}: "
                                    f"{layer_pair_title(p.ancestor, p.child, p.relation)}",
                            related=_related(p.result, stack.layer(p.ancestor).policy)
                            if stack is not None else ())
                 for p in result.checked)


def run_verdict(pairs) -> str:
    """The verdict of many pairs, as a stack's: expansions, else undecided, else
    contained; ``error`` when a pair could not be checked."""
    if any(p.result is None for p in pairs):
        return "error"
    verdicts = {p.result.verdict for p in pairs}
    for verdict in (Verdict.EXPANSIONS, Verdict.UNDECIDED):
        if verdict in verdicts:
            return verdict.value
    return Verdict.CONTAINED.value
