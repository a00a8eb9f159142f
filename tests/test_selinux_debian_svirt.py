"""A real sVirt container: Debian's reference policy is the host, the container runs
as svirt_t (the sVirt domain Debian's policy defines; it has no svirt_lxc_net_t or
container_t) at s0:c1,c2. Two forms, each with a contained and an expanding variant:

- a namespace policy written in the host's own names, checked directly (labels and
  levels 1:1): the planted TE rule, dropped MCS constraint and boolean-gated rule are
  each found;
- a namespace policy with types of its own, in a stack whose manifest maps them to
  host labels (models/stacks/debian/debian-svirt*.toml): the TE rule and the boolean-gated
  rule are found (with fixed host labels the host's own MCS constraints decide).

Every witness is confirmed by libsepol: secilc's binary of the host denies it, and
the child's own binary, compiled with the witness's booleans, allows it."""
from __future__ import annotations

import re
import pytest

import lsmsim
from lsmsim.frontends.selinux import load_cil

from .bench_selinux import Unavailable, debian_policy_cil
from .conftest import MODELS
from .selinux_oracle import Libsepol, secilc

CHILDREN = MODELS / "selinux"
# Minutes of CPU: the host is loaded and compiled, and each stack loads it again.
pytestmark = pytest.mark.slow


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


# --- the stack: a namespace policy with types of its own under the Debian host ---------

STACKS = MODELS / "stacks" / "debian"
_AVC = re.compile(r"\{ (\S+) \} for .*scontext=(\S+) tcontext=(\S+) tclass=(\S+)")


def _stack(host, name: str):
    _cil, policy = host
    stack = lsmsim.load_stack(STACKS / name)
    # The host layer as the fixture loaded it: the same CIL, read once per module.
    assert set(stack.layers["host"].policy.types) == set(policy.types)
    return lsmsim.check_stack(stack)


def test_stack_within_is_contained(host):
    result = _stack(host, "debian-svirt.toml")
    assert result.verdict.value == "contained"
    assert len(result.checked) == 1


def test_stack_expansions_confirmed_by_libsepol(host, host_binary, tmp_path):
    """The TE rule and the boolean-gated rule are found; the host's binary denies each
    as the host logs it (its own labels), and the namespace's own binary, compiled
    with the witness's booleans, allows it as the namespace sees it."""
    result = _stack(host, "debian-svirt-expands.toml")
    assert result.verdict.value == "expansions"
    (pair,) = result.checked
    denials = pair.result.denials
    assert {d.rule.text for d in denials} == {
        "allow container_t container_ro_file_t:file write;",
        "allow container_t self:process execmem;"}
    host_sepol = Libsepol(host_binary)
    for denial in denials:
        (line,) = denial.logged
        perm, scontext, tcontext, tclass = _AVC.search(line).groups()
        assert scontext == "system_u:system_r:svirt_t:s0:c1,c2"
        assert host_sepol.allowed(scontext, tcontext, tclass, perm) is False, line
    from .selinux_oracle import checkpolicy
    child_text = (CHILDREN / "debian-ns-container-expands.conf").read_text()
    for index, denial in enumerate(denials):
        access = denial.access
        text = child_text
        for name, value in access.booleans:
            text = re.sub(rf"^bool {name} (true|false);",
                          f"bool {name} {'true' if value else 'false'};", text, flags=re.M)
        source = tmp_path / f"ns-{index}.conf"
        source.write_text(text)
        proc = checkpolicy(source, source.with_suffix(".bin"))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        child_sepol = Libsepol(source.with_suffix(".bin"))
        assert child_sepol.allowed(str(access.scontext), str(access.tcontext), access.tclass,
                                   access.perm) is True, access.to_json()
