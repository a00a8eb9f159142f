"""Baselines: an unchanged rerun passes, a new expanding rule fails with exactly that
finding new, and fingerprints do not move with line numbers."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, strategies as st

from lsmsim.cli import main
from lsmsim.report.baseline import NEW, UNCHANGED, Finding, compare

from .conftest import INCLUDE, MODELS
from .sarif_validation import assert_valid_sarif

PARENT = """profile parent {
  /usr/bin/** rix,
  /var/lib/app/** r,
  /tmp/** rw,
  capability chown,
}
"""
CHILD_RULES = ["/usr/bin/env rix,", "/var/lib/app/** rw,", "/tmp/work/** rw,",
               "capability chown,", "capability sys_admin,"]


def _child(rules: list[str], blank_lines: int = 0) -> str:
    body = "".join(f"  {rule}\n" for rule in rules)
    return "# a comment\n" * blank_lines + f"profile child {{\n{body}}}\n"


class Repo:
    """A scratch repository with a parent and a child profile."""

    def __init__(self, root: Path):
        self.root = root
        (root / "parent.aa").write_text(PARENT)
        self.write(CHILD_RULES)

    def write(self, rules: list[str], blank_lines: int = 0) -> None:
        (self.root / "child.aa").write_text(_child(rules, blank_lines))

    def check(self, *extra: str, fmt: str = "json") -> tuple[int, str]:
        out = self.root / f"out.{fmt}"
        code = main(["check", "--child", str(self.root / "child.aa"),
                     "--parent", str(self.root / "parent.aa"), "--format", fmt,
                     "--output", str(out), *extra])
        return code, out.read_text() if out.exists() else ""


def _states(document: dict) -> list[tuple[str, str]]:
    return [(d["rule"]["text"], d["baseline_state"]) for d in document["denials"]]


def test_unchanged_rerun_passes(tmp_path):
    repo = Repo(tmp_path)
    code, _ = repo.check("--write-baseline", str(tmp_path / "baseline.json"))
    assert code == 1
    code, text = repo.check("--baseline", str(tmp_path / "baseline.json"))
    document = json.loads(text)
    assert code == 0
    assert {state for _, state in _states(document)} == {UNCHANGED}
    assert document["baseline"] == {"new": 0, "unchanged": len(document["denials"]),
                                    "fixed": []}


def test_new_expanding_rule_is_the_only_new_finding(tmp_path):
    repo = Repo(tmp_path)
    repo.check("--write-baseline", str(tmp_path / "baseline.json"))
    repo.write(CHILD_RULES + ["capability net_admin,"])
    code, text = repo.check("--baseline", str(tmp_path / "baseline.json"))
    assert code == 1
    assert [rule for rule, state in _states(json.loads(text)) if state == NEW] == \
        ["capability net_admin,"]
    code, text = repo.check("--baseline", str(tmp_path / "baseline.json"), fmt="text")
    assert "baseline: 1 new," in text and "new:   " in text and "capability net_admin," in text


def test_moving_every_rule_down_keeps_every_fingerprint(tmp_path):
    repo = Repo(tmp_path)
    _, before = repo.check()
    repo.write(CHILD_RULES, blank_lines=10)
    _, after = repo.check()
    before, after = json.loads(before), json.loads(after)
    assert [d["rule"]["line"] + 10 for d in before["denials"]] == \
        [d["rule"]["line"] for d in after["denials"]]
    assert [d["fingerprint"] for d in before["denials"]] == \
        [d["fingerprint"] for d in after["denials"]]


def test_unrelated_change_and_respacing_keep_fingerprints(tmp_path):
    """Another rule changing, or a rule's spacing, does not touch a finding's identity;
    a different rule text does."""
    repo = Repo(tmp_path)
    _, before = repo.check()
    rules = ["/usr/bin/env   rix,", "/var/lib/app/**\trw,", "/tmp/work/** r,",
             "capability chown,", "capability sys_admin,"]
    repo.write(rules)
    _, after = repo.check()
    now = {d["rule"]["text"]: d["fingerprint"] for d in json.loads(after)["denials"]}
    old = {d["rule"]["text"]: d["fingerprint"] for d in json.loads(before)["denials"]}
    assert now["capability sys_admin,"] == old["capability sys_admin,"]
    assert now["/var/lib/app/** rw,"] == old["/var/lib/app/** rw,"]


def test_sarif_baseline_marks_states_and_lists_fixed_as_absent(tmp_path):
    """A SARIF log is a baseline too; a removed expanding rule comes back as an absent
    result and the log still validates."""
    repo = Repo(tmp_path)
    repo.check("--write-baseline", str(tmp_path / "unused.json"), fmt="sarif")
    (tmp_path / "out.sarif").rename(tmp_path / "baseline.sarif")
    repo.write([r for r in CHILD_RULES if r != "capability sys_admin,"]
               + ["/var/lib/app/x w,"])
    code, text = repo.check("--baseline", str(tmp_path / "baseline.sarif"), fmt="sarif")
    results = assert_valid_sarif(text)["runs"][0]["results"]
    states = [(r["properties"]["ruleText"], r["baselineState"]) for r in results]
    assert code == 1
    assert ("capability sys_admin,", "absent") in states
    assert ("/var/lib/app/x w,", "new") in states
    assert {s for t, s in states if t == "/var/lib/app/** rw,"} == {"unchanged"}


def test_fixed_findings_pass_and_are_listed(tmp_path):
    repo = Repo(tmp_path)
    repo.check("--write-baseline", str(tmp_path / "baseline.json"))
    repo.write([r for r in CHILD_RULES if r != "capability sys_admin,"])
    code, text = repo.check("--baseline", str(tmp_path / "baseline.json"))
    fixed = json.loads(text)["baseline"]["fixed"]
    assert code == 0
    assert [f["rule"] for f in fixed] == ["capability sys_admin,"]


def test_stack_result_is_its_own_baseline(tmp_path):
    """A stack's JSON result used as baseline for the same stack: nothing new."""
    stack = str(MODELS / "stacks" / "libvirt-lxd-expands.toml")
    baseline = tmp_path / "stack.json"
    assert main(["check", stack, "--write-baseline", str(baseline), "--format", "sarif",
                 "--output", str(tmp_path / "first.sarif")]) == 1
    assert main(["check", stack, "--baseline", str(baseline), "--format", "sarif",
                 "--output", str(tmp_path / "again.sarif")]) == 0
    results = assert_valid_sarif((tmp_path / "again.sarif").read_text())["runs"][0]["results"]
    assert results and {r["baselineState"] for r in results} == {"unchanged"}


def test_main_command_against_its_own_baseline(tmp_path):
    """The README's main command: eight findings, all unchanged on a rerun."""
    args = ["check", "--child", str(MODELS / "containers" / "vm-agent-expands.aa"),
            "--parent", str(MODELS / "svirt" / "libvirt-qemu.aa"), "-I", str(INCLUDE)]
    assert main([*args, "--write-baseline", str(tmp_path / "b.json"),
                 "--output", str(tmp_path / "out.txt")]) == 1
    assert main([*args, "--baseline", str(tmp_path / "b.json"),
                 "--output", str(tmp_path / "out.txt")]) == 0
    assert "baseline: 0 new, 8 unchanged, 0 fixed" in (tmp_path / "out.txt").read_text()


def test_bad_baseline_is_an_input_error_with_its_position(tmp_path, capsys):
    repo = Repo(tmp_path)
    (tmp_path / "bad.json").write_text('{"verdict": \n  oops}')
    code, _ = repo.check("--baseline", str(tmp_path / "bad.json"))
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith(f"{tmp_path / 'bad.json'}:2:3: baseline is not JSON")
    assert len(err.splitlines()) == 1


@given(st.lists(st.sampled_from("abcd"), max_size=8), st.lists(st.sampled_from("abcd"),
                                                               max_size=8))
def test_compare_is_a_multiset_difference(current, baseline):
    """Each baseline occurrence absorbs one current occurrence; the rest are new, and
    the unabsorbed baseline occurrences are fixed."""
    def findings(marks):
        return [Finding(mark, "expansion", "p", mark) for mark in marks]
    comparison = compare(findings(current), findings(baseline))
    for mark in "abcd":
        now, then = current.count(mark), baseline.count(mark)
        assert sum(f.fingerprint == mark for f in comparison.new) == max(now - then, 0)
        assert sum(f.fingerprint == mark for f in comparison.fixed) == max(then - now, 0)
    assert len(comparison.states) == len(current)
