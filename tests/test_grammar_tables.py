"""The prebuilt LALR tables the package ships (``lsmsim/_tables/``): current for the
grammars, used when they match, and never trusted when they do not."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lark import Lark

from lsmsim import grammars
from lsmsim.grammars import (PARSER_OPTIONS, grammar_file, lark_parser, parser_options,
                             read_table_identity, shipped_table_file, table_identity,
                             write_table)
from tests.test_install import wheel  # noqa: F401 - the fixture, for the wheel's contents

SCRIPT = "python scripts/build_grammar_tables.py"
SAMPLE = "profile p /usr/bin/p flags=(complain) {\n  /etc/** r,\n  deny network raw,\n}\n"


def _identities(name: str) -> tuple[dict, dict]:
    """The identity the shipped table records, and the one this checkout expects."""
    _, shipped = read_table_identity(shipped_table_file(name).read_bytes())
    options = parser_options(name)
    return shipped, table_identity(grammar_file(name).read_text(), options)


@pytest.mark.parametrize("name", sorted(PARSER_OPTIONS))
def test_shipped_table_is_current(name):
    """A grammar (or its parser options) changed without the tables being rebuilt
    fails here; another Lark or Python only costs speed, so it is a skip."""
    assert shipped_table_file(name).is_file(), f"no shipped table for {name}: run {SCRIPT}"
    shipped, expected = _identities(name)
    assert (shipped["grammar_sha256"], shipped["options"]) == \
        (expected["grammar_sha256"], expected["options"]), \
        f"the shipped table of {name} is stale: run {SCRIPT} and commit lsmsim/_tables/"
    if (shipped["lark"], shipped["python"]) != (expected["lark"], expected["python"]):
        pytest.skip(f"the shipped table of {name} is for Lark {shipped['lark']} on Python "
                    f"{shipped['python']}, not {expected['lark']} on {expected['python']}: "
                    f"it is not used here (run {SCRIPT} to ship tables for this Lark)")


def _current(name: str) -> None:
    shipped, expected = _identities(name)
    if shipped != expected:
        pytest.skip(f"the shipped table of {name} is not for this Lark and Python")


def test_shipped_table_is_used_and_parses_as_a_built_one(tmp_path):
    """With a current shipped table nothing is built nor written to the cache folder,
    and the parser gives the tree a parser built from the grammar gives."""
    _current("apparmor.lark")
    parser = lark_parser("apparmor.lark", tmp_path / "cache")
    assert not (tmp_path / "cache").exists()
    built = Lark(grammar_file("apparmor.lark").read_text(), **parser_options("apparmor.lark"))
    assert parser.parse(SAMPLE) == built.parse(SAMPLE)
    tree = parser.parse(SAMPLE)
    assert (tree.meta.line, tree.meta.column) == (1, 1)


def _fake_shipped(monkeypatch, tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "apparmor.lalr"
    path.write_bytes(data)
    monkeypatch.setattr(grammars, "shipped_table_file", lambda name: path)


def test_a_table_for_another_grammar_is_not_trusted(monkeypatch, tmp_path):
    """A table whose key names another grammar is ignored: the tables come from the
    cache folder (built there), and the parser is the grammar's."""
    other = 'start: "x"\n'
    options = parser_options("apparmor.lark")
    with (tmp_path / "other").open("wb") as out:
        write_table(Lark(other, **options), table_identity(other, options), out)
    _fake_shipped(monkeypatch, tmp_path, (tmp_path / "other").read_bytes())
    parser = lark_parser("apparmor.lark", tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()), "the tables were not built into the cache"
    assert parser.parse(SAMPLE).data == "start"


def test_a_table_from_another_lark_is_not_trusted(monkeypatch, tmp_path):
    """Lark's pickled tables are its own format: under another Lark version the
    shipped table is ignored and the tables are built into the cache folder."""
    import lark
    _current("apparmor.lark")
    monkeypatch.setattr(lark, "__version__", "0.0.0")
    parser = lark_parser("apparmor.lark", tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()), "the shipped table was used"
    assert parser.parse(SAMPLE).data == "start"


def test_a_damaged_table_with_the_right_key_is_not_fatal(monkeypatch, tmp_path):
    """A truncated file whose key matches falls back to building the tables."""
    _current("apparmor.lark")
    data = shipped_table_file("apparmor.lark").read_bytes()
    _fake_shipped(monkeypatch, tmp_path, data[:len(data) // 2])
    parser = lark_parser("apparmor.lark", None)
    assert parser.parse(SAMPLE).data == "start"


def test_wheel_ships_the_tables(wheel):  # noqa: F811
    """Each shipped table is in the wheel, byte for byte."""
    folder = Path(grammars.__file__).parent / grammars.TABLES_FOLDER
    tables = sorted(folder.glob("*.lalr"))
    assert tables
    with zipfile.ZipFile(wheel) as archive:
        for table in tables:
            assert archive.read(f"lsmsim/_tables/{table.name}") == table.read_bytes()
