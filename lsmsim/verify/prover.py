"""Bounded Z3 queries: every answer is sat (with a model), unsat, or unknown."""
from __future__ import annotations

import time
from dataclasses import dataclass

from ..interrupt import apply_solver_settings
from ..lazy import z3

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
        solver.add(*constraints)
        return self._answer(solver, prefer)

    def session(self, *base: z3.BoolRef) -> "Session":
        """A solver holding ``base`` for a series of queries that share it."""
        return Session(self, base)

    def _answer(self, solver: z3.Solver, prefer) -> Outcome:
        """Check what ``solver`` holds; a sat answer is retried with each ``prefer``
        group pushed in turn, the first model that still exists returned."""
        solver.set("rlimit", self.rlimit)
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
        apply_solver_settings()  # a Ctrl-C setting made before Z3 was loaded
        start = time.perf_counter()
        answer = solver.check()
        self.seconds += time.perf_counter() - start
        self.queries += 1
        if answer == z3.sat:
            return Outcome("sat", solver.model())
        if answer == z3.unsat:
            return Outcome("unsat")
        return Outcome("unknown", reason=solver.reason_unknown())


class Session:
    """One solver for queries that share a base: each query is pushed onto it and
    popped after, so the base is asserted (and simplified by Z3) once. Answers are
    those of :meth:`Prover.solve` on the base plus the query."""

    def __init__(self, prover: Prover, base: tuple[z3.BoolRef, ...]):
        self.prover = prover
        self.solver = z3.Solver()
        self.solver.add(*base)

    def solve(self, *constraints: z3.BoolRef,
              prefer: tuple[tuple[z3.BoolRef, ...], ...] = ()) -> Outcome:
        solver = self.solver
        solver.push()
        try:
            solver.add(*constraints)
            return self.prover._answer(solver, prefer)
        finally:
            solver.pop()
