"""Bounded Z3 queries: every answer is sat (with a model), unsat, or unknown."""
from __future__ import annotations

import time
from dataclasses import dataclass

import z3

DEFAULT_RLIMIT = 20_000_000


@dataclass
class Outcome:
    status: str  # "sat" | "unsat" | "unknown"
    model: z3.ModelRef | None = None
    reason: str = ""


class Prover:
    """Runs satisfiability queries under a deterministic resource limit and keeps
    count of queries and time spent."""

    def __init__(self, rlimit: int = DEFAULT_RLIMIT):
        self.rlimit = rlimit
        self.queries = 0
        self.seconds = 0.0

    def solve(self, *constraints: z3.BoolRef,
              prefer: tuple[tuple[z3.BoolRef, ...], ...] = ()) -> Outcome:
        """Is the conjunction satisfiable? A sat answer is retried with each group of
        ``prefer`` constraints in turn (best first); the first model that still
        exists is returned, so witnesses read well without weakening the proof."""
        solver = z3.Solver()
        solver.set("rlimit", self.rlimit)
        solver.add(*constraints)
        outcome = self._check(solver)
        if outcome.status != "sat":
            return outcome
        # Nicer witnesses are optional: they get a small share of the budget.
        solver.set("rlimit", max(1, self.rlimit // 20))
        for extra in prefer:
            solver.push()
            solver.add(*extra)
            nicer = self._check(solver)
            solver.pop()
            if nicer.status == "sat":
                return nicer
        return outcome

    def _check(self, solver: z3.Solver) -> Outcome:
        start = time.perf_counter()
        answer = solver.check()
        self.seconds += time.perf_counter() - start
        self.queries += 1
        if answer == z3.sat:
            return Outcome("sat", solver.model())
        if answer == z3.unsat:
            return Outcome("unsat")
        return Outcome("unknown", reason=solver.reason_unknown())
