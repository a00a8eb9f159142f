"""``lsmsim fleet``: every pair of a pairs file, streamed to a results file as pairs
finish, skipping pairs the results file already holds."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..batch.pairs import worst_exit_code
from ..batch.cpus import default_workers
from ..errors import UsageError
from .executors import run_dask, run_local
from .pairs_file import read_pairs
from .results import ResultsWriter, done_records

EXECUTORS = ("local", "dask")


@dataclass(frozen=True)
class FleetSummary:
    """What a fleet run did: pairs in the file, pairs skipped as already done, pairs
    run now, their wall-clock time, and the verdict count over every record."""

    total: int
    skipped: int
    ran: int
    seconds: float
    verdicts: dict
    exit_code: int

    @property
    def pairs_per_second(self) -> float:
        return self.ran / self.seconds if self.seconds else 0.0

    def to_text(self, results: str) -> str:
        counts = ", ".join(f"{n} {verdict}" for verdict, n in sorted(self.verdicts.items()))
        return (f"{self.total} pair(s): {counts or 'none'}; {self.ran} run now, {self.skipped} "
                f"already done; {self.pairs_per_second:.2f} pairs/s; results in {results}\n")


def default_results(pairs_file: str | Path) -> Path:
    """``PAIRS.results.jsonl`` beside ``PAIRS.jsonl``."""
    path = Path(pairs_file)
    return path.with_name(f"{path.stem}.results.jsonl")


def run_fleet(pairs_file: str | Path, results: str | Path | None = None,
              executor: str = "local", workers: int | None = None,
              scheduler: str | None = None, options: dict | None = None,
              seconds: float | None = None) -> FleetSummary:
    """Run every pair of ``pairs_file`` not yet in ``results``; each finished pair is
    appended to ``results`` at once. ``seconds`` bounds each pair's wall-clock time
    (local executor only)."""
    if executor not in EXECUTORS:
        raise UsageError(f"unknown executor {executor!r} (choose from {', '.join(EXECUTORS)})")
    if scheduler and executor != "dask":
        raise UsageError("--scheduler applies to --executor dask")
    if seconds and executor == "dask":
        raise UsageError("--timeout applies to --executor local (on Dask, bound the work "
                         "with --rlimit)")
    pairs = read_pairs(pairs_file)
    results = Path(results) if results else default_results(pairs_file)
    done = done_records(results)
    todo = [pair for pair in pairs if pair.id not in done]
    workers = workers or default_workers()
    records = dict(done)
    start = time.perf_counter()
    stream = run_dask(todo, workers, options or {}, seconds, scheduler) \
        if executor == "dask" else run_local(todo, workers, options or {}, seconds)
    with ResultsWriter(results) as writer, \
            tqdm(total=len(todo), unit="pair", file=sys.stderr, delay=1.0, leave=False,
                 disable=not sys.stderr.isatty()) as bar:
        for record in stream:
            writer.write(record)
            records[record["id"]] = record
            bar.update()
    elapsed = time.perf_counter() - start
    wanted = [records[pair.id] for pair in pairs if pair.id in records]
    verdicts: dict[str, int] = {}
    for record in wanted:
        verdicts[record["verdict"]] = verdicts.get(record["verdict"], 0) + 1
    return FleetSummary(len(pairs), len(pairs) - len(todo), len(todo), elapsed, verdicts,
                        worst_exit_code(record["exit_code"] for record in wanted))
