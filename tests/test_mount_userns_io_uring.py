"""``userns`` and ``io_uring`` rules (AppArmor 4): meanings, containment verdicts with
witnesses, audit lines, and the Z3 encoding held against the simulator."""
from __future__ import annotations

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

import lsmsim
from lsmsim.errors import PolicyError
from lsmsim.model.task_classes import IoUringRequest, IoUringRule, UsernsRequest, UsernsRule
from lsmsim.report.audit import audit_line
from lsmsim.simulate import decide
from lsmsim.verify.task_spaces import IoUringSpace, UsernsSpace

from .helpers import load_text


def _profile(*lines: str):
    return load_text("profile p {\n  " + "\n  ".join(lines) + "\n}\n").profiles[0]


def _check(child_lines, parent_lines):
    child = load_text("profile c {\n  " + "\n  ".join(child_lines) + "\n}\n")
    parent = load_text("profile p {\n  " + "\n  ".join(parent_lines) + "\n}\n")
    return lsmsim.check(child, parent)


@pytest.mark.parametrize("lines,access,allowed", [
    (["userns,"], UsernsRequest(), True),
    (["userns create,"], UsernsRequest(), True),
    (["userns,", "deny userns,"], UsernsRequest(), False),
    ([], UsernsRequest(), False),
    (["io_uring,"], IoUringRequest("override_creds", "other"), True),
    (["io_uring sqpoll,"], IoUringRequest("override_creds", "other"), False),
    (["io_uring override_creds label=foo,"], IoUringRequest("override_creds", "foo"), True),
    (["io_uring override_creds label=foo,"], IoUringRequest("override_creds", "bar"), False),
    # The label narrows override_creds only: sqpoll is decided without one.
    (["io_uring sqpoll label=foo,"], IoUringRequest("sqpoll"), True),
    (["io_uring,", "deny io_uring override_creds label=f*,"],
     IoUringRequest("override_creds", "foo"), False),
    (["io_uring,", "deny io_uring override_creds label=f*,"], IoUringRequest("sqpoll"), True),
])
def test_meanings(lines, access, allowed):
    assert decide(_profile(*lines), access).allowed is allowed


@pytest.mark.parametrize("child,parent,verdict", [
    (["userns,"], ["userns create,"], "contained"),
    (["userns,"], ["mount,"], "expansions"),
    (["io_uring sqpoll,"], ["io_uring,"], "contained"),
    (["io_uring override_creds label=foo,"], ["io_uring override_creds label=f*,"], "contained"),
    (["io_uring override_creds label=f*,"], ["io_uring override_creds label=foo,"], "expansions"),
    (["io_uring,"], ["io_uring sqpoll,"], "expansions"),
    (["io_uring,"], ["io_uring,", "deny io_uring override_creds label=root,"], "expansions"),
])
def test_verdicts(child, parent, verdict):
    result = _check(child, parent)
    assert result.verdict.value == verdict and not result.undecided
    for denial in result.denials:
        assert decide(_profile(*child), denial.access).allowed
        assert not decide(_profile(*parent), denial.access).allowed


def test_refused():
    for line in ("userns read,", "io_uring bogus,", "io_uring label=,", "owner userns,"):
        with pytest.raises(PolicyError):
            _profile(line)


def test_audit_lines_and_json():
    assert audit_line(UsernsRequest(), "p") == (
        'apparmor="DENIED" operation="userns_create" profile="p" class="namespace" error=-13 '
        'requested="userns_create" denied="userns_create"')
    assert "uring_override" in audit_line(IoUringRequest("override_creds", "x"), "p")
    assert IoUringRequest("override_creds", "x").to_json() == {
        "class": "io_uring", "perms": ["override_creds"], "label": "x"}
    assert UsernsRequest().to_json() == {"class": "userns", "perms": ["create"]}


LABELS = [None, "foo", "f*", "{a,b}", "**"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sets(st.sampled_from(["sqpoll", "override_creds"]),
                                                 min_size=1), st.sampled_from(LABELS)),
                min_size=1, max_size=4),
       st.sampled_from([IoUringRequest("sqpoll"), IoUringRequest("override_creds", "foo"),
                        IoUringRequest("override_creds", "a"), IoUringRequest("override_creds", "x/y")]),
       st.lists(st.booleans(), min_size=1, max_size=3))
def test_encodings_agree_with_the_simulator(io_rules, io_request, userns_denies):
    from lsmsim.model.glob import Glob
    from lsmsim.model.policy import Profile
    rules = tuple(IoUringRule(frozenset(perms), Glob.parse(label) if label else None, deny)
                  for deny, perms, label in io_rules)
    rules += tuple(UsernsRule(deny=deny) for deny in userns_denies)
    profile = Profile("t", rules)
    for space, kind, request in ((IoUringSpace(), IoUringRule, io_request),
                                 (UsernsSpace(), UsernsRule, UsernsRequest())):
        formula = z3.And(space.substitute(space.allows(profile.rules_of(kind)), request),
                         space.substitute(space.domain(), request))
        assert z3.is_true(z3.simplify(formula)) == decide(profile, request).allowed
