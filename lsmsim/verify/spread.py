"""One pair's checks spread over forked processes, with the answer of a run in turn.

The per-class checks of a pair of profiles are independent, except where they read
what one of them computed into ``ctx.shared`` (the file and the link checks read one
path product): a check names that with a ``shares`` attribute, and checks that share
run in one process. Each process gets the budget the pair had left when it started;
the findings come back in the order of the checks, so the merged result is the one a
run in turn gives, provided the budget would have let each check finish in turn.
That holds when all the checks together spent less than the pair had left: then,
whatever ran before it, each check had in turn more than it spent, and a search that
is not cut explores the same states under any budget. Otherwise :func:`run_spread`
gives up and the pair is checked again in turn, so the budget cuts where it always
does.

Forking is used only where it is safe and pays: more than one process allowed (the
command line allows one per CPU; the API runs in turn unless told), the automaton
engine (no solver state crosses the fork), Linux, the main thread.
"""
from __future__ import annotations

import dataclasses
import io
import os
import pickle
import signal
import sys
import threading
import traceback
import warnings
from typing import Callable, Iterable, Iterator

from .context import Budget, CheckContext, Stats

ClassCheck = Callable[[CheckContext], Iterator[object]]


class WorkerFailed(RuntimeError):
    """A worker process raised: its traceback, as text."""


def can_spread(jobs: int, engine: str) -> bool:
    """Are a pair's checks worth and safe to spread over processes, ``jobs`` of them
    allowed? Only from the main thread: a fork copies no other thread, nor what it
    was doing."""
    return jobs > 1 and engine == "automata" and hasattr(os, "fork") and \
        sys.platform.startswith("linux") and \
        threading.current_thread() is threading.main_thread()


def check_groups(checks: Iterable[ClassCheck]) -> list[list[int]]:
    """The indices of ``checks`` in groups that must run in one process (those naming
    the same ``shares``), in the order of their first check."""
    groups: dict[object, list[int]] = {}
    for index, check in enumerate(checks):
        groups.setdefault(getattr(check, "shares", None) or check, []).append(index)
    return list(groups.values())


def run_spread(ctx: CheckContext, checks: tuple[ClassCheck, ...]) -> list[list[object]] | None:
    """Each check's findings, run in two processes; None where a run in turn could
    differ (the budget was nearly spent), and ``ctx`` is then as it was."""
    groups = check_groups(checks)
    if ctx.budget.remaining <= 0 or len(groups) < 2:
        return None
    # This process takes the first group: the path product, whose automata stay here
    # for the cache. It outweighs all the other classes together (lxc-default: 0.33 s
    # against 0.25 s), so one worker takes the rest: more would only cost their forks.
    shares = [groups[0], [index for group in groups[1:] for index in group]]
    before = (ctx.budget.states, ctx.stats.product_states, ctx.prover.queries)
    workers = [_fork(ctx, checks, share) for share in shares[1:]]
    try:
        findings: dict[int, list[object]] = {i: list(checks[i](ctx)) for i in shares[0]}
        for worker in workers:
            found, spent = _collect(ctx, *worker)
            findings.update(found)
            ctx.budget.spend(spent)
    finally:
        for pid, _ in workers:
            _reap(pid)
    if ctx.budget.remaining <= 0:
        ctx.budget.states, ctx.stats.product_states, ctx.prover.queries = before
        ctx.shared.clear()
        return None
    return [findings[i] for i in range(len(checks))]


def _fork(ctx: CheckContext, checks: tuple[ClassCheck, ...], share: list[int]
          ) -> tuple[int, int]:
    read, write = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12 warns of a fork beside other threads; the command line's only
        # other thread waits on Ctrl-C, holding nothing the worker needs.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid:
        os.close(write)
        return pid, read
    # The worker: run its checks, send what they found, and leave without running
    # anything the parent process registered to run at exit.
    try:
        os.close(read)
        shared = _shared_objects(ctx)
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it outright
            signal.set_wakeup_fd(-1)
            queries = ctx.prover.queries
            budget = Budget(ctx.budget.total, ctx.budget.prover, ctx.budget.states)
            # The pair's context but its own budget, counters and shared results.
            mine = dataclasses.replace(ctx, budget=budget, stats=Stats(), shared={})
            found = {i: list(checks[i](mine)) for i in share}
            message = ("done", found, budget.states - ctx.budget.states,
                       mine.stats.product_states, ctx.prover.queries - queries)
        except BaseException:
            message = ("failed", traceback.format_exc())
        with os.fdopen(write, "wb") as out:
            _Pickler(out, shared).dump(message)
    finally:
        os._exit(0)


def _collect(ctx: CheckContext, pid: int, read: int) -> tuple[dict, int]:
    """The worker's findings by check and the budget it spent; its states and queries
    are added to ``ctx``. (What it compiled stays there: a later check compiles it
    again, cheaply, since the large automata, the path product's, are built here.)"""
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        raise WorkerFailed(f"a worker process ended without an answer (status {status})")
    message = _Unpickler(io.BytesIO(data), _shared_objects(ctx)).load()
    if message[0] == "failed":
        raise WorkerFailed(message[1])
    _, found, spent, states, queries = message
    ctx.stats.product_states += states
    ctx.prover.queries += queries
    return found, spent


def _reap(pid: int) -> None:
    """End a worker that is still running (the check was interrupted)."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _shared_objects(ctx: CheckContext) -> dict[int, object]:
    """The pair's policies and every profile in them, by identity. A forked process
    keeps each object where it was, so what a worker sends back names these by
    identity and gets the parent process's own objects: a pair to follow holds the
    profiles themselves, and the check goes on with them."""
    from ..cache import profile_paths
    pair = ctx.pair
    objects = [pair.child_policy, pair.parent_policy,
               *(p for policy in (pair.child_policy, pair.parent_policy)
                 for p in profile_paths(policy).values())]
    return {id(o): o for o in objects}


_ABSENT = object()  # not None: None is pickled as itself


class _Pickler(pickle.Pickler):
    def __init__(self, file, shared: dict[int, object]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.shared = shared

    def persistent_id(self, obj):
        return id(obj) if self.shared.get(id(obj), _ABSENT) is obj else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, shared: dict[int, object]):
        super().__init__(file)
        self.shared = shared

    def persistent_load(self, pid):
        return self.shared[pid]
