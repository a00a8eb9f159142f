"""Benchmark of the Z3 engine's overlap filter (run: ``python3 -m tests.bench_check``).

Figures are ratios against a baseline measured in the same process: the same
check with the literal-prefix overlap filter switched off (every parent rule in
every query), so machine noise cancels out.
"""
from __future__ import annotations

import time
from unittest import mock

import lsmsim
from lsmsim.model.glob import Glob

from .conftest import INCLUDE, MODELS

CHILDREN = ("vm-agent-within.aa", "vm-agent-expands.aa", "lxc-default.aa")


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    parent, load_s = _timed(lambda: lsmsim.load(MODELS / "svirt" / "libvirt-qemu.aa",
                                                 include=[INCLUDE]))
    print(f"load parent ({len(parent.profiles[0].rules)} rules): {load_s:.2f} s")
    for name in CHILDREN:
        child = lsmsim.load(MODELS / "containers" / name, include=[INCLUDE])
        result, fast = _timed(lambda: lsmsim.check(child, parent, engine="z3"))
        with mock.patch.object(Glob, "may_overlap", lambda self, other: True):
            baseline, slow = _timed(lambda: lsmsim.check(child, parent, engine="z3"))
        assert baseline.verdict is result.verdict
        print(f"{name:22} {result.verdict.value:10} {result.queries:4} queries "
              f"{fast:7.2f} s; without the prefix filter {slow:7.2f} s "
              f"(ratio {slow / fast:5.1f}x)")


if __name__ == "__main__":
    main()
