"""Which LSM's language a policy file is written in."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import PolicyError, Position

# Statements only the SELinux policy language has ("allow" is AppArmor's too).
_SELINUX_WORDS = ("type ", "class ", "sid ", "attribute ", "typeattribute ", "common ",
                  "role ", "user ", "sensitivity ", "category ", "type_transition ")


def detect_lsm(path: str | Path) -> str:
    """``apparmor``, ``selinux`` or ``cil``, judged from the file's content (a
    directory of ``.cil`` files is one CIL policy)."""
    if os.path.isdir(path) and any(Path(path).glob("*.cil")):
        return "cil"
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        reason = "no such file" if isinstance(error, FileNotFoundError) else \
            f"cannot read: {error.strerror}"
        raise PolicyError(reason, Position(str(path), 1, 1)) from None
    code = [line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith(("#", ";"))]
    if code and all(line.startswith("(") for line in code[:5]):
        return "cil"
    if any(line.startswith(_SELINUX_WORDS) for line in code):
        return "selinux"
    return "apparmor"
