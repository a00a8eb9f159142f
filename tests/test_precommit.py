"""The pre-commit hook, run with ``pre-commit try-repo`` on a scratch repository: a
contained change passes, an expanding change fails with the finding."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lsmsim.batch.precommit import changed_children

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "lsmsim", "grammars",
           ".pre-commit-hooks.yaml")
PARENT = """profile parent {
  /srv/app/** r,
  /tmp/** rw,
  capability chown,
}
"""
CHILD = "profile child {{\n  /srv/app/data r,\n  {extra}\n}}\n"
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}


def _run(args, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def _git_repo(folder: Path, env: dict) -> None:
    for args in (["git", "init", "-q"], ["git", "add", "-A"],
                 ["git", "commit", "-q", "-m", "initial"]):
        done = _run(args, folder, env)
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    """A hook repository made from the working tree, whose hook names the parent in
    its args as a user's configuration would; and a policy repository."""
    pytest.importorskip("pre_commit", reason="pre-commit is in the test extra")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = {**{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
           **GIT_ENV, "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home"))}
    hooks = tmp_path_factory.mktemp("hook-repo")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, hooks / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(ROOT / name, hooks / name)
    manifest = hooks / ".pre-commit-hooks.yaml"
    manifest.write_text(manifest.read_text() +
                        "  args: [--parent, parent.aa, -I, abstractions]\n")
    _git_repo(hooks, env)
    policies = tmp_path_factory.mktemp("policies")
    (policies / "parent.aa").write_text(PARENT)
    (policies / "abstractions").mkdir()
    (policies / "abstractions" / "base").write_text("/etc/** r,\n")
    (policies / "child.aa").write_text(CHILD.format(extra="/tmp/x rw,"))
    _git_repo(policies, env)
    return hooks, policies, env


def _try_repo(setting, *files: str) -> subprocess.CompletedProcess:
    hooks, policies, env = setting
    return _run([sys.executable, "-m", "pre_commit", "try-repo", str(hooks), "lsmsim-check",
                 "--verbose", "--files", *files], policies, env)


def test_contained_change_passes(setting):
    _, policies, _ = setting
    (policies / "child.aa").write_text(CHILD.format(extra="/tmp/y rw,"))
    done = _try_repo(setting, "child.aa", "parent.aa", "abstractions/base")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "contained: child (child.aa) is proven within parent (parent.aa)" in done.stdout


def test_expanding_change_fails_with_the_finding(setting):
    _, policies, _ = setting
    (policies / "child.aa").write_text(CHILD.format(extra="capability sys_admin,"))
    done = _try_repo(setting, "child.aa")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "child.aa:3:3: capability sys_admin," in done.stdout
    assert "Failed" in done.stdout


def test_changed_children_leave_out_parent_includes_and_leftovers(tmp_path):
    (tmp_path / "inc").mkdir()
    files = [str(tmp_path / name) for name in ("parent.aa", "inc/base", "a.aa", "a.aa~",
                                               "b.dpkg-old", "c")]
    assert changed_children(files, str(tmp_path / "parent.aa"), [str(tmp_path / "inc")]) == \
        [str(tmp_path / "a.aa"), str(tmp_path / "c")]
