"""Where lsmsim keeps what it can compute again, and what an entry there is keyed on:
the sha256 of the files it was made from, the entries of the folders an include
search looked in, and the code that made it."""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def default_directory() -> Path:
    """``$XDG_CACHE_HOME/lsmsim`` (``~/.cache/lsmsim``), or ``$LSMSIM_CACHE_DIR``."""
    explicit = os.environ.get("LSMSIM_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lsmsim"


def file_digest(path: str) -> str | None:
    """The sha256 of a file's bytes (None: unreadable)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def folder_listing(folders) -> str:
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


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The names, sizes and modification times of lsmsim's own modules: an entry made
    by other code (an edited checkout with the same version number) is not used."""
    lines = []
    for root, folders, files in sorted(os.walk(_PACKAGE)):
        folders.sort()
        for name in sorted(files):
            if name.endswith((".py", ".lark")):
                info = os.stat(os.path.join(root, name))
                lines.append(f"{root}/{name}\0{info.st_size}\0{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()


def read_entry(file: Path):
    """The object pickled in ``file``, or None when it is missing or unreadable."""
    try:
        with open(file, "rb") as handle:
            return pickle.load(handle)
    except Exception:  # noqa: BLE001 - any unreadable entry is only a miss
        return None


def write_entry(file: Path, entry: object) -> None:
    """Pickle ``entry`` to ``file`` atomically; a cache that cannot be written only
    costs time, so failures are ignored."""
    name = None
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=file.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            pickle.dump(entry, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(name, file)
        name = None
    except (OSError, pickle.PicklingError, RecursionError, TypeError, AttributeError):
        pass
    finally:
        if name is not None:
            Path(name).unlink(missing_ok=True)
