"""``lsmsim fleet``: the same records on the local pool and on Dask's LocalCluster,
reruns resume, and a pair that crashes its worker or runs over its budget is recorded
without stopping the others."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import lsmsim.fleet.executors as executors
from lsmsim.cli import main
from lsmsim.fleet import read_pairs, run_fleet, run_pair

from .conftest import INCLUDE, MODELS

PARENT = MODELS / "svirt" / "libvirt-qemu.aa"


def _pairs_file(folder: Path) -> Path:
    """Four pairs: contained, expanding, a stack, a missing file (relative path)."""
    lines = [
        {"id": "within", "child": str(MODELS / "containers" / "vm-agent-within.aa"),
         "parent": str(PARENT), "include": [str(INCLUDE)]},
        {"id": "expands", "child": str(MODELS / "containers" / "vm-agent-expands.aa"),
         "parent": str(PARENT), "include": [str(INCLUDE)]},
        {"stack": str(MODELS / "stacks" / "selinux-svirt-expands.toml")},
        {"id": "missing", "child": "nothere.aa", "parent": str(PARENT)},
    ]
    path = folder / "pairs.jsonl"
    path.write_text("# one pair per line\n" + "".join(json.dumps(l) + "\n" for l in lines))
    return path


def _records(path: Path) -> dict[str, tuple]:
    """Per pair id: verdict, exit code and the findings' fingerprints per checked pair."""
    out = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        out[record["id"]] = (record["verdict"], record["exit_code"],
                             [[d["fingerprint"] for d in p.get("denials", [])]
                              for p in record["pairs"]])
    return out


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fleet")
    pairs = _pairs_file(folder)
    summary = run_fleet(pairs, workers=2)
    return folder, pairs, summary


def test_local_pool_records_every_pair(local_run):
    folder, pairs, summary = local_run
    records = _records(folder / "pairs.results.jsonl")
    stack_id = read_pairs(pairs)[2].id
    assert records["within"][:2] == ("contained", 0)
    assert records["expands"][:2] == ("expansions", 1) and len(records["expands"][2][0]) == 8
    assert records[stack_id][:2] == ("expansions", 1)
    assert records["missing"][:2] == ("error", 2)
    assert (summary.total, summary.ran, summary.skipped, summary.exit_code) == (4, 4, 0, 2)


def test_dask_local_cluster_gives_the_same_records(local_run, tmp_path):
    pytest.importorskip("distributed", reason="Dask is the optional extra lsmsim[fleet]")
    folder, pairs, _ = local_run
    results = tmp_path / "dask.jsonl"
    summary = run_fleet(pairs, results, executor="dask", workers=2)
    assert summary.ran == 4
    assert _records(results) == _records(folder / "pairs.results.jsonl")


def test_rerun_resumes(tmp_path):
    """A finished pair is not run again; a pair whose line was lost (an interrupted
    run) is."""
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"id": name, "child": f"{name}.aa", "parent": "p.aa"})
                             + "\n" for name in ("a", "b", "c")))
    for name in "abc":
        (tmp_path / f"{name}.aa").write_text(f"profile {name} {{\n  capability chown,\n}}\n")
    (tmp_path / "p.aa").write_text("profile p {\n  capability chown,\n}\n")
    first = run_fleet(pairs, workers=1)
    results = tmp_path / "pairs.results.jsonl"
    lines = results.read_text().splitlines()
    results.write_text("\n".join(lines[:2]) + "\n" + lines[2][:10])  # cut the last line
    second = run_fleet(pairs, workers=1)
    assert (first.ran, second.ran, second.skipped) == (3, 1, 2)
    assert sorted(_records(results)) == ["a", "b", "c"]
    assert run_fleet(pairs, workers=1).ran == 0


def _crash_on_marked(pair, options, seconds):
    """A worker that dies on the pair named ``crash``, as a segfault would."""
    if pair.id == "crash":
        os._exit(11)
    return run_pair(pair, options, seconds)


def _contained_pairs(folder: Path, names: list[str]) -> Path:
    """A pairs file of one small child per name, each within the same parent."""
    (folder / "p.aa").write_text("profile p {\n  capability chown,\n}\n")
    for name in names:
        (folder / f"{name}.aa").write_text(f"profile x{name} {{\n  capability chown,\n}}\n")
    pairs = folder / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"id": n, "child": f"{n}.aa", "parent": "p.aa"}) + "\n"
                             for n in names))
    return pairs


def test_crashing_pair_is_recorded_and_the_fleet_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "run_pair", _crash_on_marked)
    summary = run_fleet(_contained_pairs(tmp_path, ["a", "crash", "b", "c", "d"]), workers=2)
    records = _records(tmp_path / "pairs.results.jsonl")
    assert records.pop("crash")[:2] == ("error", 4)
    assert {v[:2] for v in records.values()} == {("contained", 0)} and len(records) == 4
    assert summary.exit_code == 4


class _PoolThatBreaks:
    """A process pool that runs each pair at once, in this process, until its
    ``breaks_at``-th submit, which it refuses as a pool whose worker died refuses."""

    breaks_at = 3
    submitted = 0

    def __init__(self, max_workers):
        self.broken = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, *args):
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool
        type(self).submitted += 1
        if self.broken or type(self).submitted == self.breaks_at:
            self.broken = True
            raise BrokenProcessPool("a worker died")
        future = Future()
        future.set_result(fn(*args))
        return future


def test_a_pair_a_broken_pool_refuses_is_run_by_the_next(tmp_path, monkeypatch):
    """The pool breaks between two pairs; the pair it refused must not be lost."""
    monkeypatch.setattr(executors, "ProcessPoolExecutor", _PoolThatBreaks)
    monkeypatch.setattr(_PoolThatBreaks, "submitted", 0)
    names = ["a", "b", "c", "d", "e"]
    summary = run_fleet(_contained_pairs(tmp_path, names), workers=1)
    records = _records(tmp_path / "pairs.results.jsonl")
    assert sorted(records) == names
    assert {v[:2] for v in records.values()} == {("contained", 0)}
    assert summary.exit_code == 0


def test_over_budget_pair_is_undecided(tmp_path):
    """A pair past its wall-clock budget is recorded as undecided (exit 3)."""
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"id": "slow", "child": str(MODELS / "containers" /
                                                             "lxc-default.aa"),
                                 "parent": str(PARENT), "include": [str(INCLUDE)]}) + "\n")
    summary = run_fleet(pairs, workers=1, seconds=0.01)
    record = json.loads((tmp_path / "pairs.results.jsonl").read_text())
    assert (record["verdict"], record["exit_code"]) == ("undecided", 3)
    assert "time budget" in record["error"]
    assert summary.exit_code == 3


def test_bad_pairs_file_names_the_line(tmp_path, capsys):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"child": "a.aa", "parent": "b.aa"}\n{"child": "a.aa", "colour": 1}\n')
    assert main(["fleet", str(pairs)]) == 2
    assert capsys.readouterr().err.strip() == \
        f"{pairs}:2:1: unknown key 'colour' (known: child, child_profile, id, include, lsm, " \
        "parent, parent_profile, stack)"
    pairs.write_text('{"child": "a.aa", "parent": "b.aa"}\n{"child": "a.aa", "parent": }\n')
    assert main(["fleet", str(pairs)]) == 2
    assert capsys.readouterr().err.strip().startswith(f"{pairs}:2:")


def test_command_line_prints_the_summary(local_run, capsys):
    """A rerun from the command line: everything already done, the worst exit code."""
    folder, pairs, _ = local_run
    assert main(["fleet", str(pairs)]) == 2
    out = capsys.readouterr().out
    assert "4 pair(s): 1 contained, 1 error, 2 expansions; 0 run now, 4 already done" in out


def test_existing_dask_cluster_by_scheduler_address(local_run, tmp_path):
    """--scheduler sends the pairs to a running cluster; the records are the same."""
    distributed = pytest.importorskip("distributed",
                                      reason="Dask is the optional extra lsmsim[fleet]")
    folder, _, _ = local_run
    lines = (folder / "pairs.jsonl").read_text().splitlines()
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(lines[:3]) + "\n")  # the comment, within, expands
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        code = main(["fleet", str(pairs), "--executor", "dask", "--scheduler",
                     cluster.scheduler_address, "--results", str(tmp_path / "r.jsonl")])
    everything = _records(folder / "pairs.results.jsonl")
    assert code == 1
    assert _records(tmp_path / "r.jsonl") == {k: everything[k] for k in ("within", "expands")}


@pytest.mark.parametrize("options", [["--scheduler", "tcp://127.0.0.1:1"],
                                     ["--executor", "dask", "--timeout", "5"]])
def test_options_of_the_other_executor_are_usage_errors(local_run, options, capsys):
    _, pairs, _ = local_run
    assert main(["fleet", str(pairs), *options]) == 2
    assert capsys.readouterr().err.startswith("lsmsim: --")
