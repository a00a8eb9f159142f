"""Fetch Debian's reference SELinux policy and convert it to CIL.

Debian's ``selinux-policy-default`` ships its modules as ``.pp`` files. The package
is downloaded (``apt-get download``, never installed: its maintainer scripts would
relabel the machine), unpacked with ``dpkg-deb -x``, and every module and the base
are converted to CIL with ``/usr/libexec/selinux/hll/pp`` (Debian package
policycoreutils). The result is one ``.cil`` file per module, which ``secilc`` and
``lsmsim`` both read as one policy.

Run: ``python3 scripts/fetch_debian_selinux.py [DIR]`` (default
``models/selinux/debian-default``; the policy lands in ``DIR/cil``).
"""
from __future__ import annotations

import bz2
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = "selinux-policy-default"
PP_TO_CIL = Path("/usr/libexec/selinux/hll/pp")
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "models" / "selinux" / "debian-default"


class Unavailable(Exception):
    """The policy cannot be fetched or converted here (the reason says why)."""


def debian_policy_cil(workdir: Path = DEFAULT_DIR) -> Path:
    """A directory holding Debian's default policy as one ``.cil`` file per module
    (fetched and converted on first use, then reused)."""
    workdir = Path(workdir)
    out = workdir / "cil"
    if (out / ".complete").exists():
        return out
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
    out.mkdir(exist_ok=True)
    for module in modules:
        target = out / f"{module.name.split('.pp')[0]}.cil"
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
    # Written last: a directory without it was interrupted and is converted again.
    (out / ".complete").write_text(f"{debs[-1].name}\n")
    return out


def main(argv: list[str]) -> int:
    try:
        out = debian_policy_cil(Path(argv[0]) if argv else DEFAULT_DIR)
    except Unavailable as error:
        print(f"fetch_debian_selinux: {error}", file=sys.stderr)
        return 2
    print(f"{out} ({len(list(out.glob('*.cil')))} modules)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
