"""Which files a ``--child`` names: a file itself, or every profile file directly in a
folder, skipping what apparmor_parser skips when it reads a folder (hidden files,
README, and editor and package-manager leftovers)."""
from __future__ import annotations

from pathlib import Path

from ..errors import PolicyError, Position

# libapparmor's list (_aa_is_blacklisted): packaging files in flux, patch and editor
# backups.
LEFTOVER_SUFFIXES = (".dpkg-new", ".dpkg-old", ".dpkg-dist", ".dpkg-bak", ".dpkg-remove",
                     ".pacsave", ".pacnew", ".rpmnew", ".rpmsave", ".orig", ".rej", "~")


def is_leftover(name: str) -> bool:
    """True for a file name apparmor_parser passes over in a profile folder."""
    return name.startswith(".") or name == "README" or name.endswith(LEFTOVER_SUFFIXES)


def child_files(paths: list[str]) -> list[str]:
    """The policy files to check, in the order given (a folder's in name order). A CIL
    folder is one policy, as ``lsmsim.load`` reads it."""
    out = []
    for path in paths:
        folder = Path(path)
        if not folder.exists():
            raise PolicyError("no such file", Position(path, 1, 1))
        if not folder.is_dir() or any(folder.glob("*.cil")):
            out.append(path)
            continue
        out += [str(entry) for entry in sorted(folder.iterdir())
                if entry.is_file() and not is_leftover(entry.name)]
    return out
