"""One fleet pair run to its record, in whatever process or Dask worker runs it.
A record is one JSON object: the pair's id and input, and the report of a check run
(:func:`lsmsim.batch.output.pairs_to_dict`) or the error that stopped it."""
from __future__ import annotations

import signal
import time
from contextlib import contextmanager

from ..batch.output import annotate_json, pairs_to_dict
from ..batch.pairs import EXIT_INTERNAL, EXIT_UNDECIDED, EXIT_USAGE, pairs_of_stack
from ..batch.worker import CheckJob, run_job
from ..errors import LsmsimError
from ..stack import check_stack, load_stack
from .pairs_file import FleetPair


class OverBudget(BaseException):
    """The pair ran past its time budget (a BaseException, so that a pair's own
    error handling does not take it for a bug)."""


class _InputError(Exception):
    """A stack that cannot be loaded."""


@contextmanager
def _deadline(seconds: float | None):
    """Raise :class:`OverBudget` in this (main) thread after ``seconds``."""
    if not seconds:
        yield
        return

    expired = []

    def expire(signum, frame):
        expired.append(True)
        raise OverBudget()
    previous = signal.signal(signal.SIGALRM, expire)
    # Raised again every 50 ms: Python drops an exception raised inside a destructor
    # (a collection that runs Z3's __del__, say), so one alarm may be lost.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
    try:
        yield
    finally:
        while True:  # an alarm may land here too: disarm until it holds
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                break
            except OverBudget:
                continue
        signal.signal(signal.SIGALRM, previous)
    if expired:  # every raise was lost, and the pair ended past its budget
        raise OverBudget()


def failed_record(pair: FleetPair, exit_code: int, error: str, seconds: float = 0.0) -> dict:
    """The record of a pair that gave no report."""
    verdict = "undecided" if exit_code == EXIT_UNDECIDED else "error"
    return {"id": pair.id, "input": pair.to_json(), "verdict": verdict, "exit_code": exit_code,
            "error": error, "pairs": [], "stats": {"pairs": 0, "wall_seconds": round(seconds, 3)}}


def _pairs_of(pair: FleetPair, options: dict):
    if pair.stack:
        try:
            return pairs_of_stack(check_stack(load_stack(pair.stack), **options))
        except LsmsimError as error:
            raise _InputError(str(error)) from None
    job = CheckJob(pair.child, pair.parent, pair.include, pair.lsm, pair.child_profile,
                   pair.parent_profile, tuple(sorted(options.items())))
    return run_job(job)


def run_pair(pair: FleetPair, options: dict | None = None,
             seconds: float | None = None) -> dict:
    """The record of ``pair``: checked with ``options`` (passed on to the check, e.g.
    ``rlimit``) within ``seconds`` of wall-clock time."""
    start = time.perf_counter()
    try:
        with _deadline(seconds):
            pairs = _pairs_of(pair, options or {})
    except OverBudget:
        return failed_record(pair, EXIT_UNDECIDED, f"over the time budget of {seconds:g} s",
                             time.perf_counter() - start)
    except _InputError as error:
        return failed_record(pair, EXIT_USAGE, str(error), time.perf_counter() - start)
    except Exception as error:  # noqa: BLE001 - one pair's bug must not stop the fleet
        return failed_record(pair, EXIT_INTERNAL,
                             f"internal error ({type(error).__name__}: {error})",
                             time.perf_counter() - start)
    report = annotate_json(pairs_to_dict(pairs, time.perf_counter() - start), pairs, None)
    return {"id": pair.id, "input": pair.to_json(), **report}
