"""Small helpers shared by the tests."""
from __future__ import annotations

import tempfile
from pathlib import Path

import lsmsim


def load_text(text: str, include=(), name: str = "policy.aa") -> lsmsim.api.Policy:
    """Load AppArmor policy text through the real front end (via a temporary file)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text)
        return lsmsim.load(path, include=include)
