"""The cache of compiled policies: a warm check gives the cold check's result, and an
entry is used only while every file it was built from is unchanged."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import lsmsim
from lsmsim.cache import PolicyCache

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"


def _copy_models(tmp: Path) -> tuple[Path, Path, Path]:
    shutil.copytree(MODELS / "apparmor.d", tmp / "apparmor.d")
    shutil.copy(MODELS / "containers" / "vm-agent-expands.aa", tmp / "child.aa")
    shutil.copy(MODELS / "svirt" / "libvirt-qemu.aa", tmp / "parent.aa")
    return tmp / "child.aa", tmp / "parent.aa", tmp / "apparmor.d"


def _check(cache: PolicyCache, child: Path, parent: Path, include: Path):
    c = lsmsim.load(child, [include], cache=cache)
    p = lsmsim.load(parent, [include], cache=cache)
    return lsmsim.check(c, p, cache=cache)


def _findings(result) -> list:
    return [(d.rule.line, d.access.to_json()) for d in result.denials]


def test_warm_check_equals_cold_and_reuses_automata(tmp_path):
    child, parent, include = _copy_models(tmp_path)
    cold = _check(PolicyCache(tmp_path / "cache"), child, parent, include)
    warm_cache = PolicyCache(tmp_path / "cache")
    warm = _check(warm_cache, child, parent, include)
    uncached = lsmsim.check(lsmsim.load(child, [include]), lsmsim.load(parent, [include]))
    assert _findings(cold) == _findings(warm) == _findings(uncached)
    assert cold.verdict is lsmsim.Verdict.EXPANSIONS
    # The warm load took the policies (and their automata) from the entries.
    assert len(list((tmp_path / "cache").glob("*.pickle"))) == 2
    loaded = lsmsim.load(parent, [include], cache=warm_cache)
    # The parent side of a check reads what the parent's rules decide.
    assert warm_cache.automata(loaded).decisions, "compiled automata were not kept"


def test_automata_of_a_profile_that_enforces_nothing_name_its_rules_after_a_reload(tmp_path):
    """A complain-mode profile acts as if it allowed everything, by rules made for it.
    Its automata come back from the cache naming those very rules, so the check of
    the reloaded policy finds what the first check found, link accesses included."""
    child, parent, include = _copy_models(tmp_path)
    child.write_text("profile vm-agent flags=(complain) {\n  capability chown,\n}\n")
    first = _check(PolicyCache(tmp_path / "cache"), child, parent, include)
    reloaded = _check(PolicyCache(tmp_path / "cache"), child, parent, include)
    assert _findings(reloaded) == _findings(first)
    assert any(access.get("target") is not None for _, access in _findings(first))


def test_a_changed_file_is_never_served_from_the_cache(tmp_path):
    child, parent, include = _copy_models(tmp_path)
    cache_dir = tmp_path / "cache"
    before = _check(PolicyCache(cache_dir), child, parent, include)
    # An abstraction the parent includes now grants what the child asks for.
    tunable = include / "abstractions" / "libvirt-qemu"
    tunable.write_text(tunable.read_text() + "\n  capability sys_admin,\n")
    after = _check(PolicyCache(cache_dir), child, parent, include)
    fresh = lsmsim.check(lsmsim.load(child, [include]), lsmsim.load(parent, [include]))
    assert _findings(after) == _findings(fresh) != _findings(before)


def test_a_new_file_under_an_include_root_invalidates_the_entry(tmp_path):
    child, parent, include = _copy_models(tmp_path)
    cache = PolicyCache(tmp_path / "cache")
    first = lsmsim.load(parent, [include], cache=cache)
    (include / "abstractions" / "new-file").write_text("/tmp/x r,\n")
    again = lsmsim.load(parent, [include], cache=PolicyCache(tmp_path / "cache"))
    assert again is not first and again == lsmsim.load(parent, [include])


def test_a_corrupt_entry_is_ignored(tmp_path):
    child, parent, include = _copy_models(tmp_path)
    cache_dir = tmp_path / "cache"
    good = _check(PolicyCache(cache_dir), child, parent, include)
    for entry in cache_dir.glob("*.pickle"):
        entry.write_bytes(b"not a pickle" + entry.read_bytes()[:100])
    again = _check(PolicyCache(cache_dir), child, parent, include)
    assert _findings(again) == _findings(good)


def test_command_line_cache_and_no_cache(tmp_path):
    child, parent, include = _copy_models(tmp_path)
    env = {"LSMSIM_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}

    def run(*extra):
        proc = subprocess.run([sys.executable, "-m", "lsmsim", "check", "--child", str(child),
                               "--parent", str(parent), "-I", str(include), "--format", "json",
                               *extra], capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 1, proc.stderr
        return json.loads(proc.stdout)["denials"]
    assert run("--no-cache") == run() == run()
    assert len(list((tmp_path / "cache").glob("*.pickle"))) == 2
    shutil.rmtree(tmp_path / "cache")
    run("--no-cache")
    assert not (tmp_path / "cache").exists()



def test_parser_tables_are_kept_and_a_corrupt_table_file_is_rebuilt(tmp_path, monkeypatch):
    from lsmsim.frontends.apparmor import load_apparmor
    from lsmsim.frontends.apparmor.parser import _parser
    # As where the shipped tables do not fit the installed Lark: the cache keeps them.
    monkeypatch.setattr("lsmsim.grammars.shipped_table_file", lambda name: tmp_path / "none.lalr")
    _parser.cache_clear()
    child, _, include = _copy_models(tmp_path)
    expected = lsmsim.load(child, [include])
    lsmsim.load(child, [include], cache=PolicyCache(tmp_path / "cache"))
    tables = list((tmp_path / "cache").glob("lark-apparmor-*.tables"))
    assert len(tables) == 1 and tables[0].stat().st_size > 0
    tables[0].write_bytes(b"not a table\n" + bytes(range(256)))
    _parser.cache_clear()  # the next parse must read the damaged file
    again = load_apparmor(child, [include], tmp_path / "cache")
    assert again.profiles == expected.profiles
    assert not tables[0].read_bytes().startswith(b"not a table")


def test_a_check_of_unchanged_files_gives_the_stored_result_and_an_edit_redoes_it(tmp_path):
    child, parent, include = _copy_models(tmp_path)
    env = {"LSMSIM_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}

    def run(*extra):
        proc = subprocess.run([sys.executable, "-m", "lsmsim", "check", "--child", str(child),
                               "--parent", str(parent), "-I", str(include), "--format", "json",
                               *extra], capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode in (0, 1), proc.stderr
        report = json.loads(proc.stdout)
        return proc.returncode, report["denials"], report["stats"]["from_cache"]
    code, denials, cached = run()
    assert code == 1 and denials and not cached
    assert run() == (code, denials, True)
    assert run("--budget", "4000000")[2] is False  # another bound is another key
    assert run("--no-cache") == (code, denials, False)
    # An edit of a file the parent includes is a new proof, not the stored result.
    tunables = include / "tunables" / "global"
    tunables.write_text(tunables.read_text() + "\n# an edit\n")
    assert run() == (code, denials, False)
    # The child's expansions gone: the stored result of the old child must not come back.
    child.write_text("profile vm-agent { capability chown, }\n")  # the parent grants it
    code, denials, cached = run()
    assert (code, denials, cached) == (0, [], False)
    assert run() == (0, [], True)


def test_a_stored_result_repeats_the_warnings_of_loading_its_policies(tmp_path):
    child, parent, include = _copy_models(tmp_path)
    outside = tmp_path / "outside"  # neither in an include root nor beside the child
    outside.write_text("capability chown,\n")
    (include / "local").mkdir(exist_ok=True)
    (include / "local" / "escape").symlink_to(outside)
    child = tmp_path / "children" / "child.aa"
    child.parent.mkdir()
    child.write_text("profile vm-agent {\n  include <local>\n  capability chown,\n}\n")
    env = {"LSMSIM_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}

    def run():
        proc = subprocess.run([sys.executable, "-m", "lsmsim", "check", "--child", str(child),
                               "--parent", str(parent), "-I", str(include), "--format", "json"],
                              capture_output=True, text=True, env=env, timeout=600)
        return proc.returncode, json.loads(proc.stdout)["stats"]["from_cache"], proc.stderr
    first, second = run(), run()
    assert first[:2] == (0, False) and second[:2] == (0, True)
    assert "outside the include roots" in first[2] and first[2] == second[2]


def test_every_format_of_a_stored_result_reads_as_the_fresh_one(tmp_path):
    child, parent, include = _copy_models(tmp_path)
    env = {"LSMSIM_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}

    def run(fmt, *extra):
        proc = subprocess.run([sys.executable, "-m", "lsmsim", "check", "--child", str(child),
                               "--parent", str(parent), "-I", str(include), "--format", fmt,
                               *extra], capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 1, proc.stderr
        return proc.stdout
    fresh = {fmt: run(fmt, "--no-cache") for fmt in ("text", "json", "sarif", "junit")}
    run("json")  # stores the result
    for fmt, report in fresh.items():
        stored = run(fmt)
        if fmt == "text":
            assert stored.endswith("(the proof of an earlier run on the same files, from the "
                                   "cache)\n")
            stored = stored.replace(" (the proof of an earlier run on the same files, from the "
                                    "cache)", "")
            report, stored = (re.sub(r"[\d.]+ s in all", "", t) for t in (report, stored))
        elif fmt == "json":
            report, stored = json.loads(report), json.loads(stored)
            assert stored["stats"].pop("from_cache") is True
            assert report["stats"].pop("from_cache") is False
            for document in (report, stored):
                document["stats"].pop("check_seconds")
        elif fmt == "sarif":
            report, stored = json.loads(report), json.loads(stored)
            report, stored = ([r for run_ in d["runs"] for r in run_["results"]]
                              for d in (report, stored))
        else:
            report, stored = (re.sub(r'time="[\d.]+"', "", t) for t in (report, stored))
            report, stored = (re.sub(r"[\d.]+ s in all( \(the proof[^)]*\))?", "", t)
                              for t in (report, stored))
        assert stored == report, fmt
    baseline = tmp_path / "baseline.json"
    run("json", "--write-baseline", str(baseline))
    assert json.loads(baseline.read_text())["denials"]
