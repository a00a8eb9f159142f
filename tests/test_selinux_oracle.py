"""The simulator against libsepol and setools on compiled policies: every (source
type, target type, class, permission) of small policies, over several users, roles
and levels, decided by both."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from lsmsim.frontends.selinux import load_selinux
from lsmsim.model.selinux import OBJECT_R, Context, Level, Range, SELinuxRequest
from lsmsim.simulate.selinux import compute_av, decide

from .conftest import MODELS
from .selinux_oracle import HERE, audit2why, compare_every_access, compile_policy, setools

LEVELS = [("s0", ()), ("s0", ("c0",)), ("s0", ("c0", "c1")), ("s0", ("c2",)),
          ("s0", ("c0", "c1", "c2", "c3"))]
RANGES = [Range(Level(s, frozenset(c)), Level(s, frozenset(c))) for s, c in LEVELS] + [
    Range(Level("s0"), Level("s0", frozenset({"c0", "c1", "c2", "c3"})))]


def _variant(tmp_path: Path, flag: bool) -> Path:
    text = (HERE / "oracle.conf").read_text().replace("BOOLVALUE", "true" if flag else "false")
    path = tmp_path / f"oracle-{flag}.conf"
    path.write_text(text)
    return path


def _subjects(policy):
    for user in sorted(policy.users.values(), key=lambda u: u.name):
        for role in sorted(user.roles):
            for type_ in sorted(policy.roles[role]):
                yield Context(user.name, role, type_, None)


@pytest.fixture(scope="module", params=[False, True], ids=["flag-off", "flag-on"])
def compiled(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("oracle")
    source = _variant(tmp, request.param)
    binary = compile_policy(source, tmp / "policy.bin")
    return load_selinux(source), binary


def test_every_access_agrees_with_libsepol(compiled):
    """Allowed exactly when libsepol's access computation allows (MLS, RBAC, bounds)."""
    policy, binary = compiled
    checked, allowed = compare_every_access(policy, binary, RANGES[::2], RANGES[:5])
    assert checked > 10_000 and 0 < allowed < checked


def test_bounds_and_constraints_are_exercised(compiled):
    """The oracle policy really denies for each of the kernel's reasons."""
    policy, binary = compiled
    a2w = audit2why()
    a2w.init(str(binary))
    try:
        seen = set()
        for s in _subjects(policy):
            for t in policy.types:
                for perm in ("read", "write"):
                    for rng in RANGES:
                        rc, _ = a2w.analyze(str(Context(s.user, s.role, s.type, RANGES[1])),
                                            str(Context("alice_u", OBJECT_R, t, rng)), "file", [perm])
                        seen.add(rc)
        assert {a2w.ALLOW, a2w.TERULE, a2w.CONSTRAINT, a2w.BOUNDS} <= seen
    finally:
        a2w.finish()


@pytest.mark.parametrize("name", ["svirt-parent.conf", "container-within.conf",
                                  "container-expands.conf"])
def test_te_rules_agree_with_setools(name, tmp_path):
    """The allow rules matching each (source, target, class), attributes expanded, grant
    the permissions setools' TERuleQuery finds (booleans at their defaults)."""
    st = setools()
    source = MODELS / "selinux" / name
    binary = compile_policy(source, tmp_path / "policy.bin")
    policy = load_selinux(source)
    compiled = st.SELinuxPolicy(str(binary))
    defaults = dict(policy.booleans)
    for stype, ttype in itertools.product(policy.types, repeat=2):
        for tclass in policy.classes:
            mine = set()
            for rule in policy.allow_rules():
                if rule.active(defaults) and rule.matches_types(policy, stype, ttype):
                    mine |= rule.perms_for(tclass)
            theirs = set()
            for rule in st.TERuleQuery(compiled, ruletype=["allow"], source=stype,
                                       target=ttype, tclass=[tclass]).results():
                try:
                    cond = rule.conditional
                except Exception:  # noqa: BLE001 - unconditional rules raise here
                    cond = None
                if cond is not None and cond.evaluate(**defaults) != rule.conditional_block:
                    continue
                if _rule_matches(st, rule, stype, ttype):
                    theirs |= set(rule.perms)
            assert mine == theirs, (stype, ttype, tclass)


def _rule_matches(st, rule, stype, ttype) -> bool:
    # TERuleQuery matches source and target independently; "self" ties them together.
    sources = {str(t) for t in rule.source.expand()}
    targets = {str(t) for t in rule.target.expand()}
    return stype in sources and ttype in targets


def test_shipped_models_compile(tmp_path):
    for path in sorted((MODELS / "selinux").glob("*.conf")):
        compile_policy(path, tmp_path / (path.stem + ".bin"))


def test_simulator_on_svirt_matches_libsepol(tmp_path):
    """The sVirt facts of docs/selinux.md §1.3 on the shipped parent, by both."""
    source = MODELS / "selinux" / "svirt-parent.conf"
    binary = compile_policy(source, tmp_path / "p.bin")
    policy = load_selinux(source)
    a2w = audit2why()
    a2w.init(str(binary))
    try:
        guest = "system_u:system_r:svirt_t:s0:c1,c2"
        cases = [("system_u:object_r:svirt_image_t:s0:c1,c2", "write", True),
                 ("system_u:object_r:svirt_image_t:s0:c1", "read", True),
                 ("system_u:object_r:svirt_image_t:s0:c3,c4", "read", False),
                 ("system_u:object_r:svirt_image_t:s0:c1,c3", "write", False),
                 ("system_u:object_r:svirt_image_t:s0:c3,c4", "getattr", True),
                 ("system_u:object_r:virt_content_t:s0", "read", True),
                 ("system_u:object_r:virt_content_t:s0", "write", False)]
        from lsmsim.model.selinux import parse_context
        for tcon, perm, expected in cases:
            rc, _ = a2w.analyze(guest, tcon, "file", [perm])
            mine = decide(policy, SELinuxRequest(parse_context(guest), parse_context(tcon),
                                                 "file", perm)).allowed
            assert (rc == a2w.ALLOW) == mine == expected, (tcon, perm, rc)
        virtd = parse_context("system_u:system_r:virtd_t:s0-s0:c0.c1023")
        vector = compute_av(policy, virtd, parse_context("system_u:object_r:svirt_image_t:s0:c3,c4"),
                            "file", policy.booleans)
        assert "write" in vector.granted
    finally:
        a2w.finish()
