"""Throughput of many checks per run.

    python -m tests.bench_fleet [--pairs 1000] [--workers 2] [--scheduler ADDRESS]
    python -m tests.bench_fleet --folder /etc/apparmor.d --parent P -I DIR... [--workers 2]

The first form generates ``--pairs`` child profiles (seeded; a few rules each, drawn from
a pool of file, capability and network rules) against one parent, runs them with
``lsmsim fleet`` on the local process pool and on Dask (a 2-worker LocalCluster, or the
cluster at ``--scheduler``), prints pairs per second for each, and checks that both give
the same records. The second form checks every profile of a folder within one parent,
once with ``-j N`` worker processes and once as one ``lsmsim check`` process per profile,
prints both wall-clock times and checks that the findings agree.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsmsim.batch import child_files
from lsmsim.fleet import run_fleet

PARENT = """profile parent {
  /usr/bin/** rix,
  /usr/lib/** rm,
  /etc/** r,
  deny /etc/shadow r,
  /var/lib/app/** rw,
  /tmp/** rwk,
  owner /home/*/** rw,
  /proc/*/status r,
  capability chown,
  capability setuid,
  capability setgid,
  network inet stream,
  network inet6 stream,
  network unix,
}
"""
RULES = ["/usr/bin/env rix,", "/usr/bin/* rix,", "/usr/lib/** rm,", "/etc/hosts r,",
         "/etc/** r,", "/etc/shadow r,", "/var/lib/app/** rw,", "/var/lib/** rw,",
         "/tmp/** rw,", "/tmp/** rwl,", "owner /home/*/** rw,", "/home/** rw,",
         "/proc/*/status r,", "/proc/** r,", "capability chown,", "capability sys_admin,",
         "capability setuid,", "capability net_admin,", "network inet stream,",
         "network inet dgram,", "network unix,", "/usr/sbin/** ux,", "/srv/** r,"]


def generate(folder: Path, count: int, seed: int = 11) -> Path:
    """``count`` child profiles and the pairs file that names them."""
    rng = random.Random(seed)
    (folder / "parent.aa").write_text(PARENT)
    lines = []
    for index in range(count):
        rules = rng.sample(RULES, rng.randint(2, 8))
        body = "".join(f"  {rule}\n" for rule in rules)
        (folder / f"child{index:04d}.aa").write_text(f"profile child{index:04d} {{\n{body}}}\n")
        lines.append(json.dumps({"id": f"c{index:04d}", "child": f"child{index:04d}.aa",
                                 "parent": "parent.aa"}))
    pairs = folder / "pairs.jsonl"
    pairs.write_text("\n".join(lines) + "\n")
    return pairs


def _records(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        out[record["id"]] = (record["verdict"], sorted(d["fingerprint"] for p in record["pairs"]
                                                       for d in p.get("denials", [])))
    return out


def fleet(count: int, workers: int, scheduler: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pairs = generate(Path(tmp), count)
        local = run_fleet(pairs, Path(tmp) / "local.jsonl", "local", workers)
        print(f"local pool, {workers} workers: {local.ran} pairs in {local.seconds:.1f} s, "
              f"{local.pairs_per_second:.1f} pairs/s ({local.verdicts})")
        where = scheduler or f"LocalCluster of {workers} workers"
        dask = run_fleet(pairs, Path(tmp) / "dask.jsonl", "dask", workers, scheduler)
        print(f"dask, {where}: {dask.ran} pairs in {dask.seconds:.1f} s "
              f"(cluster start included), {dask.pairs_per_second:.1f} pairs/s")
        same = _records(Path(tmp) / "local.jsonl") == _records(Path(tmp) / "dask.jsonl")
        print(f"same records on both: {same}")
        if not same:
            sys.exit(1)


def _findings(document: dict) -> list:
    return sorted((Path(p["child_file"]).name, p.get("child", {}).get("profile"), p["verdict"],
                   tuple(sorted(d["fingerprint"] for d in p.get("denials", []))))
                  for p in document["pairs"])


def folder_run(folder: str, parent: str, include: list[str], workers: int) -> None:
    roots = [arg for root in include for arg in ("-I", root)]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "lsmsim.cli", "check", "--child", folder,
                        "--parent", parent, *roots, "-j", str(workers), "--format", "json",
                        "--output", f"{tmp}/batch.json"], check=False)
        batch = time.perf_counter() - start
        together = json.loads(Path(f"{tmp}/batch.json").read_text())
        start = time.perf_counter()
        pairs = []
        for index, child in enumerate(child_files([folder])):
            # A folder holding only this file: the same report shape, one process.
            alone = Path(tmp) / f"one{index}"
            alone.mkdir()
            (alone / Path(child).name).symlink_to(Path(child).resolve())
            out = f"{tmp}/one{index}.json"
            subprocess.run([sys.executable, "-m", "lsmsim.cli", "check", "--child", str(alone),
                            "--parent", parent, *roots, "-j", "1", "--format", "json",
                            "--output", out], check=False)
            pairs += json.loads(Path(out).read_text())["pairs"]
        single = time.perf_counter() - start
    files = len(child_files([folder]))
    print(f"{files} files, {len(together['pairs'])} profile pairs within {parent}")
    print(f"one run, -j {workers}: {batch:.1f} s; one process per file: {single:.1f} s; "
          f"ratio {single / batch:.2f}x")
    same = _findings(together) == _findings({"pairs": pairs})
    print(f"same findings: {same}")
    if not same:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scheduler")
    parser.add_argument("--folder")
    parser.add_argument("--parent")
    parser.add_argument("-I", dest="include", action="append", default=[])
    args = parser.parse_args()
    if args.folder:
        folder_run(args.folder, args.parent, args.include, args.workers)
    else:
        fleet(args.pairs, args.workers, args.scheduler)


if __name__ == "__main__":
    main()
