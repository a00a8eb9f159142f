"""Hats under stacking: a child hat is checked against the parent's hat of the same
name where the parent has one, and against the parent's profile where it does not;
from a hat, change_hat leads to the sibling hats."""
from __future__ import annotations

import lsmsim
from lsmsim.model.requests import FileRequest

from .helpers import load_text


def _check(child: str, parent: str):
    return lsmsim.check(load_text(child), load_text(parent), child_profile="t",
                        parent_profile="t")


def _denied(result) -> set[tuple[str, str, str]]:
    return {(d.child_profile, d.denied_by, d.access.path) for d in result.denials
            if isinstance(d.access, FileRequest)}


def test_a_hat_is_checked_against_the_parent_hat_of_the_same_name():
    child = "profile t { ^h { /etc/** r, } }"
    assert _check(child, "profile t { ^h { /etc/** r, } }").verdict is lsmsim.Verdict.CONTAINED
    result = _check(child, "profile t { ^h { /etc/hosts r, } }")
    assert {(c, p) for c, p, _ in _denied(result)} == {("h", "h")}
    assert result.denials[0].via[0].path == "^h"


def test_without_that_hat_the_parent_profile_stays_in_force():
    result = _check("profile t { ^h { /etc/** r, } }", "profile t { ^other { } /etc/** r, }")
    # The hat's own rules and the ones the compiler adds to hats stay within t.
    assert result.verdict is lsmsim.Verdict.CONTAINED, result.denials
    result = _check("profile t { ^h { /srv/** r, } }", "profile t { ^other { } /etc/** r, }")
    assert {(c, p) for c, p, _ in _denied(result)} == {("h", "t")}


def test_a_hat_reaches_its_siblings():
    child = "profile t { ^a { } ^b { /srv/** r, } }"
    parent = "profile t { ^a { } ^b { /srv/x r, } }"
    result = _check(child, parent)
    assert {(c, p) for c, p, _ in _denied(result)} == {("b", "b")}
    pairs = set(result.pairs)
    assert {("t", "t"), ("a", "a"), ("b", "b")} <= pairs


def test_hats_of_different_profiles_with_one_name_are_told_apart():
    child = "profile t { ^h { /srv/** r, } }\nprofile u { ^h { } }"
    parent = "profile t { ^h { /srv/** r, } }\nprofile u { ^h { } }"
    assert _check(child, parent).verdict is lsmsim.Verdict.CONTAINED
