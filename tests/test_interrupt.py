"""Ctrl-C: any command ends within a second, exit 130, no traceback, even while Z3
is in the middle of one long query."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import z3

from lsmsim.interrupt import solver_interrupts

from .conftest import MODELS

# How long a user waits after Ctrl-C at most.
PROMPT = 1.0


def _hard_query() -> z3.Solver:
    """A bit-vector problem Z3 needs far longer than the test waits for."""
    solver = z3.Solver()
    a = [z3.BitVec(f"a{i}", 64) for i in range(4)]
    solver.add(a[0] * a[1] * a[2] == a[3] * 7919 + 1, a[0] > 1000, a[1] > 1000, a[2] > 1000,
               z3.URem(a[3], a[0] * a[1] + 3) == 5)
    solver.set("timeout", 30_000)  # a bound, should the interrupt fail
    return solver


def test_sigint_interrupts_a_running_solver_call():
    solver = _hard_query()
    sent = []
    timer = threading.Timer(0.5, lambda: (sent.append(time.perf_counter()),
                                          os.kill(os.getpid(), signal.SIGINT)))
    with pytest.raises(KeyboardInterrupt):
        with solver_interrupts() as watch:
            timer.start()
            solver.check()
    assert sent and time.perf_counter() - sent[0] < PROMPT
    assert watch.received.is_set()
    assert z3.get_param("ctrl_c") == "true"  # Z3's own handler is back afterwards


STARTER = ("import sys, lsmsim.cli; print('ready', flush=True); "
           "sys.exit(lsmsim.cli.main(sys.argv[1:]))")


def _interrupt(args: list[str], after: float) -> tuple[int, str, float]:
    """Run lsmsim, press Ctrl-C ``after`` seconds into the command; the exit code,
    standard error and how long the command took to end after the signal."""
    proc = subprocess.Popen([sys.executable, "-c", STARTER, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(after)
        assert proc.poll() is None, "the command ended before it could be interrupted"
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        return proc.returncode, err, time.perf_counter() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_ctrl_c_during_a_solver_check(tmp_path):
    code, err, took = _interrupt(
        ["check", "--engine", "z3", "--child", str(MODELS / "containers" / "docker-default.aa"),
         "--parent", str(MODELS / "svirt" / "libvirt-qemu.aa"), "-I", str(MODELS / "apparmor.d")],
        after=2.0)
    assert (code, err) == (130, "lsmsim: interrupted\n")
    assert took < PROMPT


def test_ctrl_c_while_a_check_runs_in_two_processes(tmp_path):
    # The path product (this process) takes seconds; the worker beside it is ended too.
    # Each exec rule ends in its own name: rules that end alike would share their
    # ending in the parent's automaton and the product would be over in a moment.
    parent, child = tmp_path / "parent.aa", tmp_path / "child.aa"
    parent.write_text("profile big {\n" + "".join(
        f"  /srv/data{i}/** rw,\n  /srv/data{i}/x*/y{i} ix,\n" for i in range(8000)) + "}\n")
    child.write_text("profile small {\n  file,\n  signal,\n  mount,\n}\n")
    code, err, took = _interrupt(["check", "--no-cache", "-j", "2", "--child", str(child),
                                  "--parent", str(parent)], after=3.5)
    assert (code, err) == (130, "lsmsim: interrupted\n")
    assert took < PROMPT


def test_ctrl_c_while_parsing(tmp_path):
    path = tmp_path / "big.aa"
    rules = "".join(f"  /srv/data{i}/** rw,\n  deny /srv/data{i}/secret w,\n"
                    for i in range(60_000))
    path.write_text("profile big {\n" + rules + "}\n")
    code, err, took = _interrupt(["parse", str(path)], after=1.0)
    assert (code, err) == (130, "lsmsim: interrupted\n")
    assert took < PROMPT


def test_solvers_work_after_an_interrupted_command():
    """An interrupt that reached Z3 after its last call must not fail the next
    command run in the same process."""
    with pytest.raises(KeyboardInterrupt):
        with solver_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(PROMPT)  # Python code: the interrupt lands here, Z3 is idle
    solver = z3.Solver()
    solver.add(z3.Int("x") > 1)
    solver.push()  # fails with "push canceled" while Z3 holds the interrupt
    solver.pop()
    assert solver.check() == z3.sat
