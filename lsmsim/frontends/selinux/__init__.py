"""The SELinux front end: checkpolicy's policy.conf → :class:`SELinuxPolicy`."""
from __future__ import annotations

from pathlib import Path

from ...errors import PolicyError, Position
from ...model.selinux import SELinuxPolicy
from .build import PolicyBuilder
from .parser import parse_text


def load_selinux(path: str | Path) -> SELinuxPolicy:
    """Read a policy.conf file (the text checkpolicy compiles)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[:error.start].count(b"\n") + 1
        raise PolicyError("not a text file (invalid UTF-8)", Position(str(path), line, 1)) from None
    except OSError as error:
        reason = "no such file" if isinstance(error, FileNotFoundError) else \
            f"cannot read: {error.strerror}"
        raise PolicyError(reason, Position(str(path), 1, 1)) from None
    return load_selinux_text(text, str(path))


def load_selinux_text(text: str, file: str) -> SELinuxPolicy:
    policy = PolicyBuilder(file).build(parse_text(text, file))
    if not policy.types:
        raise PolicyError("no type declared in this policy", Position(file, 1, 1))
    return policy


__all__ = ["load_selinux", "load_selinux_text"]
