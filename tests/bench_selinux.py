"""Benchmark on a realistic SELinux policy (run: ``python3 -m tests.bench_selinux``).

Debian's ``selinux-policy-default`` ships its modules as ``.pp`` files. The package
is downloaded (``apt-get download``, never installed: its maintainer scripts would
relabel the machine), unpacked with ``dpkg-deb -x``, every module and the base are
converted to CIL with ``/usr/libexec/selinux/hll/pp`` (Debian package
policycoreutils), and the whole policy is loaded and checked against itself.
Prints the sizes, the load time and the check time.
"""
from __future__ import annotations

import bz2
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PACKAGE = "selinux-policy-default"
PP_TO_CIL = Path("/usr/libexec/selinux/hll/pp")


class Unavailable(Exception):
    """The policy cannot be fetched or converted here (the reason says why)."""


def debian_policy_cil(workdir: Path) -> Path:
    """A directory holding Debian's default policy as one ``.cil`` file per module."""
    if not PP_TO_CIL.exists():
        raise Unavailable(f"{PP_TO_CIL} is missing (Debian package policycoreutils)")
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise Unavailable(f"{tool} is not available")
    workdir.mkdir(parents=True, exist_ok=True)
    debs = sorted(workdir.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        proc = subprocess.run(["apt-get", "download", PACKAGE], cwd=workdir,
                              capture_output=True, text=True, timeout=600)
        debs = sorted(workdir.glob(f"{PACKAGE}_*.deb"))
        if proc.returncode != 0 or not debs:
            raise Unavailable(f"apt-get download {PACKAGE} failed: "
                              f"{(proc.stderr or proc.stdout).strip()[-300:]}")
    tree = workdir / "root"
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(tree)], check=True, timeout=300)
    modules = sorted(tree.glob("usr/share/selinux/*/*.pp.bz2")) + \
        sorted(tree.glob("usr/share/selinux/*/*.pp"))
    if not modules:
        raise Unavailable(f"no .pp module in {debs[-1].name}")
    out = workdir / "cil"
    out.mkdir(exist_ok=True)
    for module in modules:
        name = module.name.split(".pp")[0]
        target = out / f"{name}.cil"
        if target.exists():
            continue
        data = module.read_bytes()
        if module.suffix == ".bz2":
            data = bz2.decompress(data)
        proc = subprocess.run([str(PP_TO_CIL)], input=data, capture_output=True, timeout=300)
        if proc.returncode != 0:
            raise Unavailable(f"{PP_TO_CIL} failed on {module.name}: "
                              f"{proc.stderr.decode(errors='replace').strip()[-300:]}")
        target.write_bytes(proc.stdout)
    return out


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> int:
    import lsmsim
    from lsmsim.frontends.selinux import load_cil

    with tempfile.TemporaryDirectory() as tmp:
        try:
            cil, fetch_s = _timed(lambda: debian_policy_cil(Path(tmp)))
        except Unavailable as error:
            print(f"cannot benchmark: {error}")
            return 2
        modules = sorted(cil.glob("*.cil"))
        lines = sum(f.read_text().count("\n") for f in modules)
        print(f"fetch and convert: {len(modules)} modules, {lines} lines of CIL, {fetch_s:.1f} s")
        policy, load_s = _timed(lambda: load_cil(cil))
        kinds: dict[str, int] = {}
        for rule in policy.rules:
            kinds[rule.kind] = kinds.get(rule.kind, 0) + 1
        print(f"load: {load_s:.1f} s ({len(policy.types)} types, {len(policy.attributes)} "
              f"attributes, {len(policy.rules)} access rules "
              f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}), "
              f"{len(policy.constraints)} constraints, {len(policy.booleans)} booleans)")
        result, check_s = _timed(lambda: lsmsim.check(policy, within=policy))
        print(f"check against itself: {result.verdict.value} in {check_s:.1f} s "
              f"({result.queries} queries, {result.seconds:.1f} s in the solver)")
    return 0 if result.verdict.value == "contained" else 1


if __name__ == "__main__":
    sys.exit(main())
