"""Every AppArmor profile, abstraction and tunable Debian ships loads.

The packages are fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x``
into one merged root, as dpkg would install them side by side.  Their postinsts
create an empty ``/etc/apparmor.d/local/<name>`` for every profile that includes one
unconditionally; the fixture does the same.  Skipped, with the reason, where apt or
the package archive cannot be reached.

Profiles load as they are, with ``<root>/etc/apparmor.d`` as the include root.
Abstractions, tunables and hat fragments are not complete policy on their own, so
each is loaded through a small wrapper file that includes it where a profile would.
Every wrapper shape used here is accepted by apparmor_parser 3.0.8 for every file
of Debian 12's packages.

The test reports one line per file that does not load, the failures grouped by
message, how many files of each package loaded and how long loading took; it
asserts that nothing failed.
"""
from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tarfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

import lsmsim
from lsmsim.errors import LsmsimError

PACKAGES = ("apparmor", "apparmor-profiles", "apparmor-profiles-extra",
            "libvirt-daemon-system", "liblxc-common")
POLICY_DIR = Path("etc/apparmor.d")
# Profiles apparmor-profiles ships inactive, for an administrator to copy into
# /etc/apparmor.d.  They are profiles Debian ships all the same, so they must load.
EXTRA_DIR = Path("usr/share/apparmor/extra-profiles")

# What is under /etc/apparmor.d but is no policy to load on its own:
SKIPPED_DIRS = {
    # Feature ABI descriptions, read by "abi <abi/3.0>," rules: kernel feature
    # sets in the securityfs format, not policy language.
    "abi": "feature ABI description, not policy",
    # Compiled-policy cache (created by apparmor_parser at run time, never shipped).
    "cache": "compiled-policy cache",
    # Symlinks to profiles that are disabled or forced into complain mode; the
    # profiles themselves are loaded from where the links point.
    "disable": "links to profiles loaded elsewhere",
    "force-complain": "links to profiles loaded elsewhere",
    # Site-local additions: empty in a fresh install (the fixture creates them);
    # each is loaded as part of the profile that includes it.
    "local": "site-local additions, loaded through the profiles that include them",
}
# Documentation files anywhere in the tree.
SKIPPED_NAMES = re.compile(r"(^README.*|.*\.md)$")

_LOCAL_INCLUDE = re.compile(r"^\s*#?include\s+(if\s+exists\s+)?[<\"](local/[^>\"]+)[>\"]",
                            re.MULTILINE)


@dataclass(frozen=True)
class Tree:
    """The merged install root, and which package shipped each of its files."""

    root: Path
    owner: dict[str, str]          # "etc/apparmor.d/bin.ping" -> "apparmor-profiles"
    versions: dict[str, str]       # package -> version
    created_local: tuple[str, ...]  # local/ files the fixture created, as the postinsts do

    @property
    def policy(self) -> Path:
        return self.root / POLICY_DIR


@dataclass(frozen=True)
class Case:
    """One shipped file and how to load it: directly, or through a wrapper text."""

    rel: str                # path relative to the install root
    kind: str               # profile, abstraction, hat, tunable
    wrapper: str | None     # policy text that includes the file, or None to load it as is


def _run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300)


def _apt_skip(what: str, result: subprocess.CompletedProcess) -> None:
    tail = " | ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
    hint = " (the package lists may be empty: run apt-get update)" \
        if "Unable to locate" in tail or "No packages found" in tail else ""
    pytest.skip(f"{what} failed{hint}: {tail}")


def _candidate_versions() -> dict[str, str]:
    """The versions apt would download, read from the local package lists (no network)."""
    result = _run(["apt-cache", "show", "--no-all-versions", *PACKAGES])
    if result.returncode != 0:
        _apt_skip("apt-cache show " + " ".join(PACKAGES), result)
    versions: dict[str, str] = {}
    for stanza in result.stdout.split("\n\n"):
        fields = dict(re.findall(r"^(Package|Version): (.+)$", stanza, re.MULTILINE))
        if "Package" in fields:
            versions.setdefault(fields["Package"], fields["Version"])
    missing = [p for p in PACKAGES if p not in versions]
    if missing:
        pytest.skip(f"apt knows no package {', '.join(missing)} (run apt-get update)")
    return versions


def _build_tree(root: Path, work: Path) -> dict[str, str]:
    """Download and unpack every package into ``root``; return file -> package."""
    downloads = work / "debs"
    downloads.mkdir()
    result = _run(["apt-get", "download", "-q", *PACKAGES], cwd=downloads)
    if result.returncode != 0:
        _apt_skip("apt-get download " + " ".join(PACKAGES), result)
    owner: dict[str, str] = {}
    for deb in sorted(downloads.glob("*.deb")):
        package = _run(["dpkg-deb", "-f", str(deb), "Package"]).stdout.strip()
        unpacked = _run(["dpkg-deb", "-x", str(deb), str(root)])
        assert unpacked.returncode == 0, f"dpkg-deb -x {deb.name}: {unpacked.stderr}"
        listing = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)],
                                 capture_output=True, check=True, timeout=300).stdout
        with tarfile.open(fileobj=io.BytesIO(listing)) as tar:
            for member in tar.getmembers():
                if member.isfile():
                    owner[member.name.removeprefix("./")] = package
    return owner


def _create_local_files(root: Path) -> tuple[str, ...]:
    """Create the empty local/<name> files that some profile includes without
    ``if exists`` (the postinsts create them; an absent one is a parse error)."""
    created = []
    for directory in (root / POLICY_DIR, root / EXTRA_DIR):
        if not directory.is_dir():
            continue
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            text = path.read_text(encoding="utf-8", errors="replace")
            for if_exists, name in _LOCAL_INCLUDE.findall(text):
                target = root / POLICY_DIR / name
                if if_exists or target.exists():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.touch()
                created.append(name)
    return tuple(created)


@pytest.fixture(scope="session")
def debian_tree(request, tmp_path_factory) -> Tree:
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        pytest.skip("apt-get and dpkg-deb are needed to fetch Debian's packages")
    versions = _candidate_versions()
    key = hashlib.sha256(repr(sorted(versions.items())).encode()).hexdigest()[:16]
    # Kept across runs in pytest's cache directory when it is enabled, so a rerun
    # with the same package versions downloads nothing; else once per session.
    cache = getattr(request.config, "cache", None)
    base = cache.mkdir("debian-apparmor-packages") if cache is not None \
        else tmp_path_factory.mktemp("debian-apparmor-packages")
    tree_dir = base / key
    manifest = tree_dir / "owners.txt"
    if not manifest.is_file():
        if tree_dir.exists():
            shutil.rmtree(tree_dir)           # an earlier run stopped half way
        work = tmp_path_factory.mktemp("debian-download")
        (tree_dir / "root").mkdir(parents=True)
        owner = _build_tree(tree_dir / "root", work)
        created = _create_local_files(tree_dir / "root")
        (tree_dir / "versions.txt").write_text(
            "".join(f"{p} {v}\n" for p, v in sorted(versions.items())))
        (tree_dir / "created-local.txt").write_text("".join(f"{n}\n" for n in created))
        manifest.write_text("".join(f"{f}\t{p}\n" for f, p in sorted(owner.items())))
    owner = dict(line.split("\t") for line in manifest.read_text().splitlines())
    created = tuple((tree_dir / "created-local.txt").read_text().split())
    return Tree(tree_dir / "root", owner, versions, created)


def _profile_body_wrapper(include: str) -> str:
    return f"include <tunables/global>\nprofile wrapper {{\n  include <{include}>\n}}\n"


def policy_cases(tree: Tree) -> list[Case]:
    """Every policy file under etc/apparmor.d, with how to load it."""
    cases = []
    for path in sorted(p for p in tree.policy.rglob("*") if p.is_file()):
        rel_in_policy = path.relative_to(tree.policy)
        top = rel_in_policy.parts[0] if len(rel_in_policy.parts) > 1 else ""
        if top in SKIPPED_DIRS or SKIPPED_NAMES.match(path.name):
            continue
        rel = str(path.relative_to(tree.root))
        name = rel_in_policy.as_posix()
        if top == "abstractions":
            # Rules without a profile around them: included in a profile's body.
            cases.append(Case(rel, "abstraction", _profile_body_wrapper(name)))
        elif top == "apache2.d":
            # Hats ("^name { ... }") that the apache2 profile includes in its body.
            cases.append(Case(rel, "hat", _profile_body_wrapper(name)))
        elif top == "tunables":
            # Variable definitions, included at the top of a policy file.
            cases.append(Case(rel, "tunable", f"include <{name}>\nprofile wrapper {{ }}\n"))
        elif top == "lxc":
            # Profiles that say "Do not load this file": lxc-containers includes the
            # directory after <tunables/global>, whose variables they use (@{PROC}).
            # apparmor_parser rejects them alone, so load them the way lxc-containers does.
            cases.append(Case(rel, "profile", f"include <tunables/global>\ninclude <{name}>\n"))
        else:
            # Top-level files, libvirt/TEMPLATE.* and anything new: complete profiles.
            cases.append(Case(rel, "profile", None))
    return cases


def extra_cases(tree: Tree) -> list[Case]:
    """The inactive profiles apparmor-profiles ships under /usr/share."""
    directory = tree.root / EXTRA_DIR
    return [Case(str(p.relative_to(tree.root)), "profile", None)
            for p in sorted(directory.iterdir())
            if p.is_file() and not SKIPPED_NAMES.match(p.name)]


def _load_all(tree: Tree, cases: list[Case], wrappers: Path) -> tuple[list, list, float]:
    """Load every case; return (loaded cases, (case, message) failures, seconds)."""
    include = [tree.policy]
    loaded, failed = [], []
    start = time.perf_counter()
    for number, case in enumerate(cases):
        if case.wrapper is None:
            path = tree.root / case.rel
        else:
            # Outside the tree, so no directory include can pick the wrappers up; the
            # main file's own directory is readable to lsmsim besides the include roots.
            path = wrappers / f"{number:04d}-{Path(case.rel).name}"
            path.write_text(case.wrapper)
        try:
            lsmsim.load(path, include=include, lsm="apparmor")
        except LsmsimError as error:
            failed.append((case, str(error).replace(f"{tree.root}/", "")))
        except Exception as error:  # a crash is a failure to report, not to stop on
            failed.append((case, f"{path.name}: crash: {type(error).__name__}: {error}"))
        else:
            loaded.append(case)
    return loaded, failed, time.perf_counter() - start


_POSITION = re.compile(r"^\S+?:\d+:\d+: ")


def _report(title: str, tree: Tree, cases, loaded, failed, seconds) -> str:
    lines = [f"{title}: {len(loaded)} of {len(cases)} files loaded in {seconds:.2f} s"]
    per_package = Counter(tree.owner.get(c.rel, "?") for c in cases)
    ok_package = Counter(tree.owner.get(c.rel, "?") for c in loaded)
    for package in sorted(per_package):
        lines.append(f"  {package} {tree.versions.get(package, '')}: "
                     f"{ok_package[package]} of {per_package[package]} loaded")
    if failed:
        lines.append(f"{len(failed)} failed:")
        for case, message in failed:
            lines.append(f"  FAIL {case.rel} [{case.kind}]: {message}")
        groups = defaultdict(list)
        for case, message in failed:
            groups[_POSITION.sub("", message)].append(case.rel)
        lines.append("failures by message:")
        for message, files in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])):
            lines.append(f"  {len(files)} x {message}")
            lines.extend(f"      {f}" for f in files)
    return "\n".join(lines)


def test_every_debian_profile_abstraction_and_tunable_loads(debian_tree, tmp_path):
    cases = policy_cases(debian_tree)
    kinds = Counter(c.kind for c in cases)
    assert kinds["profile"] and kinds["abstraction"] and kinds["tunable"], kinds
    loaded, failed, seconds = _load_all(debian_tree, cases, tmp_path)
    report = _report("etc/apparmor.d", debian_tree, cases, loaded, failed, seconds)
    if debian_tree.created_local:
        report += "\ncreated empty: " + " ".join(debian_tree.created_local)
    print("\n" + report)
    assert not failed, report


def test_every_extra_profile_loads(debian_tree, tmp_path):
    cases = extra_cases(debian_tree)
    assert cases, f"no profiles under {EXTRA_DIR}"
    loaded, failed, seconds = _load_all(debian_tree, cases, tmp_path)
    report = _report(str(EXTRA_DIR), debian_tree, cases, loaded, failed, seconds)
    print("\n" + report)
    assert not failed, report
