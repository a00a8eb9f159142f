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


def lark_parser(name: str, **options):
    """A Lark LALR parser for the grammar ``name``. Building the tables costs more than
    parsing a policy, so they are kept in the cache directory; Lark itself checks the
    grammar's and the options' sha256 before it trusts a cached table, and rebuilds it
    when the file is missing, stale or unreadable."""
    from lark import Lark

    from . import __version__
    from .cache_dir import default_directory

    text = grammar_file(name).read_text()
    cache = default_directory() / f"lark-{Path(name).stem}-{__version__}.tables"
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return Lark(text, parser="lalr", **options)
    return Lark(text, parser="lalr", cache=str(cache), **options)
