"""Benchmark of AppArmor checks against the real compiler (run: ``python3 -m tests.bench_apparmor``).

Every figure is a ratio measured in one run, so the machine's noise cancels out:
``lsmsim check`` in a fresh process (cold: empty cache; proof: the policies' compiled
automata cached, the proof redone; warm: the cache the cold run left, whose stored
result answers) against ``apparmor_parser -QKS`` compiling the same two files: each of
``--repeat`` rounds runs them all, and a ratio is the median of the rounds' ratios.
"load" is a fresh process that only imports lsmsim and reads the two policies: what
no cold check can do without. "parse" is less still: a fresh process that only loads
the shipped Lark parser and parses each file the two policies read, once, building no
model: the least a front end written with Lark pays. Then the scaling of a check
against synthetic parents of 10 ... 10,000 rules (in-process, the exponent fitted on
a log-log scale, with the compiler's time on the same files), and two cases that used
to hang: a parent with several hundred literal disk paths under a child glob, and
Debian's ``abstractions/ubuntu-browsers.d/java`` profiles within a permissive parent.

Debian's ``lxc/lxc-default-cgns`` and ``libvirt/TEMPLATE.qemu`` are fetched with
``apt-get download`` (liblxc-common, libvirt-daemon-system); rows that need what is
missing are skipped with the reason.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lsmsim

from .conftest import CORPUS, INCLUDE, MODELS

FEATURES = CORPUS / "apparmor" / "parser-tests-3.0.8" / "features_files" / "features.all"
PARENT = MODELS / "svirt" / "libvirt-qemu.aa"


def _seconds(argv: list[str], env: dict | None = None) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env, timeout=900)
    return time.perf_counter() - start, proc.returncode


def _compiler_argv(files: list[Path], include: list[Path]) -> list[list[str]] | None:
    parser = shutil.which("apparmor_parser") or "/usr/sbin/apparmor_parser"
    if not Path(parser).exists() or not FEATURES.exists():
        return None
    return [[parser, "-Q", "-K", "-S", "-M", str(FEATURES), "--config-file=/dev/null",
             *(f"-I{i}" for i in include), str(file)] for file in files]


def _compiled(argvs: list[list[str]]) -> float | None:
    """Seconds the compiler takes over every file (None: it failed on one)."""
    runs = [_seconds(argv) for argv in argvs]
    if any(code != 0 for _, code in runs):
        return None
    return sum(seconds for seconds, _ in runs)


def _compiler(files: list[Path], include: list[Path], repeat: int) -> float | None:
    argvs = _compiler_argv(files, include)
    if argvs is None:
        return None
    times = [_compiled(argvs) for _ in range(repeat)]
    return None if None in times else statistics.median(times)


def _rounds(child: Path, parent: Path, include: list[Path], repeat: int
            ) -> tuple[dict[str, float], dict[str, float] | None, int]:
    """Median seconds of lsmsim cold, proof and warm, and median ratios to the
    compiler. Each round runs the compiler beside the three, so that the ratio of a
    round compares runs made under the same load (these machines are noisy)."""
    cache = Path(tempfile.mkdtemp(prefix="lsmsim-bench-cache-"))
    env = {**os.environ, "LSMSIM_CACHE_DIR": str(cache)}
    argv = [sys.executable, "-m", "lsmsim", "check", "--child", str(child), "--parent",
            str(parent), *(a for i in include for a in ("-I", str(i))), "--format", "json"]
    # What no check can do without: start Python, import lsmsim, read both policies.
    load = [sys.executable, "-c", "import sys, lsmsim; include = sys.argv[3:]; "
            "lsmsim.load(sys.argv[1], include); lsmsim.load(sys.argv[2], include)",
            str(child), str(parent), *map(str, include)]
    files = dict.fromkeys(f for policy in (child, parent)
                          for f in (str(policy), *lsmsim.load(policy, include).files_read))
    parse = [sys.executable, "-c", "import sys; from lsmsim.grammars import lark_parser; "
             "parser = lark_parser('apparmor.lark'); "
             "[parser.parse(open(f, encoding='utf-8').read()) for f in sys.argv[1:]]", *files]
    compiler = _compiler_argv([child, parent], include)
    measured = ("cold", "proof", "warm", "load", "parse")
    seconds: dict[str, list[float]] = {name: [] for name in (*measured, "compiler")}
    ratios: dict[str, list[float]] = {name: [] for name in measured}
    code = 0
    for _ in range(repeat):
        shutil.rmtree(cache, ignore_errors=True)
        cold, code = _seconds(argv, env)
        shutil.rmtree(cache / "results", ignore_errors=True)
        proof, _ = _seconds(argv, env)
        warm, _ = _seconds(argv, env)
        loaded, _ = _seconds(load, env)
        parsed, _ = _seconds(parse, env)
        round_seconds = dict(zip(measured, (cold, proof, warm, loaded, parsed)))
        for name, value in round_seconds.items():
            seconds[name].append(value)
        if compiler is not None:
            spent = _compiled(compiler)
            if spent is None:
                compiler = None
                continue
            seconds["compiler"].append(spent)
            for name, value in round_seconds.items():
                ratios[name].append(value / spent)
    shutil.rmtree(cache, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in seconds.items() if values}
    ratio = {name: statistics.median(values) for name, values in ratios.items()} \
        if compiler is not None else None
    return medians, ratio, code


def _debian(work: Path) -> tuple[Path, Path, Path] | str:
    """(lxc-default-cgns, TEMPLATE.qemu, include root) unpacked from Debian's packages."""
    debs = work / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    got = subprocess.run(["apt-get", "download", "-q", "liblxc-common", "libvirt-daemon-system"],
                         cwd=debs, capture_output=True, text=True)
    if got.returncode != 0:
        return f"apt-get download failed: {got.stderr.strip().splitlines()[-1:]}"
    root = work / "root"
    for deb in debs.glob("*.deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    etc = root / "etc" / "apparmor.d"
    # The system's own tunables and abstractions (package apparmor) complete the tree.
    for name in ("tunables", "abstractions"):
        if Path("/etc/apparmor.d", name).is_dir():
            shutil.copytree(Path("/etc/apparmor.d", name), etc / name, dirs_exist_ok=True)
    # The postinsts create the site-local files the profiles include.
    for file in etc.rglob("*"):
        if file.is_file():
            for local in re.findall(r"include\s+(?:if\s+exists\s+)?<(local/[^>]+)>",
                                    file.read_text(errors="replace")):
                (etc / local).parent.mkdir(parents=True, exist_ok=True)
                (etc / local).touch()
    child, parent = etc / "lxc" / "lxc-default-cgns", etc / "libvirt" / "TEMPLATE.qemu"
    if not child.exists() or not parent.exists():
        return "the packages do not ship lxc-default-cgns or TEMPLATE.qemu"
    # lxc-default-cgns is sourced by lxc-containers after tunables/global; the
    # template includes the tunables itself.
    wrapped = work / "lxc-default-cgns.aa"
    wrapped.write_text(f"include <tunables/global>\n{child.read_text()}")
    return wrapped, parent, etc


def table(repeat: int) -> None:
    columns = ("cold", "proof", "warm", "load", "parse")
    print(f"{'child within parent':52} {'verdict':10} "
          + " ".join(f"{name:>7}" for name in columns) + f" {'compiler':>8} "
          + " ".join(f"{name + ' x':>7}" for name in columns))
    rows = [(MODELS / "containers" / f"{name}.aa", PARENT, [INCLUDE])
            for name in ("vm-agent-within", "vm-agent-expands", "docker-default", "lxc-default")]
    with tempfile.TemporaryDirectory() as tmp:
        debian = _debian(Path(tmp))
        if isinstance(debian, str):
            print(f"(Debian's lxc-default-cgns within TEMPLATE.qemu skipped: {debian})")
        else:
            rows.append((debian[0], debian[1], [debian[2]]))
        for child, parent, include in rows:
            seconds, ratio, code = _rounds(child, parent, include, repeat)
            verdict = {0: "contained", 1: "expansions", 3: "undecided"}.get(code, f"exit {code}")
            name = f"{child.name} / {parent.name}"
            ratios = " ".join(f"{ratio[c]:7.1f}" if ratio else f"{'-':>7}" for c in columns)
            print(f"{name:52} {verdict:10} "
                  + " ".join(f"{seconds[c]:7.2f}" for c in columns)
                  + f" {seconds.get('compiler', float('nan')):8.2f} {ratios}")


def _synthetic(rules: int, seed: int = 7) -> str:
    """A parent of ``rules`` file rules over a spread of paths, globs among them."""
    lines = []
    for i in range(rules):
        a, b = i % 97, (i * 31) % 89
        kind = i % 5
        if kind == 0:
            lines.append(f"  /srv/d{a}/f{b}_{i} r,")
        elif kind == 1:
            lines.append(f"  /srv/d{a}/** rk,")
        elif kind == 2:
            lines.append(f"  /var/lib/app{b}/*.db{i % 7} rw,")
        elif kind == 3:
            lines.append(f"  owner /home/*/.cfg{a}/{{x,y}}{i} r,")
        else:
            lines.append(f"  /usr/lib/p{b}/lib{i}.so mr,")
    return "profile parent {\n" + "\n".join(lines) + "\n}\n"


CHILD_20 = "profile child {\n" + "\n".join(
    [f"  /srv/d{i}/** r," for i in range(10)]
    + [f"  /var/lib/app{i}/x.db{i % 7} rw," for i in range(5)]
    + ["  /tmp/** rw,", "  owner /home/*/.cfg1/x1 r,", "  /usr/lib/p3/** m,",
       "  /etc/hosts r,", "  /srv/** k,"]) + "\n}\n"


def scaling(sizes: list[int], repeat: int) -> None:
    print("\nscaling: a child of 20 rules within synthetic parents")
    print(f"{'parent rules':>12} {'check s':>9} {'states':>9} {'compiler s':>10} {'verdict':>10}")
    points = []
    with tempfile.TemporaryDirectory() as tmp:
        child_file = Path(tmp) / "child.aa"
        child_file.write_text(CHILD_20)
        child = lsmsim.load(child_file)
        for size in sizes:
            parent_file = Path(tmp) / f"parent{size}.aa"
            parent_file.write_text(_synthetic(size))
            parent = lsmsim.load(parent_file)
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                result = lsmsim.check(child, parent)
                times.append(time.perf_counter() - start)
            seconds = statistics.median(times)
            compiler = _compiler([parent_file], [], 1)
            points.append((size, seconds))
            print(f"{size:12,} {seconds:9.3f} {result.product_states:9,} "
                  f"{compiler if compiler else float('nan'):10.3f} {result.verdict.value:>10}")
    big = [(math.log(n), math.log(s)) for n, s in points if n >= 100]
    if len(big) >= 2:
        mean_x = sum(x for x, _ in big) / len(big)
        mean_y = sum(y for _, y in big) / len(big)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in big) / \
            sum((x - mean_x) ** 2 for x, _ in big)
        print(f"fitted exponent (100 rules and up): {slope:.2f}")


def hard_cases() -> None:
    print("\ncases that used to run out of time")
    with tempfile.TemporaryDirectory() as tmp:
        disks = Path(tmp) / "disks.aa"
        disks.write_text("profile parent {\n" + "\n".join(
            f'  "/var/lib/libvirt/images/guest{i:04d}-disk{j}.qcow2" rwk,'
            for i in range(150) for j in range(4)) + "\n}\n")
        child = Path(tmp) / "glob.aa"
        child.write_text("profile child {\n  /var/lib/libvirt/images/guest*-disk[0-3].qcow2 rw,\n}\n")
        start = time.perf_counter()
        result = lsmsim.check(lsmsim.load(child), lsmsim.load(disks))
        print(f"  600 literal disk paths, one child glob: {result.verdict.value}, "
              f"{time.perf_counter() - start:.2f} s")
        java = Path("/etc/apparmor.d/abstractions/ubuntu-browsers.d/java")
        if not java.exists():
            print("  ubuntu-browsers.d/java: skipped (package apparmor-profiles not installed)")
            return
        wrapped = Path(tmp) / "java.aa"
        wrapped.write_text("include <tunables/global>\nprofile java-host {\n"
                           "  include <abstractions/ubuntu-browsers.d/java>\n}\n")
        permissive = Path(tmp) / "permissive.aa"
        permissive.write_text("profile permissive {\n  file,\n  capability,\n  network,\n"
                              "  signal,\n  ptrace,\n  dbus,\n  unix,\n  mount,\n}\n")
        start = time.perf_counter()
        policy = lsmsim.load(wrapped, include=["/etc/apparmor.d"])
        result = lsmsim.check(policy, lsmsim.load(permissive))
        print(f"  ubuntu-browsers.d/java within a permissive parent: {result.verdict.value}, "
              f"{len(result.pairs)} profile pairs, {time.perf_counter() - start:.2f} s")


def _compile_package() -> None:
    """Write lsmsim's bytecode first, as pip does on install: a checkout run with
    PYTHONDONTWRITEBYTECODE would otherwise compile every module in every run."""
    import compileall
    compileall.compile_dir(str(Path(lsmsim.__file__).parent), quiet=1)


def main() -> None:
    _compile_package()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="10,100,1000,5000,10000")
    parser.add_argument("--skip-table", action="store_true")
    args = parser.parse_args()
    if not args.skip_table:
        table(args.repeat)
    scaling([int(n) for n in args.sizes.split(",")], args.repeat)
    hard_cases()


if __name__ == "__main__":
    main()
