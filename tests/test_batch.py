"""Many children in one check run: folders read as apparmor_parser reads them, worker
processes with the same findings as one process, one report in every format, the
worst exit code."""
from __future__ import annotations

import fcntl
import json
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import lsmsim
from lsmsim.batch import child_files, worst_exit_code
from lsmsim.cli import main

from .conftest import CORPUS, INCLUDE, MODELS
from .sarif_validation import assert_valid_sarif

FEATURES = CORPUS / "apparmor" / "parser-tests-3.0.8" / "features_files" / "features.all"
LEFTOVERS = ["b.dpkg-new", "b.dpkg-old", "b.dpkg-dist", "b.dpkg-bak", "b.dpkg-remove",
             "b.pacsave", "b.pacnew", "b.rpmnew", "b.rpmsave", "b.orig", "b.rej", "b~",
             "README", ".hidden"]
PARENT = MODELS / "svirt" / "libvirt-qemu.aa"


def _profile(name: str, rule: str = "capability chown,") -> str:
    return f"profile {name} {{\n  {rule}\n}}\n"


@pytest.fixture
def leftovers_folder(tmp_path) -> Path:
    folder = tmp_path / "profiles"
    (folder / "sub").mkdir(parents=True)
    for index, name in enumerate(["a", "z.aa", *LEFTOVERS]):
        (folder / name).write_text(_profile(f"p{index}"))
    (folder / "sub" / "nested").write_text(_profile("nested"))
    return folder


def test_folder_skips_what_apparmor_parser_skips(leftovers_folder):
    """The profiles lsmsim reads from a folder are those apparmor_parser -N names."""
    parser = shutil.which("apparmor_parser") or "/sbin/apparmor_parser"
    if not Path(parser).exists():
        pytest.skip("apparmor_parser is not installed (Debian package apparmor)")
    if not FEATURES.exists():
        pytest.skip(f"the features file is not at {FEATURES}")
    names = subprocess.run([parser, "-N", "-M", str(FEATURES), "--config-file=/dev/null",
                            str(leftovers_folder)], capture_output=True, text=True,
                           timeout=60).stdout.split()
    ours = [p.name for f in child_files([str(leftovers_folder)])
            for p in lsmsim.load(f).profiles]
    assert sorted(ours) == sorted(names) == ["p0", "p1"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Two shipped agents, a file with two profiles, and a file that does not parse."""
    folder = tmp_path_factory.mktemp("children")
    for name in ("vm-agent-within.aa", "vm-agent-expands.aa"):
        shutil.copy(MODELS / "containers" / name, folder / name)
    (folder / "pair.aa").write_text(_profile("one") + _profile("two", "capability sys_admin,"))
    (folder / "broken.aa").write_text("profile broken {\n  capability chown\n")
    (folder / "broken.aa~").write_text("profile skipped {\n")
    return folder


def _check(folder: Path, tmp: Path, fmt: str, *extra: str) -> tuple[int, str]:
    out = tmp / f"report.{fmt}"
    code = main(["check", "--child", str(folder), "--parent", str(PARENT), "-I", str(INCLUDE),
                 "--format", fmt, "--output", str(out), *extra])
    return code, out.read_text()


@pytest.fixture(scope="module")
def report(folder, tmp_path_factory) -> tuple[int, dict]:
    code, text = _check(folder, tmp_path_factory.mktemp("json"), "json", "-j", "2")
    return code, json.loads(text)


def test_every_profile_of_the_folder_is_one_pair(report):
    """Files in name order, each file's profiles in order; the broken file is a pair
    with an error, and the run's exit code is the worst: the input error."""
    code, document = report
    pairs = [(Path(p["child_file"]).name, p.get("child", {}).get("profile"), p["verdict"])
             for p in document["pairs"]]
    assert pairs == [("broken.aa", None, "error"),
                     ("pair.aa", "one", "contained"),
                     ("pair.aa", "two", "expansions"),
                     ("vm-agent-expands.aa", "vm-agent", "expansions"),
                     ("vm-agent-within.aa", "vm-agent", "contained")]
    assert code == document["exit_code"] == 2
    (broken,) = [p for p in document["pairs"] if p["verdict"] == "error"]
    assert broken["error"].startswith(f"{broken['child_file']}:")
    assert broken["exit_code"] == 2


def test_worker_processes_find_what_one_process_finds(folder, report, tmp_path):
    """-j 2 and -j 1 give the same findings, fingerprint for fingerprint."""
    _, parallel = report
    _, text = _check(folder, tmp_path, "json", "-j", "1")
    serial = json.loads(text)

    def findings(document):
        return [(p["child_file"], d["fingerprint"], d["access"])
                for p in document["pairs"] for d in p.get("denials", [])]
    assert findings(serial) == findings(parallel)
    assert len(findings(serial)) == 9


def test_a_rerun_takes_unchanged_pairs_from_the_cache(folder, tmp_path, monkeypatch):
    """A folder checked again: every pair of unchanged files comes from the cache with
    the same findings; an edited child is checked anew, alone; --no-cache neither
    reads nor writes the cache."""
    children = tmp_path / "children"
    shutil.copytree(folder, children)
    monkeypatch.setenv("LSMSIM_CACHE_DIR", str(tmp_path / "cache"))

    def run(*extra):
        code, text = _check(children, tmp_path, "json", "-j", "2", *extra)
        document = json.loads(text)
        return code, [(Path(p["child_file"]).name, p.get("child", {}).get("profile"),
                       p["verdict"], [d["fingerprint"] for d in p.get("denials", [])],
                       p.get("stats", {}).get("from_cache")) for p in document["pairs"]]

    def cached(pairs):
        return {(name, profile): from_cache for name, profile, _, _, from_cache in pairs}

    def findings(pairs):
        return [pair[:4] for pair in pairs]
    code, first = run()
    assert not any(cached(first).values())
    again = run()
    assert again[0] == code and findings(again[1]) == findings(first)
    assert cached(again[1]) == {("broken.aa", None): None, ("pair.aa", "one"): True,
                                ("pair.aa", "two"): True, ("vm-agent-expands.aa", "vm-agent"): True,
                                ("vm-agent-within.aa", "vm-agent"): True}
    (children / "pair.aa").write_text(_profile("one") + _profile("two"))
    code, edited = run()
    assert cached(edited)[("pair.aa", "two")] is False
    assert cached(edited)[("vm-agent-expands.aa", "vm-agent")] is True
    assert [p[2] for p in edited if p[0] == "pair.aa"] == ["contained", "contained"]
    shutil.rmtree(tmp_path / "cache")
    assert findings(run("--no-cache")[1]) == findings(edited)
    assert not (tmp_path / "cache").exists()


def test_a_worker_keeps_no_child_once_its_pairs_are_checked(folder, tmp_path, monkeypatch):
    """A worker checks many children within one parent: the cache it reads them
    through keeps the parent, and lets each child go once its pairs are done."""
    import gc
    import weakref
    from lsmsim.batch.worker import CheckJob, run_job
    loaded = []
    real_load = lsmsim.api.load

    def load(path, *args, **kwargs):
        policy = real_load(path, *args, **kwargs)
        loaded.append((Path(path).name, weakref.ref(policy)))
        return policy
    monkeypatch.setattr(lsmsim.api, "load", load)
    cache = str(tmp_path / "cache")
    for name in ("vm-agent-within.aa", "vm-agent-expands.aa"):
        (report,) = run_job(CheckJob(str(folder / name), str(PARENT), (str(INCLUDE),),
                                     cache=cache))
        assert report.result is not None
    gc.collect()
    alive = {name for name, ref in loaded if ref() is not None}
    assert alive == {PARENT.name}


def test_junit_counts_pairs(folder, tmp_path):
    code, text = _check(folder, tmp_path, "junit", "-j", "2")
    root = ET.fromstring(text)
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert code == 2
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "2", "1")
    assert len(cases) == 5
    assert sum(case.find("failure") is not None for case in cases) == 2
    assert all(float(case.get("time")) > 0 for case in cases if case.find("error") is None)
    (error,) = [case for case in cases if case.find("error") is not None]
    assert "broken.aa" in error.find("error").get("message")


def test_sarif_of_a_folder_validates(folder, tmp_path):
    code, text = _check(folder, tmp_path, "sarif", "-j", "2")
    results = assert_valid_sarif(text)["runs"][0]["results"]
    assert code == 2 and len(results) == 9
    (write,) = [r for r in results if "/var/lib/libvirt/images/base.img wa" in
                r["message"]["text"]]
    assert write["relatedLocations"]


def test_text_report_lists_every_pair(folder, tmp_path):
    _, text = _check(folder, tmp_path, "text", "-j", "1")
    assert text.splitlines()[0] == \
        "error: 5 pair(s): 2 contained, 1 error, 2 expansions"
    assert text.count("\n== ") == 5


def test_several_child_options_and_exit_code_of_findings(tmp_path):
    """--child repeated: expansions in one pair, nothing wrong elsewhere: exit 1."""
    code = main(["check", "--child", str(MODELS / "containers" / "vm-agent-within.aa"),
                 "--child", str(MODELS / "containers" / "vm-agent-expands.aa"),
                 "--parent", str(PARENT), "-I", str(INCLUDE), "-j", "1",
                 "--format", "json", "--output", str(tmp_path / "r.json")])
    document = json.loads((tmp_path / "r.json").read_text())
    assert code == 1 and document["verdict"] == "expansions"
    assert [p["verdict"] for p in document["pairs"]] == ["contained", "expansions"]


def test_worst_exit_code_orders_errors_before_findings():
    assert worst_exit_code([0, 3, 1]) == 1
    assert worst_exit_code([0, 3]) == 3
    assert worst_exit_code([1, 2, 3]) == 2
    assert worst_exit_code([2, 4, 1]) == 4
    assert worst_exit_code([]) == 0


def _stderr_of(args: list[str], tty: bool) -> str:
    """Standard error of ``lsmsim`` run with a terminal or a pipe as stderr."""
    command = [sys.executable, "-m", "lsmsim.cli", *args]
    if not tty:
        return subprocess.run(command, capture_output=True, text=True, timeout=300).stderr
    leader, follower = pty.openpty()
    # A terminal of 80 columns (a new pseudo-terminal has none, and tqdm draws nothing).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=300)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_progress_bar_only_on_a_terminal(folder):
    """A run of several seconds draws a bar on a terminal and nothing into a pipe."""
    # The two large container profiles, each checked several times, keep the run well
    # past the bar's one-second delay: one lxc-default alone now takes under a second.
    heavy = [str(MODELS / "containers" / f"{name}.aa")
             for name in ("lxc-default", "docker-default")]
    children = [str(folder), str(folder), *heavy * 3]
    args = ["check", *(a for child in children for a in ("--child", child)), "--parent",
            str(PARENT), "-I", str(INCLUDE), "-j", "1", "--no-cache"]
    assert "file/s" not in _stderr_of(args, tty=False)
    on_terminal = _stderr_of(args, tty=True)
    assert "file/s" in on_terminal or "s/file" in on_terminal
