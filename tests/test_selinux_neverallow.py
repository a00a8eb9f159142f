"""neverallow is enforced as checkpolicy and secilc enforce it: the same policies are
compiled by both and loaded by lsmsim; lsmsim refuses exactly those the compiler
refuses, naming the allow rule and the neverallow it breaks with their positions."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lsmsim.errors import PolicyError
from lsmsim.frontends.selinux import load_cil, load_selinux

from .selinux_oracle import HERE, checkpolicy

# (name, policy.conf lines, the same in CIL). Lines are added after the base
# policy's rules; a refusal names the line marked "breaks", else the last allow rule.
CASES = [
    ("one-type", ["allow b_t g_t:file write;"], ["(allow b_t g_t (file (write)))"]),
    ("attributes", ["allow domain files:file { read write };"],
     ["(allow domain files (file (read write)))"]),
    ("other-permissions", ["allow domain g_t:file { read getattr };"],
     ["(allow domain g_t (file (read getattr)))"]),
    ("other-class", ["allow domain g_t:process fork;"], ["(allow domain g_t (process (fork)))"]),
    ("outside-the-sources", ["allow files g_t:file write;"], ["(allow files g_t (file (write)))"]),
    ("conditional-off", ["if (flag) {", "allow c_t g_t:file write;", "}"],
     ["(booleanif flag (true", "(allow c_t g_t (file (write)))", "))"]),
    ("conditional-else", ["if (flag) { allow c_t f_t:file write; } else {",
                          "allow c_t g_t:file write;", "}"],
     ["(booleanif flag (true (allow c_t f_t (file (write)))) (false",
      "(allow c_t g_t (file (write)))", "))"]),
    ("neverallow-self-hit", ["neverallow domain self:process transition;",
                             "allow a_t a_t:process transition;"],
     ["(neverallow domain self (process (transition)))",
      "(allow a_t a_t (process (transition)))"]),
    ("neverallow-self-miss", ["neverallow domain self:process transition;",
                              "allow a_t b_t:process transition;"],
     ["(neverallow domain self (process (transition)))",
      "(allow a_t b_t (process (transition)))"]),
    ("allow-self-hit", ["neverallow a_t a_t:process fork;", "allow domain self:process fork;"],
     ["(neverallow a_t a_t (process (fork)))", "(allow domain self (process (fork)))"]),
    ("allow-self-miss", ["neverallow a_t b_t:process fork;", "allow domain self:process fork;"],
     ["(neverallow a_t b_t (process (fork)))", "(allow domain self (process (fork)))"]),
    ("both-self", ["neverallow b_t self:process fork;", "allow domain self:process fork;"],
     ["(neverallow b_t self (process (fork)))", "(allow domain self (process (fork)))"]),
    ("excluded-type", ["neverallow { domain -a_t } f_t:file write;",
                       "allow a_t f_t:file write;"],
     ["(typeattribute not_a)", "(typeattributeset not_a (and domain (not a_t)))",
      "(neverallow not_a f_t (file (write)))", "(allow a_t f_t (file (write)))"]),
    ("complement", ["neverallow ~a_t f_t:file getattr;", "allow b_t f_t:file getattr;"],
     ["(typeattribute not_a)", "(typeattributeset not_a (not a_t))",
      "(neverallow not_a f_t (file (getattr)))", "(allow b_t f_t (file (getattr)))"]),
    # neverallowxperm: the ioctl permission with no allowxperm allows every command ...
    ("xperm-every-command", ["neverallowxperm domain g_t:file ioctl 0x8910;",
                             "allow a_t g_t:file ioctl;"],
     ["(neverallowx domain g_t (ioctl file (0x8910)))", "(allow a_t g_t (file (ioctl)))"]),
    # ... an allowxperm narrows it to its commands ...
    ("xperm-other-command", ["neverallowxperm domain g_t:file ioctl 0x8910;",
                             "allowxperm a_t g_t:file ioctl 0x8911;",
                             "allow a_t g_t:file ioctl;"],
     ["(neverallowx domain g_t (ioctl file (0x8910)))",
      "(allowx a_t g_t (ioctl file (0x8911)))", "(allow a_t g_t (file (ioctl)))"]),
    ("xperm-range", ["neverallowxperm domain g_t:file ioctl 0x8910;",
                     "allowxperm a_t g_t:file ioctl { 0x8900-0x8920 }; # breaks",
                     "allow a_t g_t:file ioctl;"],
     ["(neverallowx domain g_t (ioctl file (0x8910)))",
      "(allowx a_t g_t (ioctl file ((range 0x8900 0x8920)))) ; breaks",
      "(allow a_t g_t (file (ioctl)))"]),
    # ... on the pair it names only, and a complement forbids all but its commands.
    ("xperm-other-pair", ["neverallowxperm domain g_t:file ioctl 0x8910;",
                          "allowxperm a_t f_t:file ioctl 0x8911;",
                          "allow a_t files:file ioctl;"],
     ["(neverallowx domain g_t (ioctl file (0x8910)))",
      "(allowx a_t f_t (ioctl file (0x8911)))", "(allow a_t files (file (ioctl)))"]),
    ("xperm-complement-miss", ["neverallowxperm domain g_t:file ioctl ~0x8911;",
                               "allowxperm a_t g_t:file ioctl 0x8911;",
                               "allow a_t g_t:file ioctl;"],
     ["(neverallowx domain g_t (ioctl file (not (0x8911))))",
      "(allowx a_t g_t (ioctl file (0x8911)))", "(allow a_t g_t (file (ioctl)))"]),
    ("xperm-complement-hit", ["neverallowxperm domain g_t:file ioctl ~0x8911;",
                              "allowxperm a_t g_t:file ioctl 0x8912; # breaks",
                              "allow a_t g_t:file ioctl;"],
     ["(neverallowx domain g_t (ioctl file (not (0x8911))))",
      "(allowx a_t g_t (ioctl file (0x8912))) ; breaks", "(allow a_t g_t (file (ioctl)))"]),
]


def _write(tmp_path: Path, base: str, extra: list[str], suffix: str) -> tuple[Path, int]:
    """The base policy with ``extra`` added after its rules; the line number of the
    rule a refusal must name: the line marked "breaks", else the last allow rule."""
    lines = (HERE / base).read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(("neverallow", "(neverallow")))
    lines[at + 1:at + 1] = extra
    marked = [i for i, line in enumerate(lines) if line.endswith("breaks")]
    allow_line = (marked or [max(i for i, line in enumerate(lines)
                                 if line.lstrip("(").startswith("allow "))])[0] + 1
    path = tmp_path / f"policy.{suffix}"
    path.write_text("\n".join(lines) + "\n")
    return path, allow_line


def _neverallow_line(path: Path, refused: str) -> int:
    """The line of the neverallow the message names."""
    lines = path.read_text().splitlines()
    marker = f"{path}:"
    rest = re.split(r"breaks the neverallow(?:xperm)? at ", refused, maxsplit=1)[1]
    assert rest.startswith(marker), refused
    line = int(rest[len(marker):].split(":", 1)[0])
    assert "neverallow" in lines[line - 1], (refused, lines[line - 1])
    return line


def _lsmsim_refusal(load, path: Path) -> str | None:
    try:
        load(path)
    except PolicyError as error:
        return str(error)
    return None


@pytest.mark.parametrize("name,conf,_cil", CASES, ids=[c[0] for c in CASES])
def test_policy_conf_as_checkpolicy(tmp_path, name, conf, _cil):
    """Refused exactly when checkpolicy refuses it for a neverallow."""
    path, allow_line = _write(tmp_path, "neverallow-base.conf", conf, "conf")
    proc = checkpolicy(path, tmp_path / "policy.bin", mls=False)
    compiler_refuses = proc.returncode != 0
    if compiler_refuses:
        assert "neverallow" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    refused = _lsmsim_refusal(load_selinux, path)
    assert (refused is not None) == compiler_refuses, (name, refused, proc.stderr)
    if refused:
        assert refused.startswith(f"{path}:{allow_line}:"), refused
        _neverallow_line(path, refused)


@pytest.mark.parametrize("name,_conf,cil", CASES, ids=[c[0] for c in CASES])
def test_cil_as_secilc(tmp_path, name, _conf, cil):
    """Refused exactly when secilc refuses it for a neverallow."""
    path, allow_line = _write(tmp_path, "neverallow-base.cil", cil, "cil")
    if shutil.which("secilc") is None:
        pytest.skip("secilc is not installed (Debian package secilc)")
    proc = subprocess.run(["secilc", "-o", str(tmp_path / "policy.bin"), "-f", "/dev/null",
                           str(path)], capture_output=True, text=True, timeout=120)
    compiler_refuses = proc.returncode != 0
    if compiler_refuses:
        assert re.search("neverallowx? check failed", proc.stdout + proc.stderr), proc.stderr
    refused = _lsmsim_refusal(load_cil, path)
    assert (refused is not None) == compiler_refuses, (name, refused, proc.stderr)
    if refused:
        assert refused.startswith(f"{path}:{allow_line}:"), refused
        _neverallow_line(path, refused)


def test_the_compilers_agree_on_every_case(tmp_path):
    """The two languages' cases say the same thing (so both tests test one rule)."""
    verdicts = []
    for index, (_name, conf, cil) in enumerate(CASES):
        case = tmp_path / f"case{index}"
        case.mkdir()
        conf_path, _ = _write(case, "neverallow-base.conf", conf, "conf")
        cil_path, _ = _write(case, "neverallow-base.cil", cil, "cil")
        verdicts.append((_lsmsim_refusal(load_selinux, conf_path) is None,
                         _lsmsim_refusal(load_cil, cil_path) is None))
    assert all(a == b for a, b in verdicts), verdicts
    assert {a for a, _ in verdicts} == {True, False}


def test_command_line_exit_2_with_both_positions(tmp_path):
    path, allow_line = _write(tmp_path, "neverallow-base.conf", CASES[0][1], "conf")
    proc = subprocess.run([sys.executable, "-m", "lsmsim.cli", "parse", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{path}:{allow_line}:1:" in lines[0]
    assert f"breaks the neverallow at {path}:{_neverallow_line(path, lines[0])}:1" in lines[0]
