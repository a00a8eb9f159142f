"""The ordinary install: a wheel built from the repository, installed into a fresh
virtual environment outside the checkout, runs the README's main command with the
same result as the editable install."""
from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import lsmsim

ROOT = Path(__file__).resolve().parents[1]
# What a source distribution holds: the build needs nothing else.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "lsmsim", "grammars")
MAIN_COMMAND = ["check", "--child", "models/containers/vm-agent-expands.aa",
                "--parent", "models/svirt/libvirt-qemu.aa", "-I", "models/apparmor.d"]


def _run(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the sources, so the build writes nothing into the
    checkout."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                  str(source)], cwd=out)
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("lsmsim-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The ``bin`` folder of a fresh virtual environment holding only the wheel and
    its dependencies."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=True)
    done = _run([str(home / "bin" / "python"), "-m", "pip", "install", "-q",
                 "--disable-pip-version-check", str(wheel)], cwd=home)
    if done.returncode != 0 and "No matching distribution" in done.stderr:
        pytest.skip(f"the dependencies cannot be installed here: {done.stderr.strip()[-200:]}")
    assert done.returncode == 0, done.stderr
    return home / "bin"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder outside the checkout holding the shipped models, so the README's
    command runs with its relative paths."""
    work = tmp_path_factory.mktemp("work")
    shutil.copytree(ROOT / "models", work / "models")
    return work


def test_wheel_ships_the_grammars_of_the_repository(wheel):
    """Each grammar in grammars/ is in the wheel, byte for byte."""
    with zipfile.ZipFile(wheel) as archive:
        for grammar in (ROOT / "grammars").glob("*.lark"):
            assert archive.read(f"lsmsim/_grammars/{grammar.name}") == grammar.read_bytes()


def test_wheel_declares_the_extras(wheel):
    """notebooks brings what both notebooks import; fleet brings dask.distributed."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(name))
    assert metadata["Version"] == lsmsim.__version__
    assert {"notebooks", "fleet", "test"} <= set(metadata.get_all("Provides-Extra"))
    requires = metadata.get_all("Requires-Dist")
    for package in ("matplotlib", "pandas", "ipykernel"):
        assert any(r.startswith(package) and 'extra == "notebooks"' in r for r in requires)
    assert any(r.startswith("dask") and 'extra == "fleet"' in r for r in requires)


def test_installed_wheel_runs_the_main_command_as_the_editable_install(installed, workdir):
    """Same exit code and the same report, apart from the timing line."""
    from_wheel = _run([str(installed / "lsmsim"), *MAIN_COMMAND], cwd=workdir)
    editable = _run([sys.executable, "-m", "lsmsim.cli", *MAIN_COMMAND], cwd=workdir)
    assert "internal error" not in from_wheel.stderr, from_wheel.stderr
    assert from_wheel.returncode == editable.returncode == 1
    assert from_wheel.stdout.splitlines()[:-1] == editable.stdout.splitlines()[:-1]
    assert "8 denial(s)" in from_wheel.stdout.splitlines()[0]


def test_installed_wheel_imports_from_the_virtual_environment(installed, workdir):
    """The package, its grammars and --version come from site-packages, not the
    checkout."""
    probe = _run([str(installed / "python"), "-c",
                  "import lsmsim, lsmsim.grammars as g; print(lsmsim.__file__); "
                  "print(g.grammar_file('cil.lark'))"], cwd=workdir)
    assert probe.returncode == 0, probe.stderr
    for line in probe.stdout.splitlines():
        assert "site-packages" in line and not line.startswith(str(ROOT))
    version = _run([str(installed / "lsmsim"), "--version"], cwd=workdir)
    assert version.stdout.strip() == f"lsmsim {lsmsim.__version__}"
