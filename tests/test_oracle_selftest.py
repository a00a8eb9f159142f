"""Self-test of tests/oracle/apparmor_oracle.py against facts in docs/apparmor.md.

Needs apparmor_parser (Debian package apparmor 3.0.8) and the corpus at
``<repo>/../shared/corpus``; the whole module is skipped without them.
"""
from __future__ import annotations

import time

import pytest

try:
    from tests.oracle import apparmor_oracle as aa
except ImportError:  # tests/ itself on sys.path
    from oracle import apparmor_oracle as aa  # type: ignore[no-redef]

pytestmark = aa.pytest_marks()


def grants(body: str, path: str, preamble: str = "") -> tuple[str, str]:
    """Letters granted on ``path`` by a one-profile policy, as (owner, other)."""
    perms = aa.compile_profile(f"{preamble}profile t {{\n{body}\n}}\n").file_perms(path)
    return "".join(sorted(perms.owner.letters)), "".join(sorted(perms.other.letters))


# --- facts stated in docs/apparmor.md ---------------------------------------------------

@pytest.mark.parametrize(("body", "path", "owner", "other"), [
    ("/tmp/** r,", "/tmp/", "", ""),
    ("/tmp/** r,", "/tmp/a", "r", "r"),
    ("/tmp/** r,", "/tmp/a/b/", "r", "r"),
    ("/tmp/* r,", "/tmp//x", "", ""),
    ("/a/**/end r,", "/a/end", "", ""),
    ("/a/**/end r,", "/a/b/end", "r", "r"),
    ("/pre*fix r,", "/prefix", "r", "r"),
    ("/x[^a] r,", "/x/", "r", "r"),
    ("/x[^a] r,", "/xa", "", ""),
    ("/dir/ r,", "/dir", "", ""),
    ("/g//x r,", "/g/x", "r", "r"),
    ("owner /f w,", "/f", "aw", ""),
    ("other /f r,", "/f", "", "r"),
    ("/f rw,\ndeny /f w,", "/f", "r", "r"),
    ("/f rw,\ndeny /f a,", "/f", "rw", "rw"),
    ("/f a,", "/f", "a", "a"),
    ("file,", "/", "aklmrwx", "aklmrwx"),
    ("file,", "/any/dir/", "aklmrwx", "aklmrwx"),
])
def test_documented_file_semantics(body: str, path: str, owner: str, other: str) -> None:
    assert grants(body, path) == (owner, other)


def test_w_is_compiled_as_w_plus_a_on_the_owner_half_only() -> None:
    perms = aa.compile_profile("profile t {\n owner /f w,\n}\n").file_perms("/f")
    assert perms.masks.allow == 0x2 | 0x8
    assert perms.other.bits == 0


def test_deny_w_removes_a_and_keeps_the_deny_mask() -> None:
    perms = aa.compile_profile("profile t {\n /f rw,\n deny /f w,\n}\n").file_perms("/f")
    assert perms.masks.deny & 0xA == 0xA and perms.owner.letters == {"r"}


def test_exact_match_beats_glob_for_exec() -> None:
    policy = aa.compile_profile("profile t {\n /usr/bin/** Px,\n /usr/bin/exact ix,\n}\n")
    exact, other = policy.file_perms("/usr/bin/exact"), policy.file_perms("/usr/bin/other")
    assert exact.owner.exec_type == exact.other.exec_type == "ix"
    assert exact.owner.letters == {"x", "m"}  # ix implies m
    assert other.owner.exec_type == other.other.exec_type == "px"
    assert other.owner.exec_safe is True


def test_file_rule_gives_ix() -> None:
    perms = aa.compile_profile("profile t {\n file,\n}\n").file_perms("/usr/bin/true")
    assert perms.owner.exec_type == perms.other.exec_type == "ix"


@pytest.mark.parametrize(("rule", "mode", "safe", "index"), [
    ("ix", "ix", True, 0), ("Ux", "ux", True, 1), ("ux", "ux", False, 1),
    ("Px", "px", True, 2), ("px", "px", False, 2), ("Cx", "cx", True, 3),
    ("pix", "pix", False, 2), ("Pix", "pix", True, 2), ("PUx", "pux", True, 2),
    ("pux", "pux", False, 2), ("cix", "cix", False, 3), ("CUx", "cux", True, 3),
])
def test_exec_modes_decode(rule: str, mode: str, safe: bool, index: int) -> None:
    half = aa.compile_profile(f"profile t {{\n /bin/e {rule},\n}}\n").file_perms("/bin/e").owner
    assert (half.exec_type, half.exec_safe, half.exec_index) == (mode, safe, index)


def test_named_exec_targets_use_the_xtable() -> None:
    policy = aa.compile_profile(
        "profile t {\n /bin/a px -> foo,\n /bin/b cx -> kid,\n profile kid { }\n}\n")
    table = policy.profile("t").exec_targets
    for path, target in (("/bin/a", "foo"), ("/bin/b", "t//kid")):
        index = policy.file_perms(path, "t").owner.exec_index
        assert index is not None and index >= 4 and table[index - 4] == target


def test_deny_x_clears_exec_bits() -> None:
    perms = aa.compile_profile("profile t {\n /f ix,\n deny /f x,\n}\n").file_perms("/f")
    assert perms.owner.exec_type is None and "x" not in perms.owner.letters


# --- findings recorded in the oracle's docstring ----------------------------------------

HOME = "@{HOME}=/home/*/ /root/\n"


@pytest.mark.parametrize(("path", "granted"), [
    ("/home/u/foo", True), ("/root/foo", True), ("/home/u//foo", False),
    ("/root//foo", False), ("/home//foo", True),
])
def test_variable_trailing_slash_is_squashed(path: str, granted: bool) -> None:
    assert grants("@{HOME}/foo r,", path, HOME) == (("r", "r") if granted else ("", ""))


@pytest.mark.parametrize(("body", "preamble"), [
    ("/{a/,b/}/x r,", ""), ("@{D}/x r,", "@{D}={/a/,/b/}\n")])
def test_alternation_slashes_are_not_squashed(body: str, preamble: str) -> None:
    assert grants(body, "/a/x", preamble) == ("", "")
    assert grants(body, "/a//x", preamble) == ("r", "r")


@pytest.mark.parametrize(("body", "path", "granted"), [
    ("/tmp/{,**} r,", "/tmp/", True), ("/tmp/{,**} r,", "/tmp", False),
    ("/tmp/{,**} r,", "/tmp//", True), ("/tmp/{,**} r,", "/tmp/a/", True),
    ("/tmp{,/**} r,", "/tmp/", True), ("/tmp{,/**} r,", "/tmp", True),
    ("/tmp{,/**} r,", "/tmp/a", True),
])
def test_empty_alternation_around_globstar(body: str, path: str, granted: bool) -> None:
    assert grants(body, path) == (("r", "r") if granted else ("", ""))


# --- structure: several profiles, xmatch, capabilities, blob ----------------------------

POLICY = """
profile zz {
  /zz r,
  ^zhat { /zhat r, }
  profile akid { /akid r, profile deep { /deep r, } }
  profile mkid /usr/bin/m* { /mkid r, }
}
profile :ns1:bb { /bb r, }
profile aa /usr/bin/aa { capability chown, }
profile /usr/bin/g* { /g r, }
profile cc {
  capability chown, capability mac_admin, audit capability kill,
  deny capability sys_admin, capability syslog,
}
"""


def test_dfas_are_assigned_to_the_right_profiles() -> None:
    policy = aa.compile_profile(POLICY)
    own = {"zz": "/zz", "zz//zhat": "/zhat", "zz//akid": "/akid", "zz//akid//deep": "/deep",
           "zz//mkid": "/mkid", ":ns1://bb": "/bb", "/usr/bin/g*": "/g"}
    assert set(policy.profiles) == set(own) | {"aa", "cc"}
    for name, path in own.items():
        for other in own.values():
            expected = {"r"} if other == path else set()
            assert policy.file_perms(other, name).owner.letters == expected, (name, other)
    assert policy.profiles["aa"].file is None and policy.profiles["cc"].xmatch is None
    xmatch = {n for n, p in policy.profiles.items() if p.xmatch is not None}
    assert xmatch == {"zz//mkid", "aa", "/usr/bin/g*"}
    assert policy.profiles["zz//mkid"].xmatch.walk(b"/usr/bin/mx").allow == 0x1
    assert policy.profiles["aa"].xmatch.walk(b"/usr/bin/ab").allow == 0


def test_capabilities_from_the_blob() -> None:
    policy = aa.compile_profile(POLICY)
    assert policy.capabilities("cc") == {"chown", "kill", "mac_admin", "syslog"}
    assert policy.profiles["cc"].caps_audit == 1 << 5
    assert policy.profiles["cc"].caps_quiet == 1 << 21  # a plain deny is quiet
    assert policy.capabilities("aa") == {"chown"} and policy.capabilities("zz") == set()
    every = aa.compile_profile("profile t {\n capability,\n}\n")
    assert every.capabilities() == set(aa.CAPABILITIES)


def test_blob_matches_plain_compile() -> None:
    text = "profile t {\n /tmp/** rw,\n}\n"
    assert aa.compile_profile(text).blob == aa.compile_blob(text)


def test_same_blob_containment() -> None:
    parent = "profile t {\n /tmp/** rw,\n /etc/hosts r,\n}\n"
    within = parent.replace("}\n", " /tmp/a/b r,\n owner /tmp/x w,\n}\n")
    beyond = parent.replace("}\n", " /etc/passwd r,\n}\n")
    assert aa.same_blob(parent, within)
    assert not aa.same_blob(parent, beyond)


def test_plain_deny_of_an_ungranted_permission_changes_the_blob() -> None:
    parent = "profile t {\n /f r,\n}\n"
    assert not aa.same_blob(parent, parent.replace("}\n", " deny /f w,\n}\n"))
    assert aa.same_blob(parent, parent.replace("}\n", " audit deny /f w,\n}\n"))


PROBE_PROFILE = """profile t {
  /srv/** r,
  owner /srv/*/data/** rwk,
  /srv/[^.]*/cache/ rw,
  /srv/{a,b}/*.so mr,
  other /srv/log/* a,
}
"""


@pytest.mark.parametrize("path", [
    "/srv/", "/srv/x", "/srv/a/data/f", "/srv/.h/cache/", "/srv/q/cache/", "/srv/a/lib.so",
    "/srv/c/lib.so", "/srv/log/1", "/srv/a/data/",
])
def test_walk_agrees_with_the_blob(path: str) -> None:
    """A rule granting exactly what the walk reports leaves the blob unchanged;
    one more letter changes it."""
    policy = aa.compile_profile(PROBE_PROFILE)
    perms = policy.file_perms(path)
    for qual, half in (("owner", perms.owner), ("other", perms.other)):
        letters = half.letters - ({"a"} if "w" in half.letters else set())
        if letters:
            rule = f"  {qual} {path} {''.join(sorted(letters))},\n}}\n"
            assert aa.same_blob(PROBE_PROFILE, PROBE_PROFILE.replace("}\n", rule)), (qual, rule)
        missing = {"r", "k", "m", "w"} - half.letters - ({"w"} if "a" in half.letters else set())
        for extra in sorted(missing):
            rule = f"  {qual} {path} {''.join(sorted(letters | {extra}))},\n}}\n"
            assert not aa.same_blob(PROBE_PROFILE, PROBE_PROFILE.replace("}\n", rule)), (qual, rule)


# --- the dump reader and the runner -----------------------------------------------------

def test_class_list_readings() -> None:
    assert aa._class_parses(r"\x0/") == [frozenset({0, ord("/")})]
    assert aa._class_parses(r"\x1\x7f\x80\xff") == [frozenset({1, 0x7F, 0x80, 0xFF})]
    assert aa._class_parses(r"\x00") == [frozenset({0, ord("0")})]  # hex is not padded
    assert len(aa._class_parses(r"\x0\t")) == 2  # TAB, or a raw backslash and 't'
    assert aa._class_parses(r"\x0\[\]^") == [frozenset({0, ord("["), ord("]"), ord("^")})]
    assert set(aa._class_parses(r"\x1f")) == {frozenset({0x1F}), frozenset({1, ord("f")})}
    assert set(aa._class_parses("\\a")) == {frozenset({7}), frozenset({ord("\\"), ord("a")})}


def test_ambiguous_class_is_reported_not_guessed() -> None:
    policy = aa.compile_profile('profile t {\n "/t[^\\\\\\\\a]x" r,\n}\n')
    assert policy.file_perms("/tbx").owner.letters == {"r"}
    with pytest.raises(aa.AmbiguousDump):
        policy.file_perms("/tax")


def test_compile_error_carries_stderr() -> None:
    with pytest.raises(aa.CompileError) as err:
        aa.compile_profile("profile t {\n /f rwx,\n}\n")
    assert "exec qualifier" in err.value.stderr


def test_timeout_kills_the_process_group() -> None:
    start = time.monotonic()
    with pytest.raises(aa.CompileTimeout):
        aa.run_killable(["sh", "-c", "sleep 30 & sleep 30"], timeout=0.5)
    assert time.monotonic() - start < 10
