"""Shared fixtures: where the repository, the shipped models and the corpus are."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
INCLUDE = MODELS / "apparmor.d"
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS} (it sits beside the clone in CI)")
    return CORPUS


@pytest.fixture(autouse=True, scope="session")
def _cache_folder_of_the_run(tmp_path_factory):
    """What the checks of a test run cache goes to a folder of the run's own, never
    the user's cache, and no run finds another's entries."""
    before = os.environ.get("LSMSIM_CACHE_DIR")
    os.environ["LSMSIM_CACHE_DIR"] = str(tmp_path_factory.mktemp("lsmsim-cache"))
    yield
    if before is None:
        os.environ.pop("LSMSIM_CACHE_DIR", None)
    else:
        os.environ["LSMSIM_CACHE_DIR"] = before
