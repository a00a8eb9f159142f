"""An on-disk cache of compiled AppArmor policies, as apparmor_parser keeps one.

An entry holds the model a policy file became and the automata its profiles were
compiled into (with every DFA row built so far). It is keyed by the lsmsim version,
the file and the include roots; it is used only when the sha256 of every file the
load read is unchanged and no entry was added, removed or changed in a folder an
include search looked in. A stale, unreadable or corrupt entry is ignored and
replaced, never trusted.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .automata.profile import AutomatonCache
from .cache_dir import default_directory

FORMAT = 2


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _listing(folders) -> str:
    """The entries (names, sizes, modification times) of the folders an include
    search looked in: a file added, removed or replaced there may change the policy."""
    lines = []
    for folder in folders:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            lines.append(f"{folder}\0missing")
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=True)
            except OSError:
                lines.append(f"{entry.path}\0dangling")
                continue
            if entry.is_dir():
                lines.append(f"{entry.path}/")
            else:
                lines.append(f"{entry.path}\0{info.st_size}\0{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()


@dataclass
class _Entry:
    format: int
    digests: dict[str, str | None]
    folders: tuple[str, ...]
    listing: str
    policy: object
    warnings: list
    # Profile path ("a//b") → compiled automata, by kind.
    automata: dict[tuple, object] = field(default_factory=dict)


def _profile_paths(policy) -> dict[str, object]:
    out: dict[str, object] = {}

    def walk(prefix: str, profile) -> None:
        name = f"{prefix}{profile.name}"
        out[name] = profile
        for child in profile.children:
            walk(f"{name}//", child)
    for profile in policy.profiles:
        walk("", profile)
    return out


class PolicyCache:
    """Compiled policies under ``directory`` (see the module docstring)."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory is not None else default_directory()
        self._entries: dict[int, tuple[Path, _Entry]] = {}

    def _key(self, path: Path, include: list[Path]) -> Path:
        text = "\0".join([__version__, str(FORMAT), str(path.resolve()),
                          *(str(Path(i).resolve()) for i in include)])
        return self.directory / f"{hashlib.sha256(text.encode()).hexdigest()}.pickle"

    def load(self, path: str | Path, include, loader):
        """The policy ``loader()`` would return for ``path``, from the cache when the
        entry is fresh; otherwise ``loader()``'s, then stored."""
        path, include = Path(path), [Path(i) for i in include]
        file = self._key(path, include)
        entry = self._read(file)
        if (entry is not None and entry.listing == _listing(entry.folders)
                and all(_digest(f) == d for f, d in entry.digests.items())):
            for warning in entry.warnings:
                warnings.warn(warning)
            self._entries[id(entry.policy)] = (file, entry)
            return entry.policy
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            policy = loader()
        for warning in caught:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
        read = [str(path), *getattr(policy, "files_read", ())]
        folders = tuple(getattr(policy, "folders_consulted", ()))
        entry = _Entry(FORMAT, {f: _digest(f) for f in dict.fromkeys(read)}, folders,
                       _listing(folders), policy, [w.message for w in caught])
        self._entries[id(policy)] = (file, entry)
        self._write(file, entry)
        return policy

    def automata(self, *policies) -> AutomatonCache:
        """An automaton cache seeded with what the entries of ``policies`` hold."""
        cache = AutomatonCache()
        for policy in policies:
            found = self._entries.get(id(policy))
            if found is None:
                continue
            profiles = _profile_paths(policy)
            for (kind, name, *rest), automaton in found[1].automata.items():
                profile = profiles.get(name)
                if profile is not None:
                    cache.seed(kind, profile, tuple(rest), automaton)
        return cache

    def save(self, cache: AutomatonCache, *policies) -> None:
        """Store the automata ``cache`` compiled for the profiles of ``policies``."""
        for policy in policies:
            found = self._entries.get(id(policy))
            if found is None:
                continue
            file, entry = found
            by_identity = {id(p): name for name, p in _profile_paths(policy).items()}
            exported = cache.export(by_identity)
            if exported and exported != entry.automata:
                entry.automata.update(exported)
                self._write(file, entry)

    def _read(self, file: Path) -> _Entry | None:
        try:
            with open(file, "rb") as handle:
                entry = pickle.load(handle)
        except Exception:  # noqa: BLE001 - any unreadable entry is only a miss
            return None
        return entry if isinstance(entry, _Entry) and entry.format == FORMAT else None

    def _write(self, file: Path, entry: _Entry) -> None:
        name = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                pickle.dump(entry, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(name, file)
            name = None
        except (OSError, pickle.PicklingError, RecursionError, TypeError, AttributeError):
            pass  # a cache that cannot be written only costs time
        finally:
            if name is not None:
                Path(name).unlink(missing_ok=True)
