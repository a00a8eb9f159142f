"""A real sVirt container: Debian's reference policy is the host, the container runs
as svirt_t (the sVirt domain Debian's policy defines; it has no svirt_lxc_net_t or
container_t) and its namespace policy is written in the host's names. One variant is
contained; the other's three planted expansions (a TE rule, a dropped MCS constraint,
a boolean-gated rule) are each found, and every witness is confirmed by libsepol:
secilc's binary of the host denies it and the child's binary allows it."""
from __future__ import annotations

import re
import pytest

import lsmsim
from lsmsim.frontends.selinux import load_cil

from .bench_selinux import Unavailable, debian_policy_cil
from .conftest import MODELS
from .selinux_oracle import Libsepol, secilc

CHILDREN = MODELS / "selinux"


@pytest.fixture(scope="module")
def host():
    try:
        cil = debian_policy_cil()
    except Unavailable as error:
        pytest.skip(f"Debian's policy cannot be fetched or converted here: {error}")
    return cil, load_cil(cil)


@pytest.fixture(scope="module")
def host_binary(host, tmp_path_factory):
    cil, _policy = host
    return secilc(sorted(cil.glob("*.cil")), tmp_path_factory.mktemp("host") / "policy.bin",
                  "-M", "true")


def _check(host, name: str):
    _cil, policy = host
    # The host runs with its default booleans (witnesses then hold for its binary).
    return lsmsim.check(load_cil(CHILDREN / name), within=policy, booleans=dict(policy.booleans))


def test_within_is_contained(host):
    result = _check(host, "debian-svirt-within.cil")
    assert result.verdict.value == "contained", [str(d.access.to_json()) for d in result.denials]


def test_planted_expansions_are_found(host):
    result = _check(host, "debian-svirt-expands.cil")
    assert result.verdict.value == "expansions"
    rules = {d.rule.text for d in result.denials}
    # The TE rule and the boolean-gated rule, each reported on its own line ...
    assert "(allow svirt_t virt_content_t (file (write)))" in rules
    assert "(allow svirt_t self (process (execmem)))" in rules
    # ... and without the MCS constraint the guest reads other guests' images.
    image = "(allow svirt_t svirt_image_t (file (open read write getattr append lock ioctl)))"
    assert image in rules
    mcs = [d for d in result.denials if d.rule.text == image]
    assert all("h1 dom h2" in d.reason for d in mcs), [d.reason for d in mcs]
    execmem = next(d for d in result.denials if "execmem" in d.rule.text)
    assert dict(execmem.access.booleans)["container_use_execmem"] is True


def test_every_witness_is_confirmed_by_libsepol(host, host_binary, tmp_path):
    """The host's binary denies each witness; the child's binary, compiled with the
    witness's booleans, allows it. (libsepol holds one policy at a time: each binary
    is loaded once and asked about all its witnesses.)"""
    result = _check(host, "debian-svirt-expands.cil")
    assert result.denials
    witnesses: dict[tuple, list[tuple]] = {}
    for denial in result.denials:
        access = denial.access
        witnesses.setdefault(tuple(sorted(access.booleans)), []).append(
            (str(access.scontext), str(access.tcontext), access.tclass, access.perm))
    host_sepol = Libsepol(host_binary)
    for args in (a for group in witnesses.values() for a in group):
        assert host_sepol.allowed(*args) is False, args
    child_text = (CHILDREN / "debian-svirt-expands.cil").read_text()
    for index, (booleans, group) in enumerate(witnesses.items()):
        text = child_text
        for name, value in booleans:
            text = re.sub(rf"\(boolean {name} (true|false)\)",
                          f"(boolean {name} {'true' if value else 'false'})", text)
        source = tmp_path / f"child-{index}.cil"
        source.write_text(text)
        child_sepol = Libsepol(secilc([source], source.with_suffix(".bin"), "-M", "true"))
        for args in group:
            assert child_sepol.allowed(*args) is True, args
