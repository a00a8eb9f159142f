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
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .automata.profile import AutomatonCache
from .cache_dir import (code_fingerprint, default_directory, file_digest, folder_listing,
                        read_entry, write_entry)
from .errors import recorded_warnings

FORMAT = 3


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


def profile_paths(policy) -> dict[str, object]:
    """Every profile of ``policy``, hats and children included, by its path ``a//b``."""
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
        self._unsaved: set[int] = set()  # loaded, not found in the cache, not yet written

    def _key(self, path: Path, include: list[Path]) -> Path:
        text = "\0".join([__version__, code_fingerprint(), str(FORMAT), str(path.resolve()),
                          *(str(Path(i).resolve()) for i in include)])
        return self.directory / f"{hashlib.sha256(text.encode()).hexdigest()}.pickle"

    def load(self, path: str | Path, include, loader):
        """The policy ``loader()`` would return for ``path``, from the cache when the
        entry is fresh; otherwise ``loader()``'s, stored by :meth:`save`."""
        path, include = Path(path), [Path(i) for i in include]
        file = self._key(path, include)
        entry = self._read(file)
        if (entry is not None and entry.listing == folder_listing(entry.folders)
                and all(file_digest(f) == d for f, d in entry.digests.items())):
            for warning in entry.warnings:
                warnings.warn(warning)
            self._entries[id(entry.policy)] = (file, entry)
            return entry.policy
        with recorded_warnings() as caught:
            policy = loader()
        read = [str(path), *getattr(policy, "files_read", ())]
        folders = tuple(getattr(policy, "folders_consulted", ()))
        entry = _Entry(FORMAT, {f: file_digest(f) for f in dict.fromkeys(read)}, folders,
                       folder_listing(folders), policy, [w.message for w in caught])
        # Written by save(), with the automata the check compiles: pickled once.
        self._entries[id(policy)] = (file, entry)
        self._unsaved.add(id(policy))
        return policy

    def automata(self, *policies) -> AutomatonCache:
        """An automaton cache seeded with what the entries of ``policies`` hold."""
        cache = AutomatonCache()
        for policy in policies:
            found = self._entries.get(id(policy))
            if found is None:
                continue
            profiles = profile_paths(policy)
            for (kind, name, *rest), automaton in found[1].automata.items():
                profile = profiles.get(name)
                if profile is not None:
                    cache.seed(kind, profile, tuple(rest), automaton)
        return cache

    def save(self, cache: AutomatonCache | None, *policies) -> None:
        """Store ``policies`` (those loaded through this cache) with the automata
        ``cache`` compiled for their profiles."""
        for policy in policies:
            found = self._entries.get(id(policy))
            if found is None:
                continue
            file, entry = found
            exported = {}
            if cache is not None:
                by_identity = {id(p): name for name, p in profile_paths(policy).items()}
                exported = cache.export(by_identity)
            if (exported and exported != entry.automata) or id(policy) in self._unsaved:
                entry.automata.update(exported)
                self._write(file, entry)
                self._unsaved.discard(id(policy))

    def forget(self, *policies) -> None:
        """Let go of ``policies``: a run over many children keeps only its parents."""
        for policy in policies:
            self._entries.pop(id(policy), None)
            self._unsaved.discard(id(policy))

    def _read(self, file: Path) -> _Entry | None:
        entry = read_entry(file)
        return entry if isinstance(entry, _Entry) and entry.format == FORMAT else None

    def _write(self, file: Path, entry: _Entry) -> None:
        write_entry(file, entry)
