"""Write the prebuilt LALR tables the package ships, so that even the first run, with
an empty cache folder, does not build them (about 0.2 s for the AppArmor grammar).

Run it from the repository whenever a grammar in ``grammars/`` or an entry of
``lsmsim.grammars.PARSER_OPTIONS`` changes, and commit what it writes to
``lsmsim/_tables/``::

    python scripts/build_grammar_tables.py          # write the stale tables
    python scripts/build_grammar_tables.py --check  # exit 1 if one is stale
    python scripts/build_grammar_tables.py --force  # write them all again

Each table file starts with a sha256 of the grammar, the parser options, Lark's version
and Python's (major.minor), then that identity as one JSON line, then Lark's pickled
tables (``Lark.save``). Lark's pickled format is an internal one, tied to the Lark
version that wrote it, so the tables are only used by the same Lark and Python that
built them; anywhere else the key does not match and the parser falls back to the
user's cache folder or builds its tables. Nothing is pinned for that: a mismatch loses
a fraction of a second, never correctness. Re-run this script after upgrading Lark to
keep the speed.
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lark import Lark  # noqa: E402

from lsmsim.grammars import (PARSER_OPTIONS, TABLES_FOLDER, parser_options,  # noqa: E402
                             read_table_identity, table_identity, write_table)

OUT = ROOT / "lsmsim" / TABLES_FOLDER


def build(name: str) -> bytes:
    """The table file of the grammar ``name`` (a file of ``grammars/``)."""
    text = (ROOT / "grammars" / name).read_text()
    options = parser_options(name)
    out = io.BytesIO()
    write_table(Lark(text, **options), table_identity(text, options), out)
    return out.getvalue()


def stale(name: str) -> bool:
    """Whether the shipped table of ``name`` was built from another grammar, other
    options, or by another Lark or Python than this one."""
    path = OUT / f"{Path(name).stem}.lalr"
    if not path.exists():
        return True
    text = (ROOT / "grammars" / name).read_text()
    _, identity = read_table_identity(path.read_bytes())
    return identity != table_identity(text, parser_options(name))


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, only compare) every grammar's table."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--check", action="store_true", help="only report stale tables")
    args.add_argument("--force", action="store_true", help="write tables that are current too")
    options = args.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    failed = 0
    for name in sorted(PARSER_OPTIONS):
        path = OUT / f"{Path(name).stem}.lalr"
        # The pickled bytes differ from one build to the next (the order Lark fills
        # its dicts in), so a current table is left alone: a rerun makes no diff.
        if not options.force and not stale(name):
            print(f"current: {path.relative_to(ROOT)}")
            continue
        if options.check:
            print(f"stale: {path.relative_to(ROOT)}")
            failed = 1
            continue
        path.write_bytes(build(name))
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
    return failed


if __name__ == "__main__":
    sys.exit(main())
