"""lsmsim against the real compiler (apparmor_parser 3.0.8).

1. For random profiles, the permissions lsmsim computes for random paths equal the
   ones the compiled DFA gives (and both accept or both reject the profile).
2. For random child/parent pairs, the verdict equals the compiler's: a child with no
   deny or audit rules is contained exactly when compiling the parent with the
   child's rules pasted in gives a byte-identical blob (DESIGN §7), and every
   witness is allowed by the compiled child and denied by the compiled parent.

Skipped, with the reason, where apparmor_parser or the corpus features file is absent.
"""
from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lsmsim
from lsmsim.errors import PolicyError
from lsmsim.model.link import LinkRequest, LinkRule
from lsmsim.model.requests import ExecRequest, FileRequest
from lsmsim.simulate import file_permissions

from .helpers import load_text
from .oracle import apparmor_oracle as aa
from .mount_strategies import MOUNT_PERMS, kernel_string, mount_requests, mount_rule_lines
from .strategies import file_rule_lines, globs, ipc_lines, paths, profiles

pytestmark = aa.pytest_marks()

ORACLE_SETTINGS = settings(max_examples=int(os.environ.get("LSMSIM_ORACLE_EXAMPLES", "60")),
                           deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The permission comparison is the main differential test: at least 500 random
# profiles on every run.
PROFILE_SETTINGS = settings(ORACLE_SETTINGS, max_examples=max(
    500, int(os.environ.get("LSMSIM_ORACLE_EXAMPLES", "60"))))


def _compile(text: str):
    try:
        return aa.compile_profile(text)
    except aa.CompileTimeout:
        pytest.skip("apparmor_parser timed out (it can loop on some inputs)")
    except aa.CompileError:
        return None


def _load(text: str):
    try:
        return load_text(text)
    except PolicyError:
        return None


@PROFILE_SETTINGS
@given(profiles(), st.lists(paths(), min_size=3, max_size=8))
def test_permissions_equal_the_compiled_dfa(text, probes):
    compiled, ours = _compile(text), _load(text)
    assert (compiled is None) == (ours is None), text
    if ours is None:
        return
    profile = ours.profiles[0]
    for path in probes:
        truth = compiled.file_perms(path)
        for owner, half in ((True, truth.owner), (False, truth.other)):
            assert file_permissions(profile, path, owner) == half.letters, (text, path, owner)


def _body(text: str) -> str:
    return text[text.index("{") + 1:text.rindex("}")]


# lsmsim reasons about canonical paths only (the kernel mediates d_path names, which
# never hold "." or ".." components or "//"), the compiled DFA about every string:
# child globs that could match such names are left out of the verdict comparison
# (a "**" before a "/" matches "//" there).
_NON_CANONICAL = re.compile(r"/\.\.?(?=[/ {,}])|\[\^|/\{[^}]*,\}/|\{,|,\}|\*\*/")


@st.composite
def child_rule_lines(draw) -> str:
    line = draw(file_rule_lines().filter(lambda text: not _NON_CANONICAL.search(text)))
    return re.sub(r"^(audit |deny |deny owner )", "", line)


@st.composite
def pairs(draw):
    parent = draw(profiles("p"))
    child_lines = draw(st.lists(child_rule_lines(), min_size=1, max_size=3))
    child = "profile c {\n  " + "\n  ".join(child_lines) + "\n}\n"
    return child, parent


@ORACLE_SETTINGS
@given(pairs())
def test_verdicts_and_witnesses_agree_with_the_compiler(pair):
    child_text, parent_text = pair
    child, parent = _load(child_text), _load(parent_text)
    if child is None or parent is None:
        return
    result = lsmsim.check(child, parent)
    assert not result.undecided
    pasted = parent_text[:parent_text.rindex("}")] + _body(child_text) + "}\n"
    # A parent that alone is rejected makes both sides meaningless for the comparison.
    if _compile(parent_text) is None or _compile(pasted) is None:
        return
    links = any(isinstance(r, LinkRule) for side in (child, parent)
                for r in side.profiles[0].rules)
    if "deny" not in parent_text and not links:
        # With a parent deny the pasted rules would be masked by it: the blob method
        # then proves nothing about the child alone (the witness check below still runs).
        # Nor with an 'l': its subset test reads each profile's own permissions, so a
        # pasted rule can narrow as well as widen.
        contained = aa.same_blob(parent_text, pasted)
        assert (result.verdict is lsmsim.Verdict.CONTAINED) == contained, (child_text, parent_text)
    compiled_child, compiled_parent = _compile(child_text), _compile(parent_text)
    for denial in result.denials:
        access = denial.access
        if isinstance(access, LinkRequest):
            assert kernel_link_allowed(compiled_child, access), (denial, child_text)
            assert not kernel_link_allowed(compiled_parent, access), (denial, parent_text)
            continue
        assert isinstance(access, (FileRequest, ExecRequest))
        letters = access.perms if isinstance(access, FileRequest) else frozenset("x")
        c = compiled_child.file_perms(access.path)
        p = compiled_parent.file_perms(access.path)
        c_half, p_half = (c.owner, p.owner) if access.owner else (c.other, p.other)
        assert letters <= c_half.letters, (denial, child_text)
        assert not (letters & p_half.letters), (denial, parent_text)


def _half_bits(perms: aa.FilePerms, owner: bool) -> int:
    return (perms.owner if owner else perms.other).bits


def kernel_link_allowed(compiled, request: LinkRequest) -> bool:
    """security/apparmor/file.c ``profile_path_link`` on the compiled file DFA: ``l``
    on the new name and on the pair ``NEW \\0 TARGET``; where the pair carries the
    subset bit (0x20), the new name's permissions within the target's and the same
    exec type (bits 0x3F80, the unsafe bit 0x100 allowed on the target only)."""
    link, target, owner = request.link, request.target, request.owner
    first = _half_bits(compiled.file_perms(link), owner)
    second = _half_bits(compiled.file_perms(link + "\0" + target), owner)
    if not (first & 0x10 and second & 0x10):
        return False
    if not second & 0x20:
        return True
    on_link, on_target = compiled.file_perms(link), compiled.file_perms(target)
    lost = (on_link.owner if owner else on_link.other).letters - {"l"} \
        - (on_target.owner if owner else on_target.other).letters
    if lost:
        return False
    link_bits, target_bits = first, _half_bits(on_target, owner)
    if link_bits & 0x1 and target_bits & 0x1:
        same = (link_bits & 0x3E80) == (target_bits & 0x3E80)
        return same and (not link_bits & 0x100 or bool(target_bits & 0x100))
    return True


@pytest.mark.parametrize("body,path", [
    ("@{HOME}/foo r,", "/home/u/foo"),
    ("@{HOME}/foo r,", "/root/foo"),
    ("@{HOME}/foo r,", "/home//foo"),
    ("/usr/bin/** Px,\n  /usr/bin/exact ix,", "/usr/bin/exact"),
    ("file,", "/etc/shadow"),
    ("/tmp/{,**} r,", "/tmp/"),
])
def test_documented_cases_match_the_compiler(body, path):
    text = "@{HOME}=/home/*/ /root/\nprofile t {\n  " + body + "\n}\n"
    truth = aa.compile_profile(text).file_perms(path)
    profile = load_text(text).profiles[0]
    assert file_permissions(profile, path, True) == truth.owner.letters
    assert file_permissions(profile, path, False) == truth.other.letters


def _verdict_agrees_with_pasted_blob(child_lines: list[str], parent_lines: list[str]) -> None:
    """For allow-only rules: lsmsim says contained exactly when compiling the parent
    with the child's rules pasted in leaves its blob unchanged."""
    child_text = "profile c {\n  " + "\n  ".join(child_lines) + "\n}\n"
    parent_text = "profile p {\n  " + "\n  ".join(parent_lines) + "\n}\n"
    pasted = "profile p {\n  " + "\n  ".join(parent_lines + child_lines) + "\n}\n"
    result = lsmsim.check(load_text(child_text), load_text(parent_text))
    assert not result.undecided
    contained = aa.same_blob(parent_text, pasted)
    assert (result.verdict is lsmsim.Verdict.CONTAINED) == contained, (child_text, parent_text,
                                                                        result.denials)


PEER_CONDITIONS = ["", " peer=libvirtd", " peer=libvirt-*", " peer=unconfined", " peer={a,b}*"]


@st.composite
def access_lines(draw) -> str:
    if draw(st.booleans()):
        perms = draw(st.sampled_from(["", " send", " receive", " (send, receive)", " rw"]))
        sigs = draw(st.sampled_from(["", " set=(kill)", " set=(hup term)", " set=(int, kill)"]))
        return f"signal{perms}{sigs}{draw(st.sampled_from(PEER_CONDITIONS))},"
    perms = draw(st.sampled_from(["", " read", " trace", " (readby, tracedby)", " (read, trace)"]))
    return f"ptrace{perms}{draw(st.sampled_from(PEER_CONDITIONS))},"


@ORACLE_SETTINGS
@given(st.lists(access_lines(), min_size=1, max_size=3),
       st.lists(access_lines(), min_size=1, max_size=3))
def test_signal_and_ptrace_verdicts_agree_with_the_compiler(child_lines, parent_lines):
    """Allow-only signal/ptrace rules: contained exactly when the parent's blob does
    not change with the child's rules pasted in."""
    _verdict_agrees_with_pasted_blob(child_lines, parent_lines)


@ORACLE_SETTINGS
@given(st.lists(ipc_lines(), min_size=1, max_size=3),
       st.lists(ipc_lines(), min_size=1, max_size=3))
def test_dbus_and_unix_verdicts_agree_with_the_compiler(child_lines, parent_lines):
    """Allow-only dbus/unix rules: contained exactly when the parent's blob does not
    change with the child's rules pasted in."""
    _verdict_agrees_with_pasted_blob(child_lines, parent_lines)



def _mount_profile(lines: list[str]):
    """The compiled and the loaded profile, or None where either side refuses the rules
    or lsmsim keeps one as text."""
    text = "profile p {\n  " + "\n  ".join(lines) + "\n}\n"
    loaded = _load(text)
    if loaded is None or any(type(r).__name__ == "OtherRule" for r in loaded.profiles[0].rules):
        return None
    compiled = _compile(text)
    return None if compiled is None else (compiled.profile("p").policydb, loaded)


@ORACLE_SETTINGS
@given(st.lists(mount_rule_lines(), min_size=1, max_size=3),
       st.lists(mount_rule_lines(), min_size=1, max_size=3),
       st.lists(mount_requests(), min_size=20, max_size=40))
def test_mount_verdicts_agree_with_the_compiler(child_lines, parent_lines, probes):
    """Allow-only mount, remount, umount and pivot_root rules. A parent whose blob does
    not change with the child's rules pasted in contains the child; every witness is
    allowed by the compiled child and denied by the compiled parent; and where lsmsim
    proves containment, no request the kernel can make (probed at random) is allowed by
    the compiled child and denied by the compiled parent. (The blob may still change
    for strings the kernel never matches, such as a mount point that is not a path.)"""
    child, parent = _mount_profile(child_lines), _mount_profile(parent_lines)
    if child is None or parent is None:
        return
    result = lsmsim.check(child[1], parent[1])
    assert not result.undecided
    pasted = "profile p {\n  " + "\n  ".join(parent_lines + child_lines) + "\n}\n"
    parent_text = "profile p {\n  " + "\n  ".join(parent_lines) + "\n}\n"
    if aa.same_blob(parent_text, pasted):
        assert result.verdict is lsmsim.Verdict.CONTAINED, (child_lines, parent_lines)

    def allows(policydb, request) -> bool:
        masks = policydb.walk(kernel_string(request))
        bit = MOUNT_PERMS[request.operation]
        return bool(masks.allow & bit) and not masks.deny & bit
    for denial in result.denials:
        assert allows(child[0], denial.access) and not allows(parent[0], denial.access), denial
    if result.verdict is lsmsim.Verdict.CONTAINED:
        for request in probes:
            assert not allows(child[0], request) or allows(parent[0], request), request


LINK_GLOBS = ["/a", "/a*", "/b/*", "/b/**", "/{a,b}", "/c", "/a/b"]


@st.composite
def link_rule_lines(draw, subset: bool) -> str:
    qualifier = draw(st.sampled_from(["", "", "owner ", "other "]))
    keyword = draw(st.sampled_from(["link", "link subset"] if subset else ["link"]))
    return f"{qualifier}{keyword} {draw(st.sampled_from(LINK_GLOBS))} -> " \
           f"{draw(st.sampled_from(LINK_GLOBS))},"


@ORACLE_SETTINGS
@given(st.lists(link_rule_lines(subset=False), min_size=1, max_size=3),
       st.lists(link_rule_lines(subset=True), min_size=1, max_size=3))
def test_link_verdicts_agree_with_the_compiler(child_lines, parent_lines):
    """Allow-only link rules: contained exactly when the parent's blob does not change
    with the child's rules pasted in. The child asks for no subset test (pasting one
    in adds a restriction, not a grant), the parent has no file rules (so its own
    subset test never fails)."""
    _verdict_agrees_with_pasted_blob(child_lines, parent_lines)


# Targets a child may name in the blob comparison: a stacking change ("&X") only
# narrows each layer, so lsmsim finds no expansion in it although the blob changes.
CHANGE_TARGETS = ["foo", "f*", "**", ":ns:foo", "{foo,bar}", "bar//baz", "unconfined", "/bin/*"]


@ORACLE_SETTINGS
@given(st.lists(st.sampled_from(CHANGE_TARGETS), min_size=1, max_size=3),
       st.lists(st.sampled_from(CHANGE_TARGETS + ["&foo"]), min_size=1, max_size=3))
def test_change_profile_verdicts_agree_with_the_compiler(child_targets, parent_targets):
    """Allow-only change_profile rules without exec conditions (an exec condition adds
    exec bits to the compiled pair, which the blob comparison would count)."""
    _verdict_agrees_with_pasted_blob([f"change_profile -> {t}," for t in child_targets],
                                     [f"change_profile -> {t}," for t in parent_targets])


@st.composite
def exec_rule_lines(draw) -> str:
    if draw(st.booleans()):
        qualifier = draw(st.sampled_from(["", "", "owner ", "other "]))
        mode = draw(st.sampled_from(["ix", "px", "Px", "ux", "cx", "pix", "Cx -> k", "px -> k"]))
        return f"{qualifier}{draw(globs())} {mode},"
    safety = draw(st.sampled_from(["", "safe ", "unsafe "]))
    deny = draw(st.sampled_from(["", "", "deny "]))
    target = draw(st.sampled_from(["foo", "f*", "{foo,bar}"]))
    return f"{deny}change_profile {safety}{draw(globs())} -> {target},"


@ORACLE_SETTINGS
@given(st.lists(exec_rule_lines(), min_size=2, max_size=5))
def test_conflicting_exec_modes_are_refused_as_the_compiler_does(lines):
    """Two rules that give one path different exec modes are refused, unless exactly
    one of them is an exact path (which then overrides the other)."""
    text = "profile t {\n  " + "\n  ".join(lines) + "\n}\n"
    assert (_compile(text) is None) == (_load(text) is None), text
