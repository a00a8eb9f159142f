"""change_profile end to end: the front end's checks, the simulator's decision and
the containment check, which follows the profile a change leads to in each layer."""
from __future__ import annotations

import pytest

import lsmsim
from lsmsim.errors import PolicyError
from lsmsim.model.change_profile import ChangeProfileRequest, ChangeProfileRule
from lsmsim.model.labels import UNCONFINED, Label, resolve
from lsmsim.report import audit_line
from lsmsim.simulate import decide

from .helpers import load_text


def _rule(body: str) -> ChangeProfileRule:
    rule, = load_text("profile t {\n  " + body + "\n}\n").profiles[0].rules_of(ChangeProfileRule)
    return rule


def _check(child: str, parent: str, name: str = "c"):
    return lsmsim.check(load_text(child), load_text(parent), child_profile=name,
                        parent_profile=name)


@pytest.mark.parametrize("body,exec_text,target,unsafe", [
    ("change_profile,", None, "**", False),
    ("change_profile -> foo,", None, "foo", False),
    ("change_profile /bin/x,", "/bin/x", "**", False),
    ("change_profile unsafe /bin/x -> &foo,", "/bin/x", "&foo", True),
    ('change_profile safe "/bin/a b" -> ":ns:/bin/ foo",', "/bin/a b", ":ns:/bin/ foo", False),
])
def test_rule_forms(body, exec_text, target, unsafe):
    rule = _rule(body)
    assert (rule.exec.text if rule.exec else None, rule.target.text, rule.unsafe) == \
        (exec_text, target, unsafe)


@pytest.mark.parametrize("body", [
    "change_profile safe,", "change_profile unsafe -> foo,", "change_profile bin -> foo,",
    "owner change_profile -> foo,", "change_profile ->,", "change_profile /a /b -> c,",
    "change_profile /onexec -> foo,\n  change_profile unsafe /onexec -> foo,",
    "change_profile /o* -> foo,\n  change_profile unsafe /on* -> foo,",
])
def test_the_parser_s_refusals(body):
    with pytest.raises(PolicyError):
        load_text("profile t {\n  " + body + "\n}\n")


def test_an_exact_rule_overrides_a_glob_one_instead_of_conflicting():
    load_text("profile t {\n  change_profile /onexec -> /bin/*,\n"
              "  change_profile unsafe /onexec -> /bin/foo,\n}\n")


def test_decisions_follow_the_compiled_entries():
    profile = load_text("profile t {\n  change_profile /bin/x -> foo,\n"
                        "  deny change_profile /bin/y -> bar,\n}\n").profiles[0]
    allowed = {(t, e): decide(profile, ChangeProfileRequest(t, e)).allowed
               for t in ("foo", "bar") for e in (None, "/bin/x", "/bin/y")}
    assert allowed == {("foo", None): True, ("foo", "/bin/x"): True, ("foo", "/bin/y"): False,
                       ("bar", None): False, ("bar", "/bin/x"): False, ("bar", "/bin/y"): False}


def test_labels_resolve_in_a_policy():
    policy = load_text("profile a { ^h { } profile kid { } }\nprofile :ns:b { }\n")
    assert resolve(policy, "a//h").name == "h"
    assert resolve(policy, "a//kid").name == "kid"
    assert resolve(policy, ":ns:b").name == ":ns:b"
    assert resolve(policy, ":ns://b").name == ":ns:b"
    assert resolve(policy, "unconfined") == UNCONFINED == resolve(policy, ":ns:unconfined")
    assert resolve(policy, "zz") is None
    assert Label.parse("&:ns:x") == Label(True, "ns", "x")


def test_the_same_rules_are_contained_both_ways():
    for a, b in (("/t { change_profile, }", "/t { change_profile -> **, }"),
                 ("/t { change_profile /**, }", "/t { change_profile safe /** -> **, }")):
        for child, parent in ((a, b), (b, a)):
            assert _check(child, parent, "/t").verdict is lsmsim.Verdict.CONTAINED, child


def test_a_change_the_parent_refuses_to_unconfined_is_an_expansion():
    result = _check("profile c { change_profile -> unconfined, }",
                    "profile c { change_profile -> foo, }")
    assert [d.access for d in result.denials] == [ChangeProfileRequest("unconfined")]


def test_a_change_to_a_profile_outside_the_child_policy_is_an_expansion():
    result = _check("profile c { change_profile -> f*, }", "profile c { change_profile -> foo, }")
    denial, = result.denials
    assert denial.access.target.startswith("f") and denial.access.target != "foo"
    assert not decide(load_text("profile c { change_profile -> foo, }").profiles[0],
                      denial.access).allowed


def test_the_parent_stays_where_it_does_not_allow_the_change():
    """The child may change to x; the parent may not, so x must be within c."""
    child = "profile c { change_profile -> x, /etc/hosts r, }\nprofile x { /etc/** r, }\n"
    parent = "profile c { change_profile -> y, /etc/hosts r, }\n"
    result = _check(child, parent)
    assert {d.child_profile for d in result.denials} == {"x"}
    assert all(d.via[0].path == "x" and d.via[0].parent_mode == "stays" for d in result.denials)
    inside = "profile c { change_profile -> x, /etc/** r, }\nprofile x { /etc/hosts r, }\n"
    assert _check(inside, parent.replace("/etc/hosts", "/etc/**")).verdict \
        is lsmsim.Verdict.CONTAINED


def test_the_parent_follows_a_change_it_allows_too():
    child = "profile c { change_profile -> x, }\nprofile x { /etc/** r, }\n"
    parent = "profile c { change_profile -> x, }\nprofile x { /etc/hosts r, }\n"
    result = _check(child, parent)
    assert {(d.child_profile, d.denied_by) for d in result.denials} == {("x", "x")}
    wide = parent.replace("/etc/hosts", "/etc/**")
    assert _check(child, wide).verdict is lsmsim.Verdict.CONTAINED


def test_a_stacking_change_only_narrows():
    child = "profile c { change_profile -> &x, }\nprofile x { /** rw, }\n"
    assert _check(child, "profile c { change_profile -> foo, }").verdict \
        is lsmsim.Verdict.CONTAINED


def test_audit_lines():
    assert audit_line(ChangeProfileRequest("foo"), "p") == \
        'apparmor="DENIED" operation="change_profile" profile="p" name="foo"'
    assert audit_line(ChangeProfileRequest("foo", "/bin/x"), "p") == \
        'apparmor="DENIED" operation="change_onexec" profile="p" name="/bin/x" target="foo"'
