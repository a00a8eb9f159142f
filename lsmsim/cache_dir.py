"""Where lsmsim keeps what it can compute again: compiled policies and parser tables."""
from __future__ import annotations

import os
from pathlib import Path


def default_directory() -> Path:
    """``$XDG_CACHE_HOME/lsmsim`` (``~/.cache/lsmsim``), or ``$LSMSIM_CACHE_DIR``."""
    explicit = os.environ.get("LSMSIM_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lsmsim"
