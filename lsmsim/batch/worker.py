"""One child file checked within one parent, in whatever process runs it. Every
failure becomes part of the report: a bad file is an input error of that pair, a bug
an internal error of that pair; neither stops the other pairs.

With a cache folder, policies and their automata come from the policy cache and each
pair's result from the result cache while the files they were read from are
unchanged (:mod:`lsmsim.cache`, :mod:`lsmsim.result_cache`): a run over a folder
redoes only the pairs whose files changed."""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace
from functools import lru_cache

from .. import api
from ..errors import LsmsimError, PolicyWarning, recorded_warnings
from ..model.policy import Policy
from .pairs import EXIT_INTERNAL, EXIT_USAGE, PairReport


@dataclass(frozen=True)
class CheckJob:
    """What to check: ``child`` within ``parent`` (a profile of each, or every
    top-level profile of the child file when none is named). ``options`` are passed
    on to :func:`lsmsim.check` (``rlimit``, ``booleans``, …); ``cache`` is the cache
    folder (None: nothing is cached)."""

    child: str
    parent: str
    include: tuple[str, ...] = ()
    lsm: str | None = None
    child_profile: str | None = None
    parent_profile: str | None = None
    options: tuple[tuple[str, object], ...] = field(default=())
    cache: str | None = None


@lru_cache(maxsize=4)
def policy_cache(folder: str | None):
    """The policy cache of ``folder``, one per process: the policies it served stay
    known to it, with their automata, for every later check in the process."""
    if folder is None:
        return None
    from ..cache import PolicyCache
    return PolicyCache(folder)


@lru_cache(maxsize=8)
def load_parent(path: str, include: tuple[str, ...], lsm: str | None, cache: str | None = None):
    """A parent policy, loaded once per process (a worker checks many children within
    one parent)."""
    return api.load(path, list(include), lsm, cache=policy_cache(cache))


def _profiles(child, job: CheckJob) -> list[str | None]:
    if job.child_profile or not isinstance(child, Policy) or len(child.profiles) < 2:
        return [job.child_profile]
    return child.profile_names()


def _result(job: CheckJob, child, parent, profile: str | None):
    """The check of ``profile`` of ``child`` within ``parent``, from the result cache
    where it holds it. A policy from the policy cache repeats the warnings its load
    gave; a stored result repeats those its check gave."""
    options = dict(job.options)
    results = key = None
    if job.cache is not None:
        from ..result_cache import ResultCache, keeps_results
        if keeps_results(job.child, job.parent, job.lsm, options.get("booleans")):
            results = ResultCache(job.cache)
            # Apart from a single check's entries, which repeat the load warnings too.
            key = ResultCache.key(job.child, job.parent, job.include,
                                  {**options, "child_profile": profile,
                                   "parent_profile": job.parent_profile, "of": "batch"})
            stored = results.get(key)
            if stored is not None:
                for message in stored.warnings:
                    warnings.warn(PolicyWarning(message))
                return stored.result()
    with recorded_warnings() as caught:
        result = api.check(child, parent, profile, job.parent_profile,
                           cache=policy_cache(job.cache), **options)
    if results is not None:
        results.put(key, result, (child, parent),
                    [str(w.message) for w in caught if issubclass(w.category, PolicyWarning)],
                    reports=False)
    return result


def run_job(job: CheckJob) -> tuple[PairReport, ...]:
    """Every pair of ``job``, each with its result or its one-line error."""
    failed = PairReport(job.child, job.parent, None)
    start = time.perf_counter()
    try:
        parent = load_parent(job.parent, tuple(job.include), job.lsm, job.cache)
        child = api.load(job.child, list(job.include), job.lsm, cache=policy_cache(job.cache))
        try:
            reports = []
            for profile in _profiles(child, job):
                result = _result(job, child, parent, profile)
                reports.append(PairReport(job.child, job.parent, result,
                                          seconds=time.perf_counter() - start))
                start = time.perf_counter()
            return tuple(reports)
        finally:
            if job.cache is not None:
                policy_cache(job.cache).forget(child)
    except LsmsimError as error:
        message = str(error) if getattr(error, "position", None) else f"{job.child}: {error}"
        return (replace(failed, error=message, error_code=EXIT_USAGE),)
    except RecursionError:
        return (replace(failed, error=f"{job.child}: policy nests too deeply to analyse",
                        error_code=EXIT_USAGE),)
    except Exception as error:  # noqa: BLE001 - one pair's bug must not stop the run
        return (replace(failed, error=f"{job.child}: internal error ({type(error).__name__}: "
                                      f"{error})", error_code=EXIT_INTERNAL),)
