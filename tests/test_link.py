"""Link rules end to end: what the front end makes of each way to write them, the
simulator's decision (subset test included), and the containment check's witnesses."""
from __future__ import annotations

import json

import pytest

import lsmsim
from lsmsim.errors import PolicyError
from lsmsim.model.link import ANY_TARGET, LinkRequest, LinkRule
from lsmsim.model.rules import FileRule, Qualifier
from lsmsim.report import audit_line, result_to_json
from lsmsim.simulate import decide, file_permissions

from .helpers import load_text


def _profile(body: str):
    return load_text("profile t {\n  " + body + "\n}\n").profiles[0]


def _check(child: str, parent: str):
    return lsmsim.check(load_text("profile c {\n  " + child + "\n}\n"),
                        load_text("profile p {\n  " + parent + "\n}\n"))


@pytest.mark.parametrize("body,link,target,subset,qualifier", [
    ("link /a -> /b,", "/a", "/b", False, Qualifier.BOTH),
    ("link subset /a -> /b,", "/a", "/b", True, Qualifier.BOTH),
    ("owner l subset /a -> /b,", "/a", "/b", True, Qualifier.OWNER),
    ("/a l -> /b,", "/a", "/b", False, Qualifier.BOTH),
    ('link "/a b" -> "/c d",', "/a b", "/c d", False, Qualifier.BOTH),
    ("other /f l,", "/f", ANY_TARGET.text, True, Qualifier.OTHER),
])
def test_each_form_becomes_one_link_rule(body, link, target, subset, qualifier):
    rule, = _profile(body).rules_of(LinkRule)
    assert (rule.link.text, rule.target.text, rule.subset, rule.qualifier) == \
        (link, target, subset, qualifier)


def test_the_l_of_a_file_rule_leaves_the_other_letters_a_file_rule():
    profile = _profile("/f rwl,\n  deny /g wl,")
    files = {r.glob.text: r.perms for r in profile.rules_of(FileRule)}
    assert files == {"/f": frozenset("rwa"), "/g": frozenset("wa")}
    assert [r.deny for r in profile.rules_of(LinkRule)] == [False, True]


def test_link_paths_are_slash_squashed_and_variables_expanded():
    rule, = load_text("@{D}=/dev/\nprofile t { link @{D}//foo -> ///mnt/bar, }\n"
                      ).profiles[0].rules_of(LinkRule)
    assert (rule.link.text, rule.target.text) == ("/dev/foo", "/mnt/bar")


@pytest.mark.parametrize("body", ["link /a,", "link a -> /b,", "link /a -> b,",
                                  "link subset -> /b,"])
def test_malformed_link_rules_are_refused(body):
    with pytest.raises(PolicyError):
        _profile(body)


def test_a_deny_never_takes_l_from_the_name_alone():
    """As compiled: the deny masks the pair entry only."""
    profile = _profile("/a l,\n  deny /a l,")
    assert "l" in file_permissions(profile, "/a", False)
    assert not decide(profile, LinkRequest("/a", "/b", False)).allowed


def test_subset_compares_the_permissions_of_owned_files():
    profile = _profile("link subset /a -> /b,\n  /a rw,\n  /b r,\n  /c rw,\n"
                       "  link subset /a -> /c,")
    assert not decide(profile, LinkRequest("/a", "/b", True)).allowed
    assert decide(profile, LinkRequest("/a", "/b", False)).allowed  # no subset bit there
    assert decide(profile, LinkRequest("/a", "/c", True)).allowed


def test_subset_compares_exec_transitions():
    profile = _profile("/a l,\n  /a px,\n  /b Px,\n  /c px,")
    assert not decide(profile, LinkRequest("/a", "/b", True)).allowed
    assert decide(profile, LinkRequest("/a", "/c", True)).allowed


def test_equal_link_rules_are_contained_both_ways():
    for a, b in (("link /f -> /**,", "/f l,"), ("/f l,", "l /f,"),
                 ("link subset /a -> /b,", "l subset /a -> /b,")):
        assert _check(a, b).verdict is lsmsim.Verdict.CONTAINED, (a, b)
        assert _check(b, a).verdict is lsmsim.Verdict.CONTAINED, (b, a)


def test_a_denied_link_is_an_expansion_with_a_confirmed_witness():
    result = _check("link /a -> /b*,", "link /a -> /b*,\n  deny link /a -> /bad,")
    assert result.verdict is lsmsim.Verdict.EXPANSIONS
    denial = result.denials[0]
    assert denial.access == LinkRequest("/a", "/bad", denial.access.owner)
    data = json.loads(result_to_json(result))["denials"][0]
    assert data["access"] == {"class": "file", "path": "/a", "perms": ["l"], "target": "/bad",
                              "owner": denial.access.owner}
    assert 'operation="link"' in data["audit"] and 'target="/bad"' in data["audit"]


def test_a_parent_subset_test_the_child_passes_is_an_expansion():
    """The child allows /a -> /b for owned files; the parent asks for the subset test
    and /a holds more than /b there."""
    result = _check("link /a -> /b,", "link subset /a -> /b,\n  /a r,")
    assert [d.access for d in result.denials] == [LinkRequest("/a", "/b", True)]
    assert "subset" in result.denials[0].reason


def test_audit_line_of_a_link():
    line = audit_line(LinkRequest("/a", "/b", False), "p")
    assert line == ('apparmor="DENIED" operation="link" profile="p" name="/a" '
                    'requested_mask="l" denied_mask="l" fsuid=1000 ouid=0 target="/b"')
