"""Benchmark on Debian's reference SELinux policy (run: ``python3 -m tests.bench_selinux``).

The policy is fetched and converted to CIL by ``scripts/fetch_debian_selinux.py``.
In one run, on the same CIL: ``secilc -M true`` compiles it, lsmsim loads it, checks
it against itself and checks the sVirt container namespace policies
(``models/selinux/debian-svirt-*.cil``) within it. Times are CPU seconds (this
process, or the compiler as a child process), so a busy machine skews both sides
alike; each lsmsim figure is printed as a ratio to the compiler's.
"""
from __future__ import annotations

import importlib.util
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_FETCH = REPO / "scripts" / "fetch_debian_selinux.py"
_spec = importlib.util.spec_from_file_location("fetch_debian_selinux", _FETCH)
fetch = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fetch)
Unavailable = fetch.Unavailable
debian_policy_cil = fetch.debian_policy_cil
CONTAINERS = [REPO / "models" / "selinux" / f"debian-svirt-{v}.cil" for v in ("within", "expands")]


def _cpu() -> float:
    return time.process_time()


def _children() -> resource.struct_rusage:
    return resource.getrusage(resource.RUSAGE_CHILDREN)


def compile_with_secilc(cil: Path) -> tuple[float, float]:
    """secilc's CPU seconds and peak memory (MB) compiling the policy."""
    before = _children()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["secilc", "-M", "true", "-o", f"{tmp}/policy.bin", "-f", "/dev/null",
                        *map(str, sorted(cil.glob("*.cil")))], check=True, timeout=900)
    after = _children()
    seconds = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return seconds, after.ru_maxrss / 1024


def _timed(fn):
    start = _cpu()
    value = fn()
    return value, _cpu() - start


def main() -> int:
    import lsmsim
    from lsmsim.frontends.selinux import load_cil

    try:
        cil = debian_policy_cil()
    except Unavailable as error:
        print(f"cannot benchmark: {error}")
        return 2
    modules = sorted(cil.glob("*.cil"))
    lines = sum(f.read_text().count("\n") for f in modules)
    print(f"Debian's policy: {len(modules)} modules, {lines} lines of CIL")
    secilc_s, secilc_mb = compile_with_secilc(cil)
    print(f"secilc -M true: {secilc_s:.2f} s CPU, {secilc_mb:.0f} MB peak")

    policy, load_s = _timed(lambda: load_cil(cil))
    print(f"load: {load_s:.2f} s = {load_s / secilc_s:.2f}x secilc ({len(policy.types)} types, "
          f"{len(policy.attributes)} attributes, {len(policy.rules)} access rules, "
          f"{len(policy.constraints)} constraints, {len(policy.booleans)} booleans; "
          "neverallows enforced)")
    result, check_s = _timed(lambda: lsmsim.check(policy, within=policy))
    print(f"check against itself: {result.verdict.value} in {check_s:.2f} s = "
          f"{check_s / secilc_s:.2f}x secilc ({result.queries} queries, "
          f"{result.seconds:.2f} s in the solver)")
    verdicts = []
    for path in CONTAINERS:
        def contained():
            return lsmsim.check(load_cil(path), within=policy,
                                booleans=dict(policy.booleans))
        found, seconds = _timed(contained)
        verdicts.append(found.verdict.value)
        print(f"sVirt container {path.name} within it: {found.verdict.value} "
              f"({len(found.denials)} denials) in {seconds:.2f} s = {seconds / secilc_s:.2f}x "
              f"secilc ({found.queries} queries)")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak_mb:.0f} MB = {peak_mb / secilc_mb:.2f}x secilc "
          "(load, every check)")
    ok = result.verdict.value == "contained" and verdicts == ["contained", "expansions"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
