"""The SELinux front ends: checkpolicy's policy.conf and secilc's CIL, both to
:class:`SELinuxPolicy`."""
from __future__ import annotations

import os

import gc
from contextlib import contextmanager
from pathlib import Path

from ...errors import PolicyError, Position
from ...model.selinux import SELinuxPolicy
from .build import PolicyBuilder
from .cil_build import CilBuilder
from .cil_syntax import Words, parse_cil
from .neverallow import check_neverallows
from .parser import parse_text


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[:error.start].count(b"\n") + 1
        raise PolicyError("not a text file (invalid UTF-8)", Position(str(path), line, 1)) from None
    except OSError as error:
        reason = "no such file" if isinstance(error, FileNotFoundError) else \
            f"cannot read: {error.strerror}"
        raise PolicyError(reason, Position(str(path), 1, 1)) from None


def load_selinux(path: str | Path) -> SELinuxPolicy:
    """Read a policy.conf file (the text checkpolicy compiles)."""
    return load_selinux_text(_read(Path(path)), str(path))


def cil_files(path: str | Path) -> list[Path]:
    """The CIL files a path stands for: the file, or a directory's ``*.cil`` files."""
    path = Path(path)
    if os.path.isdir(path):  # False, too, for names that cannot exist
        files = sorted(path.glob("*.cil"))
        if not files:
            raise PolicyError("no .cil file in this directory", Position(str(path), 1, 1))
        return files
    return [path]


@contextmanager
def _no_cycle_collection():
    """Reading a policy allocates millions of objects and frees none of them in
    cycles: Python's cycle collector would walk them again and again (a third of
    the time of a distribution's policy). It is paused while reading, then restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_cil(paths: str | Path | list) -> SELinuxPolicy:
    """Read CIL files into one policy, as ``secilc FILE...`` compiles them (a
    directory stands for every ``*.cil`` file in it)."""
    if isinstance(paths, (str, Path)):
        files = cil_files(paths)
        name = str(paths)
    else:
        files = [Path(p) for p in paths]
        name = str(files[0]) if len(files) == 1 else f"{files[0].parent}"
    with _no_cycle_collection():
        # No name here holds the parsed lists: they are freed as soon as the policy
        # is built, before the neverallow check.
        return _checked(CilBuilder(_parse_files({str(f): _read(f) for f in files})).build(name),
                        name)


def _parse_files(texts: dict[str, str]) -> dict[str, tuple]:
    words = Words()
    return {file: parse_cil(text, file, words) for file, text in texts.items()}


def load_cil_text(text: str, file: str) -> SELinuxPolicy:
    """One CIL text (``file`` names it in messages)."""
    return load_cil_parsed({file: parse_cil(text, file)}, file)


def load_cil_parsed(parsed: dict, name: str) -> SELinuxPolicy:
    """One policy from parsed CIL files (file name → top-level items)."""
    return _checked(CilBuilder(parsed).build(name), name)


def _checked(policy: SELinuxPolicy, name: str) -> SELinuxPolicy:
    if not policy.types:
        raise PolicyError("no type declared in this policy", Position(name, 1, 1))
    check_neverallows(policy)
    return policy


def load_selinux_text(text: str, file: str) -> SELinuxPolicy:
    with _no_cycle_collection():
        policy = PolicyBuilder(file).build(parse_text(text, file))
    if not policy.types:
        raise PolicyError("no type declared in this policy", Position(file, 1, 1))
    check_neverallows(policy)
    return policy


__all__ = ["cil_files", "load_cil", "load_cil_text", "load_selinux", "load_selinux_text"]
