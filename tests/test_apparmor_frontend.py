"""Front-end semantics beyond the grammar: what conditionals, flags, names and the
implicit change_hat rules mean (each case checked against apparmor_parser 3.0.8)."""
from __future__ import annotations

import pytest

from lsmsim.errors import PolicyError
from lsmsim.model.policy import Mode
from lsmsim.simulate import file_permissions

from .helpers import load_text


def test_conditionals_take_the_branch_the_booleans_choose():
    policy = load_text("$ON = true\n$OFF = false\n@{V} = /v\n"
                       "/t {\n  if $ON { /a r, } else { /b r, }\n"
                       "  if $OFF { /c r, } else if not defined @{V} { /d r, } else { /e r, }\n"
                       "  if not not defined $ON { /f r, }\n}\n")
    profile = policy.profiles[0]
    granted = {p for p in "/a /b /c /d /e /f".split() if file_permissions(profile, p, False)}
    assert granted == {"/a", "/e", "/f"}


def test_undefined_boolean_is_an_error():
    with pytest.raises(PolicyError, match=r"undefined boolean \$NOPE"):
        load_text("/t {\n  if $NOPE { /a r, }\n}\n")


def test_hats_get_the_change_hat_rules():
    profile = load_text("/t {\n  ^hat { /f r, }\n}\n").profiles[0]
    for subject in (profile, profile.children[0]):
        assert file_permissions(subject, "/proc/12/attr/current", True) == {"w"}
        assert file_permissions(subject, "/proc/12/attr/current", False) == frozenset()
        assert file_permissions(subject, "/proc/self/attr/apparmor/", True) == {"r"}
    assert not file_permissions(load_text("/t { /f r, }\n").profiles[0],
                                "/proc/12/attr/current", True)


def test_profile_name_drops_the_namespace_and_keeps_the_hierarchy():
    profile = load_text(":ns:/hname {\n  profile kid { /run/@{profile_name} r, }\n}\n").profiles[0]
    assert file_permissions(profile.children[0], "/run/hname/kid", False) == {"r"}


@pytest.mark.parametrize("flags,mode", [("(complain)", Mode.COMPLAIN),
                                        ("flags=(audit, kill)", Mode.KILL),
                                        ("flags=(enforce, error=ENOENT)", Mode.ENFORCE)])
def test_flags(flags, mode):
    assert load_text(f"/t {flags} {{ /a r, }}\n").profiles[0].mode is mode


@pytest.mark.parametrize("text,needle", [
    ("/t flags=(complain, kill) { }\n", "conflicting profile modes"),
    ("/t flags=(mediate_deleted, delegate_deleted) { }\n", "conflicting profile flags"),
    ("/t flags=(error=13) { }\n", "invalid value"),
    ("/t flags=(kill.signal=0) { }\n", "invalid value"),
    ("/t { deny audit /a r, }\n", "out of order"),
    ("/t { owner signal, }\n", "owner prefix"),
    ("/t { /a pxix, }\n", "conflicting exec modes"),
    ("@{V} = a,\n/t { }\n", "invalid variable value"),
    ('@{V} = "a\n/t { }\n', "unbalanced quote"),
    ("$B = true\n$B = false\n/t { }\n", "defined twice"),
    ("@{N} = bar\n@{N} { }\n", "bare names must start with '/'"),
    (":ns: { }\n", "no profile"),
])
def test_what_the_parser_refuses(text, needle):
    with pytest.raises(PolicyError, match=needle):
        load_text(text)


def test_repeated_mode_letters_are_one_mode():
    rule = load_text("/t { /a rrrpxpx, }\n").profiles[0].rules[0]
    assert str(rule.exec) == "px" and rule.perms == {"r", "x"}


@pytest.mark.parametrize("rule,needle", [
    ("network ip=10.2,", "does not appear to be an IPv4 or IPv6 address"),
    ("network port=65536,", "invalid port"),
    ("network port=443-80,", "invalid port range"),
    ("network ip=192.168.0.1/33,", "prefix length"),
    ("network ip=192.168.0.39-::58c2,", "address range"),
    ("network netlink ip=127.0.0.1,", "inet and inet6 only"),
    ("network bind peer=(ip=127.0.0.1),", "does not apply to bind"),
    ("network send ip=127.0.0.1 ip=::1,", "given twice"),
    ("network local,", "invalid network entry"),
])
def test_network_conditions_the_parser_refuses(rule, needle):
    with pytest.raises(PolicyError, match=needle):
        load_text(f"/t {{\n  {rule}\n}}\n")


def test_network_rules_with_permissions_make_the_class_undecided():
    import lsmsim
    child = load_text("profile c { network inet stream, }\n")
    parent = load_text("profile p { network inet stream,\n"
                       "  deny network (send) inet stream ip=10.0.0.1, }\n")
    result = lsmsim.check(child, parent)
    assert result.verdict is lsmsim.Verdict.UNDECIDED
    assert "not checked yet" in result.undecided[0].reason


def test_exact_paths_beat_wildcards_even_when_written_as_alternations():
    from lsmsim.simulate import exec_mode_at
    profile = load_text("/t {\n  /usr/bin/** rux,\n  /{usr/,}bin/swtpm rmpix,\n}\n").profiles[0]
    assert str(exec_mode_at(profile, "/usr/bin/swtpm", False)) == "pix"
    assert str(exec_mode_at(profile, "/usr/bin/qemu", False)) == "ux"


def test_leading_exec_modes_are_safe_unless_marked_unsafe():
    rules = load_text("/t {\n  Pix /a,\n  unsafe pix /b,\n  px /c,\n}\n").profiles[0].rules
    assert [r.exec.safe for r in rules] == [True, False, True]


@pytest.mark.parametrize("text,needle", [
    ("/t {\n  /bin/cat ux,\n  /bin/cat Ux,\n}\n", "conflicting x modifiers"),
    ("/t {\n  /bin/ls Urx,\n}\n", "right before 'x'"),
    ("/t {\n  lpx /a -> /b,\n}\n", "leading link mode"),
    ("/t {\n  priority=1001 /a r,\n}\n", "outside -1000..1000"),
])
def test_more_of_what_the_parser_refuses(text, needle):
    with pytest.raises(PolicyError, match=needle):
        load_text(text)


def test_a_text_parsed_again_keeps_its_own_file_and_errors_are_raised_each_time():
    """Parses are shared within a process only for the same text under the same name."""
    from lsmsim.frontends.apparmor.parser import parse_text
    text = "/t {\n  /a r,\n}\n"
    first, again, other = (parse_text(text, "a"), parse_text(text, "a"),
                           parse_text(text, "b"))
    assert first is again
    assert first[0].source.file == "a" and other[0].source.file == "b"
    assert str(first[0].items[0].source) == "a:2:3" and str(other[0].items[0].source) == "b:2:3"
    for _ in range(2):
        with pytest.raises(PolicyError) as error:
            parse_text("/t {\n  /a r\n}\n", "broken")
        assert str(error.value.position) == "broken:3:1"
