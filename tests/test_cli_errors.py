"""Bad input: one clear ``file:line:col: message`` line on stderr, exit 2, no traceback."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import lsmsim.cli
from lsmsim.cli import internal_error_line, main

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


# --- hostile inputs, run in this process (lsmsim.cli.main) --------------------------

SELINUX = MODELS / "selinux"
SVIRT = (SELINUX / "svirt-parent.conf").read_text()


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_positioned(code: int, err: str, path: Path, line: int, needle: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    match = re.match(r"(.+):(\d+):(\d+): (.+)", lines[0])
    assert match and Path(match.group(1)).name == path.name, lines[0]
    assert int(match.group(2)) == line, lines[0]
    assert needle in match.group(4), lines[0]


def test_manifest_with_invalid_utf8(tmp_path, capsys):
    path = tmp_path / "m.toml"
    path.write_bytes(b'name = "ok"\n\nname2 = "caf\xe9"\n')
    code, _, err = run_main(capsys, "check", str(path))
    assert_positioned(code, err, path, 3, "UTF-8")
    assert ":3:13:" in err


def _deep_apparmor(depth: int) -> str:
    return "$b = true\nprofile x {\n" + "if $b {\n" * depth + "/a r,\n" + "}\n" * depth + "}\n"


def _deep_conf(depth: int) -> str:
    return (SVIRT + "\nbool b true;\n" + "if (b) {\n" * depth
            + "allow svirt_t svirt_t:file read;\n" + "}\n" * depth)


def _long_conditional(terms: int) -> str:
    return (SVIRT + "\nbool b true;\nif (" + " && ".join(["b"] * terms) + ") {\n"
            + "allow svirt_t svirt_t:file read;\n}\n")


def _deep_cil(depth: int) -> str:
    return ((SELINUX / "container-within.cil").read_text()
            + "(block b\n" * depth + "(type t)" + ")" * depth + "\n")


@pytest.mark.parametrize("name,make,lsm", [
    ("deep.aa", _deep_apparmor, "apparmor"), ("deep.conf", _deep_conf, "selinux"),
    ("chain.conf", _long_conditional, "selinux"), ("deep.cil", _deep_cil, "cil")])
@pytest.mark.parametrize("depth", [1_000, 10_000])
def test_deep_nesting_is_refused_with_its_position(tmp_path, capsys, name, make, lsm, depth):
    path = tmp_path / name
    path.write_text(make(depth))
    code, _, err = run_main(capsys, "parse", str(path), "--lsm", lsm)
    assert code == 2 and "nested too deeply" in err and "Traceback" not in err, err
    line = int(re.match(r".+?:(\d+):\d+: ", err).group(1))
    assert 1 < line <= path.read_text().count("\n") + 1
    assert_positioned(code, err, path, line, "nested too deeply")


def test_nesting_limit_is_one_boundary(tmp_path, capsys):
    """Up to some depth a policy loads; from there on it is refused the same way,
    never with a crash: the limit is decided before anything recurses."""
    outcomes = []
    for depth in range(30, 70, 3):
        path = tmp_path / f"d{depth}.aa"
        path.write_text(_deep_apparmor(depth))
        code, _, err = run_main(capsys, "parse", str(path))
        assert code in (0, 2) and (code == 0 or "nested too deeply" in err), err
        outcomes.append(code)
    assert outcomes == sorted(outcomes) and outcomes[0] == 0 and outcomes[-1] == 2


def test_include_chain_is_refused_where_it_passes_the_limit(tmp_path, capsys):
    root = tmp_path / "root"
    root.mkdir()
    for i in range(1_000):
        (root / f"i{i}").write_text(f"include <i{i + 1}>\n" if i < 999 else "/a r,\n")
    path = tmp_path / "chain.aa"
    path.write_text("profile x {\n  include <i0>\n}\n")
    code, _, err = run_main(capsys, "parse", str(path), "-I", str(root))
    assert code == 2 and "nested too deeply" in err and err.count("\n") == 1, err
    assert re.match(r".+/root/i\d+:1:1: nested too deeply", err), err


@pytest.mark.parametrize("lsm", ["apparmor", "selinux", "cil"])
def test_directory_and_binary_as_policy(tmp_path, capsys, lsm):
    folder = tmp_path / "folder.aa"
    folder.mkdir()
    code, _, err = run_main(capsys, "parse", str(folder), "--lsm", lsm)
    assert code == 2 and err.startswith(f"{folder}:1:1: ") and err.count("\n") == 1, err
    binary = tmp_path / "binary"
    binary.write_bytes(Path(sys.executable).resolve().read_bytes()[:200_000])
    code, _, err = run_main(capsys, "parse", str(binary), "--lsm", lsm)
    assert code == 2 and err.startswith(f"{binary}:") and err.count("\n") == 1, err
    assert len(err) < 300, err


@pytest.mark.parametrize("level,needle", [
    ("s7:c1,c2", "no sensitivity 's7'"), ("s0:c1,c-1", "no category"),
    ("s0:c1,c9999", "no category c9999")])
def test_object_label_with_unknown_level(tmp_path, capsys, level, needle):
    text = (MODELS / "stacks" / "selinux-svirt.toml").read_text()
    text = text.replace('"../', f'"{MODELS}/')
    text = text.replace("svirt_image_t:s0:c1,c2", f"svirt_image_t:{level}")
    path = tmp_path / "stack.toml"
    path.write_text(text)
    line = text[:text.index("[layers.container]")].count("\n") + 1
    code, _, err = run_main(capsys, "check", str(path))
    assert_positioned(code, err, path, line, needle)
    assert "object_labels.container_file_t" in err


def test_include_folder_link_out_of_the_roots_is_named(tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("/secret r,\n")
    folder = tmp_path / "root" / "abstractions" / "d"
    folder.mkdir(parents=True)
    (folder / "ok").write_text("/ok r,\n")
    (folder / "link").symlink_to(outside / "secret")
    child = tmp_path / "child"
    child.mkdir()
    path = child / "p.aa"
    path.write_text("profile x {\n  include <abstractions/d>\n}\n")
    code, out, err = run_main(capsys, "parse", str(path), "-I", str(tmp_path / "root"),
                              "--format", "json")
    assert code == 0 and "/ok" in out and "/secret" not in out
    assert err.startswith(f"lsmsim: warning: {path}:2:3: ") and err.count("\n") == 1, err
    assert f"{folder / 'link'}" in err and "outside the include roots" in err


def test_unwritable_output_is_a_usage_error(tmp_path, capsys):
    code, _, err = run_main(capsys, "graph", str(MODELS / "stacks" / "libvirt-lxd.toml"),
                            "--output", str(tmp_path / "missing" / "g.dot"))
    assert code == 2 and "cannot write" in err and "Traceback" not in err


def test_help_lists_every_exit_code(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for code in ("0", "1", "2", "3", "4", "130"):
        assert re.search(rf"^\s+{code}\s+\S", out, re.M), code
    assert "internal error" in out and "interrupted" in out


def test_internal_error_line_names_the_bug_and_where():
    from lsmsim.model.selinux import Level
    with pytest.raises(KeyError) as caught:
        Level("s7").dominates(Level("s0"), {"s0": 0})
    line = internal_error_line(caught.value)
    assert line.startswith("lsmsim: internal error, a bug in lsmsim: KeyError at ")
    assert re.search(r"lsmsim/model/selinux\.py:\d+ in dominates", line), line
    assert "\n" not in line and "--debug" in line


@pytest.mark.parametrize("debug", ["", "--debug", "LSMSIM_DEBUG=1"])
def test_a_crash_exits_4_with_a_traceback_only_when_asked(tmp_path, monkeypatch, capsys, debug):
    # A crash is a bug, so no real input can be used to cause one: the loader is
    # made to fail the way a bug would.
    def broken_load(*_args, **_kwargs):
        return {}["missing"]

    monkeypatch.setattr(lsmsim.api, "load", broken_load)
    monkeypatch.delenv("LSMSIM_DEBUG", raising=False)
    argv = ["parse", str(MODELS / "containers" / "vm-agent-within.aa")]
    if debug == "--debug":
        argv.insert(0, debug)
    elif debug:
        monkeypatch.setenv("LSMSIM_DEBUG", "1")
    code, _, err = run_main(capsys, *argv)
    assert code == 4
    assert err.strip().splitlines()[-1].startswith(
        "lsmsim: internal error, a bug in lsmsim: KeyError at ")
    assert ("Traceback" in err) == bool(debug), err


@pytest.mark.parametrize("text,line,needle", [
    ("\0 (type stray_t)\n", 1, "a statement is expected here, not '\\x00'"),
    ("(block b\n  word\n  (type t))\n", 1, "body of this 'block', not 'word'"),
    ("(optional o\n  (type t)\n  =)\n", 1, "body of this 'optional', not '='")])
def test_cil_word_where_a_statement_belongs(tmp_path, capsys, text, line, needle):
    base = (SELINUX / "container-within.cil").read_text()
    path = tmp_path / "words.cil"
    path.write_text(base + text)
    code, _, err = run_main(capsys, "parse", str(path), "--lsm", "cil")
    assert_positioned(code, err, path, base.count("\n") + line, needle)
