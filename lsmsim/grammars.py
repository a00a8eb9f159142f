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



def lark_parser(name: str, tables: Path | None = None, **options):
    """A Lark LALR parser for the grammar ``name``. Building the tables costs more than
    parsing a policy, so with a ``tables`` folder (the cache directory) they are kept
    there; Lark checks the grammar's and the options' sha256 before it trusts a cached
    table, and rebuilds it when the file is missing, stale or unreadable."""
    from lark import Lark

    from . import __version__

    text = grammar_file(name).read_text()
    if tables is not None:
        try:
            tables.mkdir(parents=True, exist_ok=True)
        except OSError:
            tables = None
    if tables is None:
        return Lark(text, parser="lalr", **options)
    cached = tables / f"lark-{Path(name).stem}-{__version__}.tables"
    return Lark(text, parser="lalr", cache=str(cached), **options)
