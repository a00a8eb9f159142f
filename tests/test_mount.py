"""Mount-class rules: how rules compile into entries, what the checker proves and the
witnesses and audit lines it reports."""
from __future__ import annotations

import json

import pytest
import z3
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import lsmsim
from lsmsim.automata.dfa import LazyDFA
from lsmsim.automata.encodings import MOUNT_CLASS
from lsmsim.automata.nfa import TaggedNFA, min_length
from lsmsim.errors import PolicyError
from lsmsim.model.mount import (BIND, MOVE, PRIVATE, RDONLY, REC, REMOUNT, MountRequest,
                                MountRule)
from lsmsim.model.rules import OtherRule
from lsmsim.report.audit import audit_line
from lsmsim.report.model_json import policy_to_json
from lsmsim.simulate import decide
from lsmsim.verify.context import CheckContext, Pair
from lsmsim.verify.mount_space import MountSpace
from lsmsim.verify.prover import Prover
from lsmsim.verify.string_check import _explore, split_signatures

from .helpers import dfa_state, load_text
from .mount_strategies import mount_requests, mount_rule_lines


def _profile(*lines: str):
    return load_text("profile p {\n  " + "\n  ".join(lines) + "\n}\n").profiles[0]


def _allows(lines, request) -> bool:
    return decide(_profile(*lines), request).allowed


def _check(child_lines, parent_lines):
    child = load_text("profile c {\n  " + "\n  ".join(child_lines) + "\n}\n")
    parent = load_text("profile p {\n  " + "\n  ".join(parent_lines) + "\n}\n")
    return lsmsim.check(child, parent)


# Meanings confirmed by walking apparmor_parser 3.0.8's compiled policy
# (tests/test_mount_oracle.py checks them at random).
@pytest.mark.parametrize("lines,access,allowed", [
    (["mount,"], MountRequest("mount", "/m/", "/dev/sda", "ext4", frozenset({RDONLY})), True),
    (["mount /a -> /m,"], MountRequest("mount", "/m", "/a", "xfs", frozenset()), True),
    (["mount /a -> /m,"], MountRequest("mount", "/m", "", "", frozenset({REMOUNT})), False),
    # "remount" alone allows exactly MS_REMOUNT; its options are required flags.
    (["remount /m,"], MountRequest("mount", "/m", flags=frozenset({REMOUNT})), True),
    (["remount /m,"], MountRequest("mount", "/m", flags=frozenset({REMOUNT, RDONLY})), False),
    (["remount options in (ro) /m,"],
     MountRequest("mount", "/m", flags=frozenset({REMOUNT, RDONLY})), True),
    (["remount options in (ro) /m,"], MountRequest("mount", "/m", flags=frozenset({REMOUNT})),
     False),
    (["mount options=(ro) /d -> /m,"], MountRequest("mount", "/m", "/d", "x", frozenset({RDONLY})),
     True),
    (["mount options=(ro) /d -> /m,"], MountRequest("mount", "/m", "/d", "x", frozenset()), False),
    (["mount options in (ro) /d -> /m,"], MountRequest("mount", "/m", "/d", "x", frozenset()),
     True),
    (["mount options=(rbind) /d -> /m,"],
     MountRequest("mount", "/m", "/d", "", frozenset({BIND, REC})), True),
    (["mount options=(rbind) /d -> /m,"], MountRequest("mount", "/m", "/d", "", frozenset({BIND})),
     False),
    (["mount options=(make-private) -> /m,"],
     MountRequest("mount", "/m", "", "", frozenset({PRIVATE})), True),
    (["mount options=(move) /d -> /m,"], MountRequest("mount", "/m", "/d", "", frozenset({MOVE})),
     True),
    (["mount fstype={ext4,xfs} -> /m,"], MountRequest("mount", "/m", "/dev/x", "xfs", frozenset()),
     True),
    (["mount fstype={ext4,xfs} -> /m,"],
     MountRequest("mount", "/m", "/x", "", frozenset({BIND})), False),
    (["umount /m/**,"], MountRequest("umount", "/m/a/"), True),
    (["umount /m/**,"], MountRequest("umount", "/m/"), False),
    (["pivot_root oldroot=/new/old/ /new/,"], MountRequest("pivot_root", "/new/", "/new/old/"),
     True),
    (["pivot_root oldroot=/new/old/ /new/,"], MountRequest("pivot_root", "/new/", "/old/"), False),
    (["mount,", "deny mount fstype=proc,"], MountRequest("mount", "/p/", "proc", "proc",
                                                          frozenset()), False),
    (["mount,", "deny mount fstype=proc,"], MountRequest("mount", "/p/", "/d", "", frozenset({BIND})),
     True),
])
def test_rule_meanings(lines, access, allowed):
    assert _allows(lines, access) is allowed


@pytest.mark.parametrize("line,message", [
    ("mount options=(rw, ro) -> /foo,", "conflicting flags"),
    ("mount options=(XXX) /a -> /1,", "unknown mount option"),
    ("mount options=ro,noexec /dev -> /mnt,", "parentheses"),
    ("mount options in ro /dev -> /mnt,", "parentheses"),
    ("mount options=(private) /a -> /1,", "mount point only"),
    ("mount options=(remount) /a -> /1,", "mount point only"),
    ("mount foo=bar -> /m,", "invalid mount conditional"),
    ("mount /a -> fstype=ext4 /m,", "mount point conditions"),
    ("umount /a -> /b,", "without '->'"),
    ("pivot_root foo=/x /a,", "invalid pivotroot conditional"),
    ("owner mount,", "owner prefix"),
])
def test_refused_rules(line, message):
    with pytest.raises(PolicyError, match=message):
        _profile(line)


def test_lone_source_of_a_propagation_change_is_its_mount_point():
    # AppArmor 4 accepts this deprecated form (3.0.8 refuses it).
    rule = _profile("mount options=(slave) /**,").rules[0]
    assert isinstance(rule, MountRule)
    assert decide(_profile("mount options=(slave) /**,"),
                  MountRequest("mount", "/x/", "", "", frozenset({19}))).allowed


def test_rules_only_apparmor_4_gives_a_meaning_stay_undecided():
    rule = _profile("mount options in (slave) /a/*,").rules[0]
    assert isinstance(rule, OtherRule)
    result = _check(["mount options in (slave) /a/*,"], ["mount,"])
    assert result.verdict is lsmsim.Verdict.UNDECIDED


def test_slashes_and_variables_in_paths():
    text = "@{MNT}=/mnt/\nprofile p {\n  mount /dev///foo -> @{MNT}/bar,\n}\n"
    profile = load_text(text).profiles[0]
    assert decide(profile, MountRequest("mount", "/mnt/bar", "/dev/foo", "x", frozenset())).allowed


@pytest.mark.parametrize("child,parent,verdict", [
    (["mount,"], ["mount,"], "contained"),
    (["mount /a -> /b,"], ["allow mount /a -> /b,"], "contained"),
    (["mount fstype=ext4 /dev/sd* -> /mnt/,"], ["mount -> /mnt/,"], "contained"),
    (["mount -> /mnt/,"], ["mount fstype=ext4 /dev/sd* -> /mnt/,"], "expansions"),
    (["mount options=(ro) -> /m/,"], ["mount options in (ro) -> /m/,"], "contained"),
    (["mount options in (ro) -> /m/,"], ["mount options=(ro) -> /m/,"], "expansions"),
    (["remount /m/,"], ["remount options in (ro) /m/,"], "expansions"),
    (["umount /a/,"], ["umount,"], "contained"),
    (["umount,"], ["umount /a/**,"], "expansions"),
    (["pivot_root oldroot=/n/o/ /n/,"], ["pivot_root /n/,"], "contained"),
    (["pivot_root /n/,"], ["pivot_root oldroot=/n/o/ /n/,"], "expansions"),
    (["mount,"], ["mount,", "deny mount fstype=proc,"], "expansions"),
    (["mount fstype=ext4,"], ["mount,", "deny mount fstype=proc,"], "contained"),
    (["mount,"], ["deny mount,"], "expansions"),
    (["umount,"], ["mount,"], "expansions"),
])
def test_containment_verdicts(child, parent, verdict):
    result = _check(child, parent)
    assert result.verdict.value == verdict, result.denials
    assert not result.undecided
    for denial in result.denials:
        child_profile = _profile(*child)
        parent_profile = _profile(*parent)
        assert decide(child_profile, denial.access).allowed
        assert not decide(parent_profile, denial.access).allowed


def test_one_witness_per_kind_of_mount():
    result = _check(["mount,"], ["umount,"])
    kinds = sorted(d.access.kind for d in result.denials)
    assert kinds == ["bind", "change type", "move", "new", "remount"]


def test_unconfined_parent_contains_mounts_and_complain_child_grants_them():
    unconfined = load_text("profile p flags=(unconfined) {\n}\n")
    child = load_text("profile c {\n  mount,\n  pivot_root,\n}\n")
    assert lsmsim.check(child, unconfined).verdict is lsmsim.Verdict.CONTAINED
    complain = load_text("profile c flags=(complain) {\n}\n")
    parent = load_text("profile p {\n  umount,\n}\n")
    result = lsmsim.check(complain, parent)
    assert {d.access.operation for d in result.denials
            if isinstance(d.access, MountRequest)} == {"mount", "pivot_root"}


def test_pivot_root_target_is_reported_as_a_warning():
    result = _check(["pivot_root /n/ -> other,"], ["pivot_root,"])
    assert result.verdict is lsmsim.Verdict.CONTAINED
    assert any("pivot_root" in w for w in result.warnings)


def test_audit_lines_and_json():
    request = MountRequest("mount", "/mnt/", "/dev/sda1", "ext4", frozenset({RDONLY, 1, 3}))
    assert audit_line(request, "p") == (
        'apparmor="DENIED" operation="mount" profile="p" error=-13 name="/mnt/" '
        'fstype="ext4" srcname="/dev/sda1" flags="ro, nosuid, noexec"')
    bind = MountRequest("mount", "/m/", "/d/", "", frozenset({BIND, REC}))
    assert audit_line(bind, "p").endswith('name="/m/" srcname="/d/" flags="rw, rbind"')
    assert audit_line(MountRequest("pivot_root", "/n/", "/n/o/"), "p") == (
        'apparmor="DENIED" operation="pivotroot" profile="p" error=-13 name="/n/" '
        'srcname="/n/o/"')
    assert request.to_json() == {"class": "mount", "operation": "mount", "kind": "new",
                                 "mountpoint": "/mnt/", "source": "/dev/sda1", "fstype": "ext4",
                                 "flags": ["MS_RDONLY", "MS_NOSUID", "MS_NOEXEC"]}
    assert MountRequest("umount", "/m/").to_json() == {"class": "mount", "operation": "umount",
                                                       "mountpoint": "/m/"}
    model = json.loads(policy_to_json(load_text("profile p {\n  remount /m/,\n}\n")))
    rule = model["profiles"][0]["rules"][0]
    assert rule["kind"] == "mount" and rule["operation"] == "remount"
    assert rule["entries"] == [{"operation": "mount", "mountpoint": "/m/", "source": None,
                                "fstypes": None, "flags": "MS_REMOUNT"}]


@settings(max_examples=200, deadline=None)
@given(mount_requests())
def test_kernel_requests_lie_in_the_domain(request):
    space = MountSpace()
    value = z3.simplify(space.substitute(space.domain(), request))
    assert z3.is_true(value), request


@pytest.mark.parametrize("access", [
    MountRequest("mount", "/m", "", "", frozenset({BIND})),         # a bind mount has a source
    MountRequest("mount", "/m", "/d", "", frozenset({BIND, RDONLY})),  # bind drops other flags
    MountRequest("mount", "/m", "/d", "ext4", frozenset({REMOUNT})),    # remount has no source
    MountRequest("mount", "/m", "/d", "", frozenset({MOVE, REC})),
    MountRequest("mount", "/m", "/d", "", frozenset({31})),            # MS_NOUSER is refused
    MountRequest("umount", "/m", "/d"),
    MountRequest("mount", "m", "/d", "", frozenset()),                  # not a path
])
def test_requests_the_kernel_never_makes_lie_outside(access):
    space = MountSpace()
    assert z3.is_false(z3.simplify(space.substitute(space.domain(), access)))


def _fields_of(request: MountRequest) -> tuple[str, ...]:
    """The strings MOUNT_CLASS writes ``request`` as (the inverse of its decode)."""
    code = {"mount": "m", "umount": "u", "pivot_root": "p"}[request.operation]
    flags = "".join(chr(bit + 1) for bit in sorted(request.flags))
    return f"{code}\0{request.mountpoint}", request.source, request.fstype, flags


def _matched(expressions, text: str) -> frozenset[int]:
    """The indices of ``expressions`` that match ``text``, read on their DFA."""
    dfa = LazyDFA(TaggedNFA.of(list(expressions)))
    return dfa.tags(dfa_state(dfa, text))


@settings(max_examples=200, deadline=None)
@given(st.lists(mount_rule_lines(), min_size=1, max_size=3), mount_requests())
def test_each_string_matched_on_its_own_is_the_rule_matched(lines, request):
    # An alternative matches a request exactly when it matches every string: the
    # check joins the strings' signatures on that.
    try:
        rules = _profile(*lines).rules_of(MountRule)
    except PolicyError:
        assume(False)
    alternatives = [(rule, a) for rule in rules for a in MOUNT_CLASS.expressions(rule)]
    texts = _fields_of(request)
    assert MOUNT_CLASS.decode(*texts) == request
    both = frozenset(range(len(alternatives)))
    for index, text in enumerate(texts):
        both &= _matched([a[index] for _, a in alternatives], text)
    assert {id(alternatives[t][0]) for t in both} == {id(r) for r in rules if r.matches(request)}
    parts = frozenset(range(len(MOUNT_CLASS.domain)))
    for index, text in enumerate(texts):
        parts &= _matched([part[index] for part in MOUNT_CLASS.domain], text)
    assert parts, request


def test_mount_requests_are_four_strings_bounded_field_by_field():
    assert MOUNT_CLASS.width == 4
    assert all(len(part) == 4 for part in MOUNT_CLASS.domain)
    rule = _profile(f"mount fstype={'x' * 5000} -> /m,").rules[0]
    alternatives = MOUNT_CLASS.expressions(rule)
    bounds = [MOUNT_CLASS.max_length(i) for i in range(4)]
    # The type is longer than the kernel copies: no request can match the rule.
    assert [min_length(e) > b for e, b in zip(alternatives[0], bounds)] == [
        False, False, True, False]


def _policy(lines):
    text = "profile p {\n  " + "\n  ".join(lines) + "\n}\n"
    try:
        return load_text(text)
    except PolicyError:
        assume(False)


def _joined(child_policy, parent_policy) -> tuple:
    pair = Pair(child_policy, child_policy.profiles[0], parent_policy, parent_policy.profiles[0])
    ctx = CheckContext(pair, Prover())
    return split_signatures(ctx, MOUNT_CLASS, pair.child.rules_of(MountRule),
                            pair.parent.rules_of(MountRule), _explore)


def _entries(profile) -> list[tuple]:
    """(rule, entry) per alternative, in the order the automata tag them."""
    return [(rule, entry) for rule in profile.rules_of(MountRule) for entry in rule.entries]


def _signature(request, mine, theirs) -> tuple:
    """(child alternatives, parent alternatives, domain parts) that match ``request``,
    read off the model rather than the automata."""
    texts = _fields_of(request)
    parts = frozenset(range(len(MOUNT_CLASS.domain)))
    for index, text in enumerate(texts):
        parts &= _matched([part[index] for part in MOUNT_CLASS.domain], text)
    return (frozenset(t for t, (_, entry) in enumerate(mine) if entry.matches(request)),
            frozenset(t for t, (_, entry) in enumerate(theirs) if entry.matches(request)), parts)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), mount_rule_lines()), min_size=1, max_size=4),
       st.lists(st.tuples(st.booleans(), mount_rule_lines()), max_size=4),
       st.lists(mount_requests(), max_size=20))
def test_joined_signatures_are_those_of_their_requests(child_lines, parent_lines, requests):
    child = _policy([("deny " if deny else "") + line for deny, line in child_lines])
    parent = _policy([("deny " if deny else "") + line for deny, line in parent_lines])
    _, _, signatures = _joined(child, parent)
    # The same input gives the same texts, in the same order.
    assert list(_joined(child, parent)[2].items()) == list(signatures.items())
    mine, theirs = _entries(child.profiles[0]), _entries(parent.profiles[0])
    for key, texts in signatures.items():
        assert _signature(MOUNT_CLASS.decode(*texts), mine, theirs) == key
        assert any(not mine[t][0].deny for t in key[0])  # a join that grants nothing is dropped
    # Every request a child allow alternative matches has its signature there, with
    # texts no longer than its own.
    for request in requests:
        key = _signature(request, mine, theirs)
        if any(not mine[t][0].deny for t in key[0]):
            assert sum(map(len, signatures[key])) <= sum(map(len, _fields_of(request)))
