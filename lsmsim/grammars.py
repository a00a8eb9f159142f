"""Where the Lark grammars are read at run time.

The repository keeps them in one top-level folder, ``grammars/``. The build maps that
folder into the package as ``lsmsim._grammars`` (``setup.py``), so a wheel, a plain
``pip install .`` and an editable install all read the same files through the import
system.
"""
from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

_SOURCE_TREE = Path(__file__).resolve().parents[1] / "grammars"


def grammar_file(name: str) -> Traversable:
    """The grammar ``name`` (e.g. ``"apparmor.lark"``) that ships with the package."""
    try:
        return files("lsmsim._grammars") / name
    except ModuleNotFoundError:
        # A checkout put on sys.path without installing it has no mapped package.
        return _SOURCE_TREE / name
