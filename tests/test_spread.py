"""A check whose classes run in forked processes gives the answer of a run in turn:
the same denials, undecided findings, pairs followed, states explored and budget
cuts, on the shipped models and on budgets that run out anywhere in the check."""
from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

import lsmsim
from lsmsim.verify import spread
from lsmsim.verify.check import ENGINES, ContainmentCheck

from .conftest import INCLUDE, MODELS
from .helpers import load_text

pytestmark = pytest.mark.skipif(not spread.can_spread(2, "automata"),
                                reason="checks are spread over processes on Linux only")

PARENT = MODELS / "svirt" / "libvirt-qemu.aa"
CHILDREN = sorted((MODELS / "containers").glob("*.aa")) + sorted((MODELS / "nested").glob("*.aa"))


def _result(child_policy, parent_policy, jobs: int, **options):
    result = ContainmentCheck(child_policy, parent_policy, jobs=jobs, **options).run()
    return dataclasses.replace(result, elapsed=0.0)


def _policies(child_path):
    child = lsmsim.load(child_path, [INCLUDE])
    parent_path = MODELS / "containers" / "vm-agent-within.aa" if "nested" in str(child_path) \
        else PARENT
    return child, lsmsim.load(parent_path, [INCLUDE])


@pytest.mark.parametrize("child_path", CHILDREN, ids=lambda p: p.stem)
def test_a_spread_check_gives_the_answer_of_a_check_in_turn(child_path):
    child, parent = _policies(child_path)
    names = dict(child=child.profiles[0].name, parent=parent.profiles[0].name)
    alone = _result(child, parent, 1, **names)
    assert _result(child, parent, 2, **names) == alone
    assert _result(child, parent, 4, **names) == alone


def test_a_budget_that_runs_out_cuts_where_it_does_in_turn():
    child, parent = _policies(MODELS / "containers" / "lxc-default.aa")
    whole = _result(child, parent, 1).product_states
    # Cuts in the path product, in the classes after it, and just past the whole check.
    for budget in (50, whole // 3, whole - 700, whole - 1, whole, whole + 1):
        assert _result(child, parent, 2, budget=budget) == _result(child, parent, 1,
                                                                   budget=budget), budget


def _explained(child, parent, jobs: int, **options):
    from lsmsim.verify.explain import ExplainQuery
    explanation = ExplainQuery(child, parent, jobs=jobs, **options).run()
    return dataclasses.replace(explanation,
                               result=dataclasses.replace(explanation.result, elapsed=0.0))


@pytest.mark.parametrize("name", ["lxc-default", "vm-agent-expands"])
def test_a_spread_explanation_is_the_one_in_turn(name):
    child, parent = _policies(MODELS / "containers" / f"{name}.aa")
    alone = _explained(child, parent, 1)
    assert _explained(child, parent, 2) == alone
    assert alone.pairs and alone.pairs[0].rules


def test_an_explanation_whose_budget_runs_out_is_the_one_in_turn():
    # Just past the check's own states the explanation's automata need more: the spread
    # run is given up and the pair checked again in turn, where the budget runs out
    # before the explanation; what the spread run explained must not stay.
    child, parent = _policies(MODELS / "containers" / "vm-agent-expands.aa")
    whole = _result(child, parent, 1).product_states
    cut, enough = (_explained(child, parent, 1, budget=b) for b in (whole + 1, whole * 2))
    assert _explained(child, parent, 2, budget=whole + 1) == cut
    assert _explained(child, parent, 2, budget=whole * 2) == enough
    assert cut.pairs == () and len(enough.pairs) == len(enough.result.pairs) == 1


def test_pairs_to_follow_found_in_a_worker_are_the_parent_process_profiles():
    # change_profile runs in a worker; the pair it leads to is followed here, once.
    child = load_text("profile c { change_profile -> k, }\n"
                      "profile k { capability chown, /etc/** r, }\n")
    parent = load_text("profile p { change_profile -> k, capability, }\n"
                       "profile k { capability sys_admin, }\n")
    spread_result = _result(child, parent, 2, child="c", parent="p")
    assert spread_result == _result(child, parent, 1, child="c", parent="p")
    assert ("k", "k") in spread_result.pairs


def test_a_check_that_fails_in_a_worker_is_an_internal_error(monkeypatch):
    checks = ENGINES["automata"]

    def broken(ctx):
        raise RuntimeError("broken check")
        yield
    child, parent = _policies(MODELS / "containers" / "docker-default.aa")
    with pytest.raises(spread.WorkerFailed, match="broken check"):
        ContainmentCheck(child, parent, checks=(*checks, broken), jobs=2).run()


def test_the_command_line_spreads_by_default_and_reports_the_same(tmp_path):
    def run(*extra):
        proc = subprocess.run(
            [sys.executable, "-m", "lsmsim", "check", "--no-cache", "--format", "json",
             "--child", str(MODELS / "containers" / "docker-default.aa"), "--parent",
             str(PARENT), "-I", str(INCLUDE), *extra],
            capture_output=True, text=True, timeout=600)
        assert proc.returncode == 1, proc.stderr
        return proc.stdout.replace('"from_cache": false', "")
    strip = lambda text: "\n".join(line for line in text.splitlines() if "seconds" not in line)
    assert strip(run("--jobs", "1")) == strip(run()) == strip(run("--jobs", "2"))


@pytest.mark.parametrize("manifest", ["libvirt-lxd.toml", "libvirt-lxd-expands.toml"])
def test_a_stack_spread_over_processes_gives_the_same_layer_pairs(manifest):
    from lsmsim.stack import check_stack, load_stack
    stack = load_stack(MODELS / "stacks" / manifest)

    def pairs(jobs: int):
        return [(p.ancestor, p.child, p.relation, p.result and dataclasses.replace(
            p.result, elapsed=0.0)) for p in check_stack(stack, jobs=jobs).pairs]
    assert pairs(2) == pairs(1)
