"""``set rlimit`` grants nothing: it only lowers hard limits, so it never makes a child
reach beyond its parent, and it never hides an expansion either."""
from __future__ import annotations

import lsmsim

from .helpers import load_text


def test_rlimits_alone_are_contained_both_ways():
    limited = load_text("profile a { set rlimit nofile <= 1024, set rlimit as <= 1G, /x r, }")
    plain = load_text("profile a { /x r, }")
    assert lsmsim.check(limited, plain).verdict is lsmsim.Verdict.CONTAINED
    assert lsmsim.check(plain, limited).verdict is lsmsim.Verdict.CONTAINED


def test_rlimits_do_not_hide_an_expansion():
    child = load_text("profile a { set rlimit nproc <= 10, /x rw, }")
    parent = load_text("profile a { set rlimit nproc <= 10, /x r, }")
    result = lsmsim.check(child, parent)
    assert result.verdict is lsmsim.Verdict.EXPANSIONS
    assert [d.access.path for d in result.denials] == ["/x"]
