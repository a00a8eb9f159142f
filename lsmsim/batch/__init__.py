"""Many checks in one run: children from files and folders, worker processes, one
aggregated report (text, JSON, SARIF, JUnit XML), baselines."""
from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .targets import child_files, is_leftover

if TYPE_CHECKING:
    from .output import Run

# Reporters, worker processes (and the whole checker they run) are loaded when a run
# needs them, not at every start: a result answered from the cache needs none.
_LATER = {"default_workers": "cpus", "run_jobs": "runner", "CheckJob": "worker",
          "load_parent": "worker", "run_job": "worker", "Run": "output", "emit": "output",
          "PairReport": "pairs", "worst_exit_code": "pairs"}


def __getattr__(name: str):
    module = _LATER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


def many_children(children: list[str]) -> bool:
    """Whether ``--child`` names more than one policy: several, or a folder (a CIL
    folder is one policy)."""
    return len(children) > 1 or (Path(children[0]).is_dir()
                                 and not any(Path(children[0]).glob("*.cil")))


def check_children(children: list[str], parent: str, include=(), lsm: str | None = None,
                   child_profile: str | None = None, parent_profile: str | None = None,
                   options: dict | None = None, workers: int | None = None,
                   cache: str | None = None) -> "Run":
    """Every child file (folders expanded) within ``parent``, ``workers`` at a time;
    policies, automata and results kept in the folder ``cache`` (None: none kept)."""
    from .output import Run
    from .runner import run_jobs
    from .worker import CheckJob, load_parent
    jobs = [CheckJob(child, parent, tuple(include), lsm, child_profile, parent_profile,
                     tuple(sorted((options or {}).items())), cache)
            for child in child_files(children)]
    start = time.perf_counter()
    pairs = run_jobs(jobs, workers)
    return Run.of_pairs(pairs, time.perf_counter() - start,
                        lambda file: load_parent(file, tuple(include), lsm, cache))


__all__ = ["CheckJob", "PairReport", "Run", "check_children", "child_files", "default_workers",
           "emit", "is_leftover", "many_children", "run_job", "run_jobs", "worst_exit_code"]
