"""The CIL front end against secilc, libsepol and setools: a CIL policy using
blocks, inheritance, macros, optionals, attribute expressions, aliases, class
permission sets and maps, a boolean and a tunable is compiled by secilc, and every
(source, target, class, permission) over several users, roles and levels is decided
by lsmsim's simulator and by libsepol."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from lsmsim.frontends.selinux import load_cil
from lsmsim.model.selinux import Level, Range

from .selinux_oracle import HERE, compare_every_access, secilc, setools, te_permissions

LEVELS = [(), ("c0",), ("c0", "c1"), ("c2",), ("c0", "c1", "c2", "c3")]
RANGES = [Range(Level("s0", frozenset(c)), Level("s0", frozenset(c))) for c in LEVELS] + [
    Range(Level("s0"), Level("s0", frozenset({"c0", "c1", "c2", "c3"})))]
VARIANTS = [("true", "true"), ("false", "false"), ("true", "false")]


def _variant(tmp: Path, flag: str, tunable: str) -> Path:
    text = (HERE / "oracle.cil").read_text()
    path = tmp / f"oracle-{flag}-{tunable}.cil"
    path.write_text(text.replace("BOOLVALUE", flag).replace("TUNVALUE", tunable))
    return path


@pytest.fixture(scope="module", params=VARIANTS, ids=["-".join(v) for v in VARIANTS])
def compiled(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cil-oracle")
    source = _variant(tmp, *request.param)
    return load_cil(source), secilc([source], tmp / "policy.bin")


def test_every_access_agrees_with_libsepol(compiled):
    """Allowed exactly when libsepol's access computation on secilc's binary allows."""
    policy, binary = compiled
    checked, allowed = compare_every_access(policy, binary, RANGES[::2], RANGES[:5])
    assert checked > 20_000 and 0 < allowed < checked


def test_te_rules_agree_with_setools(compiled):
    """For every (source type, target type, class): the permissions of lsmsim's allow
    rules (attributes expanded, booleans at their defaults) are setools'."""
    policy, binary = compiled
    st = setools()
    binary_policy = st.SELinuxPolicy(str(binary))
    defaults = dict(policy.booleans)
    pairs = 0
    for stype, ttype in itertools.product(policy.types, repeat=2):
        for tclass in policy.classes:
            mine = set()
            for rule in policy.allow_rules():
                if rule.active(defaults) and rule.matches_types(policy, stype, ttype):
                    mine |= rule.perms_for(tclass)
            assert mine == te_permissions(st, binary_policy, policy, stype, ttype, tclass,
                                          defaults), (stype, ttype, tclass)
            pairs += bool(mine)
    assert pairs > 20


def test_names_are_the_compiled_names(compiled):
    """Types, attributes' members and booleans as secilc names them (blocks dotted,
    the abstract template and the failed optional gone)."""
    policy, binary = compiled
    st = setools()
    binary_policy = st.SELinuxPolicy(str(binary))
    assert set(policy.types) == {str(t) for t in binary_policy.types()}
    assert "tmpl.t" not in policy.types and {"vm1.t", "vm2.t", "inner.t"} <= set(policy.types)
    assert set(policy.booleans) == {str(b) for b in binary_policy.bools()}
    for attr in binary_policy.typeattributes():
        assert {str(t) for t in attr.expand()} == policy.attributes[str(attr)], str(attr)
