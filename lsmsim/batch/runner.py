"""Many checks in one run: worker processes, results in the order of the jobs, a
progress bar on a terminal."""
from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor

from tqdm import tqdm

from .cpus import default_workers
from .pairs import PairReport
from .worker import CheckJob, run_job


def _progress(total: int):
    # Only a person at a terminal wants it, and only when the run is not instant.
    return tqdm(total=total, unit="file", file=sys.stderr, delay=1.0, leave=False,
                disable=not sys.stderr.isatty())


def run_jobs(jobs: list[CheckJob], workers: int | None = None) -> list[PairReport]:
    """Every pair of every job, in job order; ``workers`` processes (default: the CPU
    count; 1 runs in this process)."""
    workers = min(workers or default_workers(), max(len(jobs), 1))
    outcomes: list[tuple[PairReport, ...]] = []
    with _progress(len(jobs)) as bar:
        if workers == 1:
            for job in jobs:
                outcomes.append(run_job(job))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for outcome in pool.map(run_job, jobs):
                    outcomes.append(outcome)
                    bar.update()
    return [pair for outcome in outcomes for pair in outcome]
