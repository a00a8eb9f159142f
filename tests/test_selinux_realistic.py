"""A realistic policy: Debian's selinux-policy-default (base and every module,
converted from .pp to CIL) loads, agrees with secilc's binary on names, attributes
and TE rules, is proven within itself in minutes, and one added rule is found as
the only expansion, its witness confirmed by libsepol on secilc's binaries."""
from __future__ import annotations

import itertools
import shutil
import time
from dataclasses import replace

import pytest

import lsmsim
from lsmsim.frontends.selinux import load_cil
from lsmsim.model.selinux import AVRule, TypeSet
from lsmsim.model.source import Source

from .bench_selinux import Unavailable, debian_policy_cil
from .selinux_oracle import Libsepol, secilc, setools, te_permissions

EXTRA = "(allow svirt_t shadow_t (file (read)))"


@pytest.fixture(scope="module")
def debian():
    try:
        cil = debian_policy_cil()
    except Unavailable as error:
        pytest.skip(f"Debian's policy cannot be fetched or converted here: {error}")
    start = time.perf_counter()
    policy = load_cil(cil)
    return cil, policy, time.perf_counter() - start


@pytest.fixture(scope="module")
def binary(debian, tmp_path_factory):
    cil, _policy, _ = debian
    return secilc(sorted(cil.glob("*.cil")), tmp_path_factory.mktemp("bin") / "policy.bin")


def test_loads_in_minutes(debian):
    cil, policy, seconds = debian
    assert len(list(cil.glob("*.cil"))) > 300
    assert len(policy.types) > 3000 and len(policy.rules) > 100_000
    assert policy.mls and len(policy.booleans) > 200 and len(policy.constraints) > 100
    assert seconds < 600, seconds


def test_names_and_attributes_are_secilcs(debian, binary):
    _cil, policy, _ = debian
    compiled = setools().SELinuxPolicy(str(binary))
    assert set(policy.types) == {str(t) for t in compiled.types()}
    assert set(policy.booleans) == {str(b) for b in compiled.bools()}
    assert {b: policy.booleans[b] for b in policy.booleans} == \
        {str(b): b.state for b in compiled.bools()}
    checked = 0
    for attr in compiled.typeattributes():
        assert {str(t) for t in attr.expand()} == policy.attributes[str(attr)], str(attr)
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("stype,ttype", [
    ("svirt_t", "svirt_image_t"), ("virtd_t", "svirt_image_t"), ("svirt_t", "virt_content_t"),
    ("sshd_t", "shadow_t"), ("init_t", "init_t"), ("passwd_t", "shadow_t")])
def test_te_rules_agree_with_setools(debian, binary, stype, ttype):
    _cil, policy, _ = debian
    st = setools()
    compiled = st.SELinuxPolicy(str(binary))
    defaults = dict(policy.booleans)
    rules = [r for r in policy.allow_rules()
             if r.active(defaults) and r.matches_types(policy, stype, ttype)]
    for tclass in ("file", "dir", "process", "chr_file"):
        mine = set().union(*(r.perms_for(tclass) for r in rules))
        assert mine == te_permissions(st, compiled, policy, stype, ttype, tclass, defaults), \
            (stype, ttype, tclass)


def test_contained_in_itself_within_minutes(debian):
    _cil, policy, _ = debian
    start = time.perf_counter()
    result = lsmsim.check(policy, within=policy)
    seconds = time.perf_counter() - start
    assert result.verdict.value == "contained", [str(d) for d in result.denials[:3]]
    assert seconds < 900, seconds


def test_one_added_rule_is_the_only_expansion(debian, binary, tmp_path):
    """A child layer = the policy plus one rule (booleans fixed to the defaults on
    both layers): that rule alone is reported, and libsepol confirms the witness on
    secilc's binaries of the parent and of the parent plus the rule."""
    cil, policy, _ = debian
    extra = AVRule("allow", TypeSet(frozenset({"svirt_t"})), TypeSet(frozenset({"shadow_t"})),
                   (("file", frozenset({"read"})),), None, Source("extra.cil", 1, 1, EXTRA))
    child = replace(policy, rules=policy.rules + (extra,), files_read=("extra.cil",))
    result = lsmsim.check(child, within=policy, booleans=dict(policy.booleans))
    assert result.verdict.value == "expansions"
    assert [d.rule.text for d in result.denials] == [EXTRA]
    access = result.denials[0].access
    extra_file = tmp_path / "extra.cil"
    extra_file.write_text(EXTRA + "\n")
    # The policy's own neverallow forbids exactly this rule; -N lets secilc build it.
    with_extra = secilc(sorted(cil.glob("*.cil")) + [extra_file], tmp_path / "child.bin", "-N")
    args = (str(access.scontext), str(access.tcontext), access.tclass, access.perm)
    assert Libsepol(binary).allowed(*args) is False
    assert Libsepol(with_extra).allowed(*args) is True


def test_every_statement_kind_is_read(debian):
    """Labelling statements are kept, not dropped: one kept entry per filecon,
    portcon, genfscon, fsuse and sidcontext of the CIL."""
    cil, policy, _ = debian
    text = "\n".join(f.read_text() for f in sorted(cil.glob("*.cil")))
    for kind in ("filecon", "portcon", "genfscon", "fsuse", "sidcontext"):
        written = sum(1 for line in text.splitlines() if line.lstrip().startswith(f"({kind} "))
        kept = sum(1 for k in policy.kept if k.kind == kind)
        assert kept == written > 0, kind
    assert shutil.which("secilc")  # the other tests compiled with it
    assert not list(itertools.islice((r for r in policy.rules if r.source is None), 1))
