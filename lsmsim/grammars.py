"""Where the Lark grammars, and the parser tables built from them, are read at run time.

The repository keeps the grammars in one top-level folder, ``grammars/``. The build
maps that folder into the package as ``lsmsim._grammars`` (``setup.py``), so a wheel,
a plain ``pip install .`` and an editable install all read the same files through the
import system.

Building a grammar's LALR tables costs more than parsing a policy, so the package also
ships them, prebuilt, in ``lsmsim/_tables/`` (written by
``scripts/build_grammar_tables.py``). A shipped table is trusted only when its key (a
sha256 of the grammar, the parser options, Lark's version and Python's) matches the one
computed at run time; otherwise the tables come from the user's cache folder, or are
built. A stale or foreign table therefore costs time, never a wrong parser.
"""
from __future__ import annotations

import hashlib
import io
import json
import sys
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

_SOURCE_TREE = Path(__file__).resolve().parents[1] / "grammars"
_PACKAGE_TREE = Path(__file__).resolve().parent

# The options each grammar's parser is built with; the shipped tables are built with
# the same, and a caller passing others simply does not match a shipped table.
PARSER_OPTIONS: dict[str, dict] = {
    "apparmor.lark": {"lexer": "contextual", "propagate_positions": True,
                      "maybe_placeholders": False},
    "selinux.lark": {"lexer": "contextual", "propagate_positions": True,
                     "maybe_placeholders": False},
    "cil.lark": {"lexer": "basic", "maybe_placeholders": False},
}

# Options that change what a parser does with its tables, not the tables: Lark leaves
# them out of its own cache key too, and takes them again when it loads tables.
_RUNTIME_ONLY = ("transformer", "postlex", "lexer_callbacks", "edit_terminals", "_plugins")

TABLES_FOLDER = "_tables"


def parser_options(name: str, **options) -> dict:
    """The options of the LALR parser of the grammar ``name``: :data:`PARSER_OPTIONS`
    with ``options`` over them."""
    return {"parser": "lalr", **PARSER_OPTIONS.get(name, {}), **options}


def grammar_file(name: str) -> Traversable:
    """The grammar ``name`` (e.g. ``"apparmor.lark"``) that ships with the package."""
    try:
        return files("lsmsim._grammars") / name
    except ModuleNotFoundError:
        # A checkout put on sys.path without installing it has no mapped package.
        return _SOURCE_TREE / name


def shipped_table_file(name: str) -> Traversable:
    """Where the package keeps the prebuilt tables of the grammar ``name``."""
    try:
        folder = files("lsmsim") / TABLES_FOLDER
    except ModuleNotFoundError:
        folder = _PACKAGE_TREE / TABLES_FOLDER
    return folder / f"{Path(name).stem}.lalr"


def table_identity(text: str, options: dict) -> dict:
    """What a table was built from: the grammar's sha256, the options that shape the
    tables, and the versions of Lark and Python (Lark's pickled tables are only known
    to load in the version that wrote them)."""
    import lark

    return {
        "grammar_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "options": {k: repr(v) for k, v in sorted(options.items()) if k not in _RUNTIME_ONLY},
        "lark": lark.__version__,
        "python": "%d.%d" % sys.version_info[:2],
    }


def table_key(identity: dict) -> str:
    """The sha256 a table file starts with; a table is used only if it matches."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()


def write_table(parser, identity: dict, out) -> None:
    """Write ``parser``'s tables to the binary file ``out``: the key, the identity (one
    JSON line, for people and for the staleness test), then Lark's own serialisation
    without the options given again at load time."""
    from lark.lark import _LOAD_ALLOWED_OPTIONS

    out.write(table_key(identity).encode("ascii") + b"\n")
    out.write(json.dumps(identity, sort_keys=True).encode("utf-8") + b"\n")
    parser.save(out, _LOAD_ALLOWED_OPTIONS)


def read_table_identity(data: bytes) -> tuple[str, dict]:
    """The key and the identity a table file starts with."""
    key, identity, _ = data.split(b"\n", 2)
    return key.decode("ascii"), json.loads(identity)


def _load_shipped(name: str, identity: dict, options: dict):
    """The parser from the shipped table of ``name``, or None when there is none or its
    key does not match (the grammar, the options, Lark or Python changed)."""
    from lark import Lark

    try:
        # Lark's own list of the options a loaded parser takes again (private: another
        # Lark may not have it, and then the tables are built).
        from lark.lark import _LOAD_ALLOWED_OPTIONS
        data = shipped_table_file(name).read_bytes()
        key, _, body = data.split(b"\n", 2)  # the key, the identity, the tables
        if key.decode("ascii") != table_key(identity):
            return None
        runtime = {k: v for k, v in options.items() if k in _LOAD_ALLOWED_OPTIONS}
        return Lark.__new__(Lark)._load(io.BytesIO(body), **runtime)
    except Exception:  # noqa: BLE001 - missing, truncated or foreign: build instead
        return None


def lark_parser(name: str, tables: Path | None = None, **options):
    """A Lark LALR parser for the grammar ``name`` with :data:`PARSER_OPTIONS` and
    ``options`` (which may add a ``transformer``). Its tables come from the package when
    the shipped ones were built from this grammar, with these options, by this Lark and
    Python; else from the ``tables`` folder (the cache directory), where Lark checks the
    grammar's and the options' sha256 and rebuilds a missing, stale or unreadable table;
    else they are built."""
    from lark import Lark

    from . import __version__

    options = parser_options(name, **options)
    text = grammar_file(name).read_text()
    shipped = _load_shipped(name, table_identity(text, options), options)
    if shipped is not None:
        return shipped
    if tables is not None:
        try:
            tables.mkdir(parents=True, exist_ok=True)
        except OSError:
            tables = None
    if tables is None:
        return Lark(text, **options)
    cached = tables / f"lark-{Path(name).stem}-{__version__}.tables"
    return Lark(text, cache=str(cached), **options)
