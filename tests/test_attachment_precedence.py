"""Which profile a px without a named target enters is decided once
(lsmsim.model.decision: an exact attachment beats a glob, a longer literal match a
shorter one, a tie fails the exec), and check, simulate, graph and stacks agree on
it: the kernel's answer."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import lsmsim
from lsmsim.graph import transitions
from lsmsim.model.decision import AMBIGUOUS, pick_attachment
from lsmsim.simulate.transition import exec_transition

from .helpers import load_text

PARENT = """profile parent {
  /usr/bin/** px,
  capability,
}
profile wide /usr/bin/* {
  capability chown,
}
profile narrow /usr/bin/foo {
  capability,
}
"""
CHILD = """profile child {
  /usr/bin/foo px,
}
profile ctarget /usr/bin/foo {
  capability sys_admin,
}
"""


@pytest.mark.parametrize("engine", ["automata", "z3"])
def test_check_follows_the_profile_the_kernel_attaches(engine):
    child, parent = load_text(CHILD), load_text(PARENT)
    result = lsmsim.check(child, parent, "child", "parent", engine=engine)
    # /usr/bin/foo attaches to 'narrow' (exact) in the parent, which grants every
    # capability: 'wide' (a glob) never runs it.
    assert result.verdict is lsmsim.Verdict.CONTAINED, result
    assert ("ctarget", "narrow") in result.pairs and ("ctarget", "wide") not in result.pairs


def test_simulate_and_graph_pick_the_same_profile():
    parent = load_text(PARENT)
    after, mode = exec_transition(parent, parent.find("parent"), "/usr/bin/foo")
    assert after.name == "narrow" and str(mode) == "px"
    after, _ = exec_transition(parent, parent.find("parent"), "/usr/bin/bar")
    assert after.name == "wide"
    child = load_text(CHILD)
    edges = {(a, b) for a, b, data in transitions(child).edges(data=True)
             if data["kind"] == "exec"}
    assert edges == {("child", "ctarget")}


def test_the_stack_gives_the_same_answer(tmp_path: Path):
    (tmp_path / "parent.aa").write_text(PARENT)
    (tmp_path / "child.aa").write_text(CHILD)
    manifest = tmp_path / "stack.toml"
    manifest.write_text('[layers.host]\npolicy = "parent.aa"\nsubject = "parent"\n'
                        '[layers.kid]\nparent = "host"\npolicy = "child.aa"\nsubject = "child"\n')
    proc = subprocess.run([sys.executable, "-m", "lsmsim", "check", str(manifest), "--format",
                           "json"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["verdict"] == "contained"
    # After exec /usr/bin/foo the child runs ctarget and the host narrow: both allow it.
    stack = lsmsim.load_stack(manifest)
    after = lsmsim.simulate(stack, "capability:sys_admin", after_exec=["/usr/bin/foo"])
    assert after.allowed, after.to_json()
    # /usr/bin/bar attaches to wide on the host, which does not grant sys_admin.
    (tmp_path / "child.aa").write_text(CHILD.replace("/usr/bin/foo", "/usr/bin/*"))
    wide = lsmsim.simulate(lsmsim.load_stack(manifest), "capability:sys_admin",
                           after_exec=["/usr/bin/bar"])
    assert not wide.allowed and wide.denied_by.layer == "host", wide.to_json()


def test_ties_fail_and_exact_wins():
    profiles = load_text("profile a /usr/bin/* { }\nprofile b /usr/*/x { }\n"
                         "profile c /usr/bin/x* { }\nprofile d /usr/bin/xy { }\n").profiles
    a, b, c, d = profiles

    def at(path: str):
        return pick_attachment(profiles, lambda p: p.attachment.matches(path))
    assert at("/usr/bin/xy") is d           # exact beats every glob
    assert at("/usr/bin/xz") is c           # the longest literal match
    assert at("/usr/bin/q") is a
    assert at("/usr/lib/x") is b
    tie = load_text("profile e /opt/*/a { }\nprofile f /opt/*/* { }\n").profiles
    assert pick_attachment(tie, lambda p: p.attachment.matches("/opt/q/a")) is None
    assert AMBIGUOUS == "ambiguous"
