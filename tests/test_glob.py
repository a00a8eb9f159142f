"""Glob semantics (DESIGN §5) and the agreement of the Python and Z3 readings of a glob."""
from __future__ import annotations

import pytest
import z3
from hypothesis import given, settings

from lsmsim.model.glob import Glob, GlobError
from lsmsim.verify.z3regex import canonical_path, to_z3

from .strategies import globs, paths

CASES = [
    ("/tmp/**", "/tmp/", False),
    ("/tmp/**", "/tmp/a", True),
    ("/tmp/**", "/tmp/a/b/", True),
    ("/tmp/*", "/tmp/", False),
    ("/tmp/*", "/tmp/a/b", False),
    ("/a/**/end", "/a/end", False),
    ("/a/**/end", "/a/x/y/end", True),
    ("/pre*fix", "/prefix", True),
    ("/x[^a]y", "/x/y", True),
    ("/{a,b,}c", "/c", True),
    ("/{a,{b,d}}c", "/dc", True),
    ("/tmp/{,**}", "/tmp/", True),
    ("/tmp{,/**}", "/tmp", True),
    ("/dir/", "/dir", False),
    ("/dir", "/dir/", False),
    ("/d/*/", "/d/sub/", True),
    ("/d/*/", "/d/file", False),
    ("/a?c", "/a/c", False),
    ("/a\\*", "/a*", True),
    ("/a\\*", "/ab", False),
]


@pytest.mark.parametrize("glob,path,expected", CASES)
def test_glob_semantics(glob, path, expected):
    """Each case is a fact of docs/apparmor.md §1 (checked against apparmor_parser)."""
    assert Glob.parse(glob).matches(path) is expected


@pytest.mark.parametrize("glob,path,expected", CASES)
def test_z3_reads_globs_the_same(glob, path, expected):
    formula = z3.InRe(z3.StringVal(path), to_z3(Glob.parse(glob).regex))
    assert z3.is_true(z3.simplify(formula)) is expected


@pytest.mark.parametrize("bad", ["/a{b", "/a}b", "/a[bc", "/a\\"])
def test_malformed_globs_are_rejected(bad):
    with pytest.raises(GlobError):
        Glob.parse(bad)


@settings(max_examples=300, deadline=None)
@given(globs(), paths())
def test_python_and_z3_regex_agree(glob, path):
    """The simulator's and the solver's reading of one glob agree on every path."""
    parsed = Glob.parse(glob)
    z3_says = z3.simplify(z3.InRe(z3.StringVal(path), to_z3(parsed.regex)))
    assert z3.is_true(z3_says) is parsed.matches(path)


@settings(max_examples=200, deadline=None)
@given(globs(), globs())
def test_prefix_filter_never_hides_an_overlap(a, b):
    """``may_overlap`` may only say False when Z3 proves the globs disjoint."""
    ga, gb = Glob.parse(a), Glob.parse(b)
    if ga.may_overlap(gb):
        return
    s = z3.Solver()
    p = z3.String("p")
    s.add(z3.InRe(p, to_z3(ga.regex)), z3.InRe(p, to_z3(gb.regex)))
    assert s.check() == z3.unsat


@pytest.mark.parametrize("path,canonical", [
    ("/", True), ("/a", True), ("/a/", True), ("/a/b", True), ("//", False), ("/a//b", False),
    ("/./a", False), ("/a/..", False), ("/..a/", True), ("/.a", True), ("a", False), ("", False),
])
def test_canonical_paths(path, canonical):
    assert z3.is_true(z3.simplify(z3.InRe(z3.StringVal(path), canonical_path()))) is canonical
