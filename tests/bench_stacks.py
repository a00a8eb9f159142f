"""Benchmark of the shipped stacks (run: ``python3 -m tests.bench_stacks``).

For each stack: the time to load it and to check every layer pair, and the check's
cost as a ratio against a baseline measured in the same process, the direct-parent
pairs alone (what checking only parent → child edges would cost). Simulation is timed
as requests per second through every layer, against a baseline of the same requests
decided at each layer's profile directly (the cost of the stack machinery).
"""
from __future__ import annotations

import time

import lsmsim
from lsmsim.simulate.decide import decide
from lsmsim.stack import check_pair, parse_request
from lsmsim.stack.simulate import simulate

from .conftest import MODELS

WORKLOAD = ["file:/var/lib/libvirt/images/vm1.qcow2:r", "file:/srv/vm1-share/x:w",
            "file:/etc/shadow:r", "capability:setuid", "capability:sys_admin",
            "network:inet:stream", "signal:receive:term:libvirtd"]


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    for path in sorted((MODELS / "stacks").glob("*.toml")):
        stack, load_s = _timed(lambda: lsmsim.load_stack(path))
        result, check_s = _timed(lambda: lsmsim.check_stack(stack))
        _, edges_s = _timed(lambda: [check_pair(stack, child, parent)
                                     for parent, child in stack.edges()
                                     if parent.lsm == child.lsm])
        queries = sum(p.result.queries for p in result.checked)
        print(f"{stack.name:24} {result.verdict.value:10} load {load_s:5.2f} s, check "
              f"{check_s:5.2f} s ({len(result.checked)} pairs, {queries} queries; "
              f"{check_s / edges_s:4.2f}x the parent edges alone)")
        if all(layer.lsm == "apparmor" for layer in stack.layers.values()):
            profiles = [layer.profile for layer in stack.layers.values()]
            requests = [parse_request(r) for r in WORKLOAD] * 20
            _, through = _timed(lambda: [simulate(stack, r) for r in requests])
            _, direct = _timed(lambda: [decide(p, r) for r in requests for p in profiles])
            print(f"{'':24} simulate {len(requests) / through:7.0f} requests/s through "
                  f"{len(stack.layers)} layers ({through / direct:4.2f}x deciding at each "
                  "profile directly)")


if __name__ == "__main__":
    main()
