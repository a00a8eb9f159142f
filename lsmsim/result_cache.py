"""Results of earlier checks, kept on disk: checking unchanged files again gives the
result the proof gave then, without redoing it.

A stored result is keyed by the lsmsim version and code, both policy files, the
include roots, the profiles and every bound of the check; it is used only while the
sha256 of every file either policy was read from is unchanged and no entry was
added, removed or changed in a folder an include search looked in (the rules of
:mod:`lsmsim.cache`). The proof is deterministic, so a stored result is the result
the check would give; a stale, unreadable or corrupt entry is ignored.

Beside the result it keeps its text and JSON reports, so that answering from the
cache needs neither the checker nor the reporters.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .cache_dir import (code_fingerprint, default_directory, file_digest, folder_listing,
                        read_entry, write_entry)

FORMAT = 2
REPORTED = ("text", "json")  # the formats kept ready (SARIF needs the parent policy)


@dataclass
class _Stored:
    format: int
    digests: dict[str, str | None]
    folders: tuple[str, ...]
    listing: str
    result: bytes  # the pickled CheckResult, read only where a report needs it
    warnings: list[str]  # what loading the policies warned of
    reports: dict[str, str]  # format → the report of the result, marked as cached
    exit_code: int


@dataclass(frozen=True)
class StoredResult:
    """A result found in the cache: its ready reports, exit code and load warnings;
    :meth:`result` gives the :class:`~lsmsim.verify.result.CheckResult` itself."""

    reports: dict[str, str]
    exit_code: int
    warnings: tuple[str, ...]
    pickled: bytes

    def result(self):
        """The stored result, marked as taken from the cache."""
        return dataclasses.replace(pickle.loads(self.pickled), cached=True)


def keeps_results(child: str, parent: str, lsm: str | None, booleans) -> bool:
    """Are results of checking ``child`` within ``parent`` kept? Only for AppArmor
    policy files: only their loads are keyed on every file they read."""
    if booleans or lsm not in (None, "apparmor"):
        return False
    from .detect import detect_lsm
    return all(os.path.isfile(p) and detect_lsm(p) == "apparmor" for p in (child, parent))


class ResultCache:
    """Check results under ``directory``/results (see the module docstring)."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory is not None else default_directory()

    def _file(self, key: tuple) -> Path:
        text = "\0".join([__version__, code_fingerprint(), str(FORMAT), *map(repr, key)])
        return self.directory / "results" / f"{hashlib.sha256(text.encode()).hexdigest()}.pickle"

    @staticmethod
    def key(child: str | Path, parent: str | Path, include, options: dict) -> tuple:
        """What a check's result depends on besides the files' contents."""
        return (str(Path(child).resolve()), str(Path(parent).resolve()),
                tuple(str(Path(i).resolve()) for i in include), sorted(options.items()))

    def get(self, key: tuple) -> StoredResult | None:
        """The stored result for ``key`` if every file it came from is unchanged;
        otherwise None."""
        stored = read_entry(self._file(key))
        if not isinstance(stored, _Stored) or stored.format != FORMAT:
            return None
        if stored.listing != folder_listing(stored.folders) or any(
                file_digest(f) != d for f, d in stored.digests.items()):
            return None
        return StoredResult(stored.reports, stored.exit_code, tuple(stored.warnings),
                            stored.result)

    def put(self, key: tuple, result, policies, warnings: list[str],
            reports: bool = True) -> None:
        """Store ``result``, the check of ``policies`` (child and parent), the
        ``warnings`` loading the policies gave and, with ``reports``, its reports (a
        run of many pairs reports none alone; a hit renders what it lacks)."""
        from .batch.output import Run
        read = [f for p in policies for f in (p.file, *getattr(p, "files_read", ()))]
        folders = tuple(dict.fromkeys(f for p in policies
                                      for f in getattr(p, "folders_consulted", ())))
        run = Run.of_check(dataclasses.replace(result, cached=True))
        write_entry(self._file(key), _Stored(
            FORMAT, {f: file_digest(f) for f in dict.fromkeys(read)}, folders,
            folder_listing(folders), pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL),
            warnings, {fmt: run.render(fmt) for fmt in REPORTED} if reports else {},
            result.exit_code))
