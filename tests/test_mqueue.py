"""``mqueue`` rules are refused where apparmor_parser 4 refuses them (parser_yacc.y,
mqueue.cc)."""
from __future__ import annotations

import pytest

from lsmsim.errors import PolicyError

from .helpers import load_text


def _load(line: str):
    return load_text("profile p {\n  " + line + "\n}\n")


@pytest.mark.parametrize("line", [
    "mqueue,", "mqueue type=posix,", "mqueue type=sysv,", "mqueue label=bar,", "mqueue 1234,",
    "mqueue /bar,", "mqueue type=sysv 1234,", "mqueue type=posix label=bar /baz,",
    "mqueue (create, getattr, setattr),", "mqueue (open delete),", "mqueue rw,",
    "mqueue (create, write) type=posix label=baz /bar,", "deny mqueue,", "audit allow mqueue,",
])
def test_accepted(line):
    _load(line)


@pytest.mark.parametrize("line,message", [
    ("mqueue label=,", "label"),
    ("mqueue type=,", "type"),
    ("mqueue type=sysv /queuename,", "positive integer"),
    ("mqueue type=posix 1234,", "begin with a /"),
    ("mqueue invalidaccess /queuename,", "invalidaccess"),
    ("mqueue type=posixfoo,", "posixfoo"),
    ("mqueue foo,", "invalid name"),
    ("mqueue 1234foo,", "invalid name"),
    ("mqueue (create, bogus),", "bogus"),
    ("mqueue peer=x,", "conditional"),
    ("owner mqueue,", "owner prefix"),
])
def test_refused(line, message):
    with pytest.raises(PolicyError, match=message):
        _load(line)


# ---- meaning and containment -------------------------------------------------------

import lsmsim  # noqa: E402
import z3  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lsmsim.model.mqueue import MqueueRequest, MqueueRule  # noqa: E402
from lsmsim.report.audit import audit_line  # noqa: E402
from lsmsim.simulate import decide  # noqa: E402
from lsmsim.verify.mqueue_check import MqueueSpace  # noqa: E402


def _check(child_lines, parent_lines):
    child = load_text("profile c {\n  " + "\n  ".join(child_lines) + "\n}\n")
    parent = load_text("profile p {\n  " + "\n  ".join(parent_lines) + "\n}\n")
    return lsmsim.check(child, parent)


@pytest.mark.parametrize("line,access,allowed", [
    ("mqueue,", MqueueRequest("open", "sysv", "12", "x"), True),
    ("mqueue r,", MqueueRequest("read", "posix", "/q", "x"), True),
    ("mqueue r,", MqueueRequest("write", "posix", "/q", "x"), False),
    ("mqueue /q*,", MqueueRequest("open", "posix", "/queue", "x"), True),
    ("mqueue /q*,", MqueueRequest("open", "sysv", "12", "x"), False),
    ("mqueue type=sysv 12,", MqueueRequest("delete", "sysv", "12", "x"), True),
    ("mqueue type=sysv 12,", MqueueRequest("delete", "sysv", "13", "x"), False),
    ("mqueue label=foo,", MqueueRequest("write", "posix", "/q", "bar"), False),
    ("mqueue label=foo,", MqueueRequest("create", "posix", "/q", "bar"), True),
])
def test_meanings(line, access, allowed):
    assert decide(_load(line).profiles[0], access).allowed is allowed


@pytest.mark.parametrize("child,parent,verdict", [
    (["mqueue r /q,"], ["mqueue,"], "contained"),
    (["mqueue type=posix,"], ["mqueue /**,"], "contained"),
    (["mqueue,"], ["mqueue type=posix,"], "expansions"),
    (["mqueue (read, write),"], ["mqueue read,"], "expansions"),
    (["mqueue 12,"], ["mqueue type=sysv,", "deny mqueue delete,"], "expansions"),
    (["mqueue label=foo,"], ["mqueue,"], "undecided"),
])
def test_verdicts(child, parent, verdict):
    result = _check(child, parent)
    assert result.verdict.value == verdict
    for denial in result.denials:
        assert decide(_load(child[0]).profiles[0], denial.access).allowed
        assert denial.access.to_json()["class"] == "mqueue"
        assert 'operation="mqueue_' in audit_line(denial.access, "p")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from(
    ["", "r", "w", "create", "(open, delete)"]), st.sampled_from(
    ["", " type=posix", " type=sysv", " label=foo", " label=f*"]), st.sampled_from(
    ["", " /q", " /q*", " 12"])), min_size=1, max_size=4),
    st.sampled_from(["create", "open", "read", "write", "delete"]),
    st.sampled_from([("posix", "/q"), ("posix", "/qq"), ("sysv", "12"), ("sysv", "7")]),
    st.sampled_from(["foo", "fa", "bar"]))
def test_encoding_agrees_with_the_simulator(lines, perm, queue, label):
    from lsmsim.errors import PolicyError as Refused
    text = [("deny " if deny else "") + f"mqueue {p}{c}{n}," for deny, p, c, n in lines]
    try:
        profile = load_text("profile t {\n  " + "\n  ".join(text) + "\n}\n").profiles[0]
    except Refused:
        return
    request = MqueueRequest(perm, *queue, label)
    space = MqueueSpace()
    formula = z3.And(space.substitute(space.allows(profile.rules_of(MqueueRule)), request),
                     space.substitute(space.domain(), request))
    assert z3.is_true(z3.simplify(formula)) == decide(profile, request).allowed, (text, request)
