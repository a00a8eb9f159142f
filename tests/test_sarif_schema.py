"""SARIF output that code scanning accepts: every log validates against the official
SARIF 2.1.0 schema and points at the child rule's line, with the parent's closest
rules beside it."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lsmsim.cli import main

from .conftest import INCLUDE, MODELS
from .sarif_validation import assert_valid_sarif

PARENT = str(MODELS / "svirt" / "libvirt-qemu.aa")


def _run(tmp_path: Path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "out.sarif"
    code = main([*args, "--format", "sarif", "--output", str(out)])
    return code, assert_valid_sarif(out.read_text())


def _json(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "out.json"
    main([*args, "--format", "json", "--output", str(out)])
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def expanding(tmp_path_factory):
    """The README's main command as SARIF and as JSON."""
    tmp = tmp_path_factory.mktemp("expanding")
    args = ["check", "--child", str(MODELS / "containers" / "vm-agent-expands.aa"),
            "--parent", PARENT, "-I", str(INCLUDE)]
    code, log = _run(tmp, *args)
    return code, log, _json(tmp, *args)


def test_each_denial_is_a_result_at_the_child_rule(expanding):
    """One LSM001 result per JSON denial, at the same line and column, with the rule's
    text as the snippet."""
    code, log, document = expanding
    results = log["runs"][0]["results"]
    assert code == 1
    assert [r["ruleId"] for r in results] == ["LSM001"] * len(document["denials"]) == \
        ["LSM001"] * 8
    for result, denial in zip(results, document["denials"]):
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == \
            (denial["rule"]["line"], denial["rule"]["column"])
        assert region["snippet"]["text"] == denial["rule"]["text"]
        assert denial["audit"] in result["message"]["text"]
        assert result["partialFingerprints"]["lsmsimFinding/v1"] == denial["fingerprint"]


def test_closest_parent_rule_is_a_related_location(expanding):
    """The write to the base image points at the parent rule that grants only reads
    of it, in the parent's own file."""
    _, log, _ = expanding
    (result,) = [r for r in log["runs"][0]["results"]
                 if "/var/lib/libvirt/images/base.img wa" in r["message"]["text"]]
    related = [loc["physicalLocation"] for loc in result["relatedLocations"]]
    assert related, "no related location"
    for location in related:
        uri = location["artifactLocation"]["uri"]
        assert uri.startswith("file://") or not uri.startswith("/")
        assert "/var/lib/libvirt/images/base.img" in location["region"]["snippet"]["text"]


def test_rules_carry_help_for_code_scanning(expanding):
    """Both rules are described, with help text and a link into the README section."""
    _, log, _ = expanding
    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == {"LSM001", "LSM002"}
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    # The anchors GitHub gives the README's headings.
    anchors = {re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
               for line in readme.splitlines() if line.startswith("#")}
    for rule in rules.values():
        assert rule["helpUri"].split("#", 1)[1] in anchors, rule["helpUri"]


def test_contained_check_is_a_valid_empty_log(tmp_path):
    code, log = _run(tmp_path, "check", "--child",
                     str(MODELS / "containers" / "vm-agent-within.aa"),
                     "--parent", PARENT, "-I", str(INCLUDE))
    assert code == 0 and log["runs"][0]["results"] == []


def test_undecided_rule_is_a_warning_at_its_line(tmp_path):
    """A rule lsmsim cannot decide is LSM002 at its own line; the expansion next to it
    is still LSM001."""
    child = tmp_path / "child.aa"
    child.write_text("profile child {\n  network (send) inet stream ip=10.0.0.1 port=80,\n"
                     "  capability chown,\n}\n")
    parent = tmp_path / "parent.aa"
    parent.write_text("profile parent {\n  network inet stream,\n}\n")
    code, log = _run(tmp_path, "check", "--child", str(child), "--parent", str(parent))
    by_rule = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert code == 1
    assert by_rule["LSM002"]["level"] == "warning"
    assert by_rule["LSM002"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert by_rule["LSM001"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 3


def test_stack_results_name_the_layer_pair(tmp_path):
    """Each result of a stack says which layer pair it belongs to, and a denial by the
    host points at the host's closest rule."""
    code, log = _run(tmp_path, "check", str(MODELS / "stacks" / "libvirt-lxd-expands.toml"))
    results = log["runs"][0]["results"]
    assert code == 1 and results
    assert all(r["message"]["text"].startswith("[libvirt-lxd-expands: ") for r in results)
    pairs = {r["properties"]["pair"] for r in results}
    assert "libvirt-lxd-expands: agent within host (parent)" in pairs
    assert any("relatedLocations" in r for r in results)


def test_selinux_check_is_valid_sarif(tmp_path):
    code, log = _run(tmp_path, "check",
                     "--child", str(MODELS / "selinux" / "container-expands.conf"),
                     "--parent", str(MODELS / "selinux" / "svirt-parent.conf"))
    assert code == 1 and log["runs"][0]["results"]
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
               for r in log["runs"][0]["results"])


def test_paths_outside_the_working_folder_are_file_uris(tmp_path, monkeypatch):
    """Code scanning resolves relative URIs against the checkout; a file elsewhere is
    named by an absolute file: URI."""
    child = tmp_path / "policies" / "child.aa"
    child.parent.mkdir()
    child.write_text("profile child {\n  capability sys_admin,\n}\n")
    parent = tmp_path / "policies" / "parent.aa"
    parent.write_text("profile parent {\n  capability chown,\n}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    _, log = _run(tmp_path, "check", "--child", str(child), "--parent", str(parent))
    (result,) = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == \
        {"uri": child.as_uri()}
    monkeypatch.chdir(tmp_path)
    _, log = _run(tmp_path, "check", "--child", str(child), "--parent", str(parent))
    (result,) = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == \
        {"uri": "policies/child.aa", "uriBaseId": "%SRCROOT%"}
