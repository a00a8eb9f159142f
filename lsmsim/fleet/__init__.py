"""Fleet scale: thousands of pairs from a JSONL file on a local process pool or a Dask
cluster, results streamed to a JSONL file, resumable."""
from .executors import run_dask, run_local
from .pairs_file import FleetPair, read_pairs
from .results import done_records
from .run import EXECUTORS, FleetSummary, default_results, run_fleet
from .task import run_pair

__all__ = ["EXECUTORS", "FleetPair", "FleetSummary", "default_results", "done_records",
           "read_pairs", "run_dask", "run_fleet", "run_local", "run_pair"]
