"""Containment verdicts on the shipped models and on the subtle cases of DESIGN §5."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import lsmsim
from lsmsim.model.requests import (CapabilityRequest, ExecRequest, FileRequest, NetworkRequest,
                                   SignalRequest)
from lsmsim.report import audit_line, result_to_json, result_to_sarif, result_to_text
from lsmsim.simulate import decide

from .conftest import INCLUDE, MODELS
from .helpers import load_text

PARENT_FILE = MODELS / "svirt" / "libvirt-qemu.aa"


@pytest.fixture(scope="module")
def parent():
    return lsmsim.load(PARENT_FILE, include=[INCLUDE])


def _child(name):
    return lsmsim.load(MODELS / "containers" / name, include=[INCLUDE])


def test_within_child_is_proven_contained(parent):
    result = lsmsim.check(_child("vm-agent-within.aa"), parent)
    assert result.verdict is lsmsim.Verdict.CONTAINED
    assert not result.denials and not result.undecided and result.product_states > 0


def test_expanding_child_reports_each_mistake(parent):
    child = _child("vm-agent-expands.aa")
    result = lsmsim.check(child, parent)
    assert result.verdict is lsmsim.Verdict.EXPANSIONS
    by_text = {d.rule.text: d for d in result.denials}
    # Each deliberate mistake in the model is reported on its own line.
    assert set(by_text) == {
        "/etc/** r,", "/var/lib/libvirt/images/base.img w,", "capability sys_admin,",
        "network inet raw,", "network packet raw,", "/{usr/,}bin/sh ux,", "owner @{HOME}/** w,",
        "signal (send) set=(kill) peer=libvirtd,"}
    assert by_text["capability sys_admin,"].access == CapabilityRequest("sys_admin")
    assert by_text["network inet raw,"].access == NetworkRequest("inet", "raw")
    assert by_text["owner @{HOME}/** w,"].access.owner is True
    assert by_text["signal (send) set=(kill) peer=libvirtd,"].access == SignalRequest(
        "send", "kill", "libvirtd")
    assert isinstance(by_text["/{usr/,}bin/sh ux,"].access, ExecRequest)
    child_profile, parent_profile = child.profiles[0], parent.profiles[0]
    for denial in result.denials:
        # Every witness is confirmed by the simulator: child allows, parent denies.
        access = denial.access
        if isinstance(access, ExecRequest):
            access = FileRequest(access.path, frozenset("x"), access.owner)
        assert decide(child_profile, access).allowed, denial
        assert not decide(parent_profile, access).allowed, denial


def test_docker_and_lxc_defaults_exceed_the_vm_profile(parent):
    for name in ("docker-default.aa", "lxc-default.aa"):
        result = lsmsim.check(_child(name), parent)
        assert result.verdict is lsmsim.Verdict.EXPANSIONS
        kinds = {type(d.access).__name__ for d in result.denials}
        assert {"FileRequest", "CapabilityRequest", "NetworkRequest"} <= kinds, name


def test_json_report_has_the_contract_keys(parent):
    result = lsmsim.check(_child("vm-agent-expands.aa"), parent)
    data = json.loads(result_to_json(result))
    assert data["verdict"] == "expansions"
    assert data["child"]["profile"] == "vm-agent"
    assert data["parent"]["profile"].startswith("libvirt-")
    assert data["stats"]["product_states"] > 0 and data["stats"]["seconds"] >= 0
    for denial in data["denials"]:
        assert set(denial["rule"]) == {"file", "line", "column", "text"}
        assert denial["access"]["class"] in {"file", "capability", "network", "exec", "signal"}
        assert denial["audit"].startswith('apparmor="DENIED" operation=')
        assert denial["denied_by"] == data["parent"]["profile"]
    shadow = next(d for d in data["denials"] if d["rule"]["text"] == "/etc/** r,")
    assert shadow["access"]["perms"] == ["r"] and shadow["access"]["owner"] is False
    sarif = json.loads(result_to_sarif(result))
    assert sarif["version"] == "2.1.0" and len(sarif["runs"][0]["results"]) == 8
    assert "reaches beyond" in result_to_text(result)


def test_cli_exit_codes_and_formats(tmp_path):
    def run(child, *extra):
        return subprocess.run([sys.executable, "-m", "lsmsim.cli", "check", "--child",
                               str(MODELS / "containers" / child), "--parent", str(PARENT_FILE),
                               "-I", str(INCLUDE), *extra], capture_output=True, text=True,
                              timeout=600)
    assert run("vm-agent-within.aa").returncode == 0
    out = tmp_path / "r.json"
    proc = run("vm-agent-expands.aa", "--format", "json", "--output", str(out))
    assert proc.returncode == 1 and json.loads(out.read_text())["verdict"] == "expansions"
    # A budget too small to decide anything is undecided (3), never contained: the
    # whole check's budget, and the Z3 engine's per-query bound.
    small = run("vm-agent-within.aa", "--budget", "100")
    assert small.returncode == 3 and "raise --budget" in small.stdout
    assert run("vm-agent-within.aa", "--engine", "z3", "--rlimit", "1").returncode == 3
    assert run("vm-agent-within.aa", "--engine", "z3").returncode == 0


def _check(child_body: str, parent_body: str, preamble: str = ""):
    child = load_text(f"{preamble}profile c {{\n{child_body}\n}}\n")
    parent = load_text(f"{preamble}profile p {{\n{parent_body}\n}}\n")
    return lsmsim.check(child, parent)


@pytest.mark.parametrize("child,parent,contained", [
    ("/tmp/** r,", "/tmp/* r,\n/tmp/*/** r,", False),  # /tmp/x/ itself is missing
    ("/tmp/** r,", "/tmp/* r,\n/tmp/*/ r,\n/tmp/*/** r,", True),
    ("/tmp/** r,", "/tmp/* r,", False),
    ("/a/**/end r,", "/a/*/end r,\n/a/*/**/end r,", True),
    ("/d/ r,", "/d r,", False),
    ("/x w,", "/x a,", False),
    ("/x a,", "/x w,", True),
    ("owner /x r,", "owner /x r,", True),
    ("/x r,", "owner /x r,", False),
    ("other /x r,", "/x r,", True),
    ("/etc/* r,", "/etc/* r,\ndeny /etc/shadow r,", False),
    ("/etc/* r,\ndeny /etc/shadow r,", "/etc/* r,\ndeny /etc/shadow r,", True),
    ("/etc/*[^w] r,", "/etc/** r,", True),
    ("capability,", "capability chown,", False),
    ("capability chown,", "capability,\ndeny capability kill,", True),
    ("network inet stream,", "network inet,", True),
    ("network inet tcp,", "network inet stream,", True),
    ("network inet,", "network inet stream,", False),
    ("/usr/bin/foo ix,", "/usr/bin/* ix,", True),
    ("/usr/bin/foo ux,", "/usr/bin/* ix,", False),
    ("/usr/bin/foo ix,", "/usr/bin/* ux,", False),  # ix implies m, which ux does not grant
    ("/usr/bin/foo ix,", "/usr/bin/* mux,", True),
    ("/usr/bin/foo Ux,", "/usr/bin/* Ux,", True),
    ("/usr/bin/foo rix,", "/usr/bin/* ix,", False),
])
def test_subtle_cases(child, parent, contained):
    result = _check(child, parent)
    assert not result.undecided
    assert (result.verdict is lsmsim.Verdict.CONTAINED) is contained, result.denials


def test_px_target_that_exceeds_the_parent_domain_is_reported_on_its_rules():
    child = load_text("profile c {\n  /usr/bin/tool Px -> helper,\n}\n"
                      "profile helper {\n  /etc/shadow r,\n}\n")
    parent = load_text("profile p {\n  /usr/bin/tool rix,\n  /etc/passwd r,\n}\n")
    result = lsmsim.check(child, parent, child_profile="c")
    assert result.verdict is lsmsim.Verdict.EXPANSIONS
    (denial,) = [d for d in result.denials if d.child_profile == "helper"]
    assert denial.rule.text == "/etc/shadow r," and denial.access.path == "/etc/shadow"
    assert denial.via[0].path == "/usr/bin/tool"


def test_complain_and_unconfined_modes():
    free = "profile p flags=(complain) {\n  /a r,\n}\n"
    strict = "profile p {\n  /a r,\n}\n"
    wide = load_text("profile c {\n  /** rw,\n  capability,\n}\n")
    assert lsmsim.check(wide, load_text(free)).verdict is lsmsim.Verdict.CONTAINED
    loose_child = load_text("profile c flags=(unconfined) {\n  /a r,\n}\n")
    result = lsmsim.check(loose_child, load_text(strict))
    assert result.verdict is lsmsim.Verdict.EXPANSIONS


def test_audit_lines_look_like_the_kernel():
    line = audit_line(FileRequest("/etc/shadow", frozenset("r")), "libvirt-x")
    assert line == ('apparmor="DENIED" operation="open" profile="libvirt-x" name="/etc/shadow" '
                    'requested_mask="r" denied_mask="r" fsuid=1000 ouid=0')
    assert 'capname="sys_admin"' in audit_line(CapabilityRequest("sys_admin"), "p")


def test_paths_outside_latin1_are_matched_as_their_bytes():
    """Policy text is UTF-8 and the kernel matches bytes: a literal with characters past
    one byte (or bytes that are not UTF-8) is compared byte for byte, and its witness
    reads back as the same text."""
    from .helpers import load_text
    child = load_text("profile c {\n  /tmp/\u4e2d r,\n  /tmp/caf\u00e9/** rw,\n}\n")
    assert lsmsim.check(child, load_text("profile p {\n  /tmp/** rw,\n}\n")).verdict \
        is lsmsim.Verdict.CONTAINED
    result = lsmsim.check(child, load_text("profile p {\n  /tmp/caf\u00e9/** r,\n}\n"))
    found = {(d.access.path, tuple(sorted(d.access.perms))) for d in result.denials}
    assert ("/tmp/\u4e2d", ("r",)) in found
    assert any(path.startswith("/tmp/caf\u00e9/") and "w" in perms for path, perms in found)
