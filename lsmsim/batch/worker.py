"""One child file checked within one parent, in whatever process runs it. Every
failure becomes part of the report: a bad file is an input error of that pair, a bug
an internal error of that pair; neither stops the other pairs."""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import lru_cache

from .. import api
from ..errors import LsmsimError
from ..model.policy import Policy
from .pairs import EXIT_INTERNAL, EXIT_USAGE, PairReport


@dataclass(frozen=True)
class CheckJob:
    """What to check: ``child`` within ``parent`` (a profile of each, or every
    top-level profile of the child file when none is named). ``options`` are passed
    on to :func:`lsmsim.check` (``rlimit``, ``booleans``, …)."""

    child: str
    parent: str
    include: tuple[str, ...] = ()
    lsm: str | None = None
    child_profile: str | None = None
    parent_profile: str | None = None
    options: tuple[tuple[str, object], ...] = field(default=())


@lru_cache(maxsize=8)
def load_parent(path: str, include: tuple[str, ...], lsm: str | None):
    """A parent policy, loaded once per process (a worker checks many children within
    one parent)."""
    return api.load(path, list(include), lsm)


def _profiles(child, job: CheckJob) -> list[str | None]:
    if job.child_profile or not isinstance(child, Policy) or len(child.profiles) < 2:
        return [job.child_profile]
    return child.profile_names()


def run_job(job: CheckJob) -> tuple[PairReport, ...]:
    """Every pair of ``job``, each with its result or its one-line error."""
    failed = PairReport(job.child, job.parent, None)
    start = time.perf_counter()
    try:
        parent = load_parent(job.parent, tuple(job.include), job.lsm)
        child = api.load(job.child, list(job.include), job.lsm)
        reports = []
        for profile in _profiles(child, job):
            result = api.check(child, parent, profile, job.parent_profile, **dict(job.options))
            reports.append(PairReport(job.child, job.parent, result,
                                      seconds=time.perf_counter() - start))
            start = time.perf_counter()
        return tuple(reports)
    except LsmsimError as error:
        message = str(error) if getattr(error, "position", None) else f"{job.child}: {error}"
        return (replace(failed, error=message, error_code=EXIT_USAGE),)
    except RecursionError:
        return (replace(failed, error=f"{job.child}: policy nests too deeply to analyse",
                        error_code=EXIT_USAGE),)
    except Exception as error:  # noqa: BLE001 - one pair's bug must not stop the run
        return (replace(failed, error=f"{job.child}: internal error ({type(error).__name__}: "
                                      f"{error})", error_code=EXIT_INTERNAL),)
