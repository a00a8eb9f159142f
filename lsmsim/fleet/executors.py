"""Where fleet pairs run: a local process pool, or a Dask cluster (an existing one by
its scheduler address, or a LocalCluster). Both yield records as pairs finish, and a
worker that dies takes only its own pair down."""
from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Iterator

from ..batch.pairs import EXIT_INTERNAL
from ..errors import UsageError
from .pairs_file import FleetPair
from .task import failed_record, run_pair

CRASHED = "the worker process died while checking this pair"


def run_local(pairs: list[FleetPair], workers: int, options: dict,
              seconds: float | None) -> Iterator[dict]:
    """A process pool of ``workers``. When a worker dies the pool breaks and every
    pair in flight fails with it; those pairs are run again one at a time, so only
    the pair that kills its worker is recorded as crashed."""
    pending = list(pairs)
    suspects: list[FleetPair] = []
    while pending or suspects:
        if suspects:
            pair = suspects.pop(0)
            with ProcessPoolExecutor(max_workers=1) as alone:
                try:
                    yield alone.submit(run_pair, pair, options, seconds).result()
                except BrokenProcessPool:
                    yield failed_record(pair, EXIT_INTERNAL, CRASHED)
            continue
        with ProcessPoolExecutor(max_workers=workers) as pool:
            running = {}
            try:
                while pending or running:
                    while pending and len(running) < 2 * workers:
                        # Taken off the list only once submitted: a pool that broke
                        # meanwhile refuses it, and the next pool runs it.
                        future = pool.submit(run_pair, pending[0], options, seconds)
                        running[future] = pending.pop(0)
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        record = future.result()  # raises while the pair is in running
                        del running[future]
                        yield record
            except BrokenProcessPool:
                suspects += list(running.values())


def run_dask(pairs: list[FleetPair], workers: int, options: dict, seconds: float | None,
             scheduler: str | None) -> Iterator[dict]:
    """Pairs as Dask tasks on the cluster at ``scheduler``, or on a LocalCluster of
    ``workers`` single-threaded worker processes. A pair whose worker dies more often
    than Dask allows is recorded as crashed."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise UsageError("--executor dask needs Dask: pip install 'lsmsim[fleet]'") from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = {client.submit(run_pair, pair, options, seconds, key=f"lsmsim-{pair.id}",
                                 pure=False): pair for pair in pairs}
        for future in as_completed(futures):
            pair = futures[future]
            try:
                yield future.result()
            except Exception as error:  # noqa: BLE001 - KilledWorker and the like
                yield failed_record(pair, EXIT_INTERNAL, f"{CRASHED} ({type(error).__name__})")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
