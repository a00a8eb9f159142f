"""Bad input: one clear ``file:line:col: message`` line on stderr, exit 2, no traceback."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import MODELS

PARENT = MODELS / "svirt" / "libvirt-qemu.aa"
INCLUDE = MODELS / "apparmor.d"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lsmsim.cli", *args], capture_output=True,
                          text=True, timeout=300)


def check_child(path: Path, *extra: str) -> subprocess.CompletedProcess:
    return run("check", "--child", str(path), "--parent", str(PARENT), "-I", str(INCLUDE), *extra)


def assert_one_line_error(proc, path: Path, line: int, needle: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    match = re.match(r"(.+):(\d+):(\d+): (.+)", lines[0])
    assert match, lines[0]
    assert Path(match.group(1)).name == path.name
    assert int(match.group(2)) == line
    assert needle in match.group(4), lines[0]


@pytest.mark.parametrize("name,text,line,needle", [
    ("empty.aa", "", 1, "no profile"),
    ("comments.aa", "# only a comment\n", 1, "no profile"),
    ("garbage.aa", "profile x {\n  /etc/passwd r,\n  %%% nonsense ;;;\n}\n", 3, "syntax error"),
    ("binary.aa", "\x7fELF\x02\x01\x01\x00", 1, "syntax error"),
    ("unterminated.aa", "profile x {\n  /etc/passwd r,\n", 2, "end of file"),
    ("missing-comma.aa", "profile x {\n  /etc/passwd r\n  /etc/group r,\n}\n", 3, "syntax error"),
    ("bad-letter.aa", "profile x {\n  /etc/passwd rz,\n}\n", 2, "syntax error"),
    ("w-and-a.aa", "profile x {\n  /etc/passwd wa,\n}\n", 2, "mutually exclusive"),
    ("bare-x.aa", "profile x {\n  /bin/sh x,\n}\n", 2, "exec qualifier"),
    ("bad-cap.aa", "profile x {\n  capability fly,\n}\n", 2, "invalid capability"),
    ("owner-cap.aa", "profile x {\n  owner capability chown,\n}\n", 2, "owner prefix"),
    ("bad-net.aa", "profile x {\n  network carrier-pigeon,\n}\n", 2, "syntax error"),
    ("undefined-var.aa", "profile x {\n  @{NOPE}/x r,\n}\n", 2, "undefined variable"),
    ("bad-glob.aa", "profile x {\n  /etc/{a r,\n}\n", 2, "glob"),
    ("bad-flag.aa", "profile x flags=(sometimes) {\n  /a r,\n}\n", 1, "unknown profile flag"),
    ("missing-include.aa", "profile x {\n  #include <abstractions/nope>\n}\n", 2, "not found"),
])
def test_bad_child_policy(tmp_path, name, text, line, needle):
    path = tmp_path / name
    path.write_text(text, errors="surrogateescape")
    assert_one_line_error(check_child(path), path, line, needle)


def test_include_loop(tmp_path):
    (tmp_path / "a").write_text("include <b>\n")
    (tmp_path / "b").write_text("/x r,\ninclude <a>\n")
    path = tmp_path / "loop.aa"
    path.write_text("profile x {\n  include <a>\n}\n")
    proc = run("check", "--child", str(path), "--parent", str(PARENT), "-I", str(INCLUDE),
               "-I", str(tmp_path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "include loop" in proc.stderr and proc.stderr.count("\n") == 1


def test_include_outside_roots(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("/ r,\n")
    child_dir = tmp_path / "child"
    child_dir.mkdir()
    path = child_dir / "escape.aa"
    path.write_text(f'profile x {{\n  include "{outside / "secret"}"\n}}\n')
    assert_one_line_error(check_child(path), path, 2, "outside the include roots")
    path.write_text('profile x {\n  include "../outside/secret"\n}\n')
    assert_one_line_error(check_child(path), path, 2, "outside the include roots")


def test_missing_file(tmp_path):
    proc = check_child(tmp_path / "nope.aa")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(str(tmp_path / "nope.aa") + ":1:1: no such file")


def test_several_profiles_need_a_name(tmp_path):
    path = tmp_path / "two.aa"
    path.write_text("profile a { /a r, }\nprofile b { /b r, }\n")
    proc = check_child(path)
    assert_one_line_error(proc, path, 1, "defines several profiles")
    assert "a (line 1), b (line 2)" in proc.stderr
    assert check_child(path, "--child-profile", "a").returncode == 1
    unknown = check_child(path, "--child-profile", "zzz")
    assert unknown.returncode == 2 and "no profile named 'zzz'" in unknown.stderr


def test_usage_errors_exit_2():
    assert run("check").returncode == 2
    assert run("check", "--child", "x").returncode == 2
    assert run("frobnicate").returncode == 2
