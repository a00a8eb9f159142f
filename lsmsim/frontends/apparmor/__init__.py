"""The AppArmor front end: profile text (with includes) → :class:`lsmsim.model.Policy`."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from ...model.policy import Policy
from .build import PolicyBuilder
from .includes import IncludeLoader


def load_apparmor(path: str | Path, include: list[str | Path] | tuple = (),
                  tables: Path | None = None) -> Policy:
    """Read an AppArmor policy file, resolving includes only inside ``include`` roots
    and the file's own directory (``tables``: where the parser's tables are kept)."""
    loader = IncludeLoader(Path(path), [Path(p) for p in include], tables)
    nodes = loader.load()
    policy = PolicyBuilder(str(path)).build(nodes, tuple(loader.files_read))
    return dataclasses.replace(policy, folders_consulted=tuple(
        dict.fromkeys(loader.folders_consulted)))


__all__ = ["load_apparmor"]
