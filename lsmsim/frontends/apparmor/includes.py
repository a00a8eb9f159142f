"""Resolving ``include`` directives, confined to the include roots the user gave."""
from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

from ...errors import PolicyError, PolicyWarning, Position
from ..nesting import MAX_NESTING, too_deep
from . import syntax as s
from .parser import parse_text

# Files a directory include passes over (editor and package-manager leftovers).
_SKIPPED_SUFFIXES = (".dpkg-new", ".dpkg-old", ".dpkg-dist", ".dpkg-bak", ".dpkg-remove",
                     ".rpmnew", ".rpmsave", ".orig", ".rej", ".pacsave", ".pacnew", "~")


# The longest path the kernel resolves; a longer one names no file.
_PATH_MAX = 4096


def _real(path: Path | str) -> Path:
    """The path with links resolved. A name too long to exist is only normalised:
    resolving its components one by one takes time quadratic in its length."""
    if len(str(path)) >= _PATH_MAX:
        return Path(os.path.normpath(path))
    return Path(os.path.realpath(path))


class IncludeLoader:
    """Reads a policy file and splices in what it includes.

    ``<name>`` is searched in each include root, then in the main file's directory;
    ``"name"`` (or a bare name) is taken relative to the including file, then to each
    include root. Nothing outside those
    directories is read (symlinks and ``..`` included), cycles are errors. Includes
    and the blocks around them count towards one nesting limit, so a chain of
    includes is refused where it passes the limit rather than deep in the recursion.
    ``tables`` is where the parser keeps its tables (None: nowhere).
    """

    def __init__(self, main_file: Path, roots: list[Path] | tuple[Path, ...] = (),
                 tables: Path | None = None):
        self.main_file = Path(main_file)
        self.tables = tables
        self.roots = [Path(r) for r in roots]
        self.allowed = [_real(d) for d in [*self.roots, self.main_file.parent]]
        self.files_read: list[str] = []
        # Resolved paths by name: one include is resolved up to three times (the
        # roots check, the loop check, the stack), and each resolution is a system
        # call per path component. Kept for one load only.
        self._reals: dict[str, Path] = {}
        # Folders whose entries decided where an include was found (or not found).
        self.folders_consulted: list[str] = []

    def load(self) -> tuple:
        """Syntax nodes of the main file with every include spliced in place."""
        if not os.path.isfile(self.main_file):  # False, too, for names that cannot exist
            raise PolicyError("no such file", Position(str(self.main_file), 1, 1))
        return self._read(self.main_file, (), 0)

    def _real(self, path: Path) -> Path:
        key = str(path)
        real = self._reals.get(key)
        if real is None:
            real = self._reals[key] = _real(path)
        return real

    def _inside_roots(self, path: Path) -> bool:
        real = self._real(path)
        return any(real == d or d in real.parents for d in self.allowed)

    def _read(self, path: Path, stack: tuple[Path, ...], depth: int) -> tuple:
        try:
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
        except OSError as error:
            raise PolicyError(f"cannot read: {error.strerror}", Position(str(path), 1, 1)) from None
        self.files_read.append(str(path))
        nodes = parse_text(text, str(path), self.tables)
        return self._splice(nodes, (*stack, self._real(path)), depth)

    def _splice(self, nodes, stack, depth: int) -> tuple:
        """``nodes`` with includes read in place; ``depth`` counts the includes and
        blocks around them."""
        out = []
        for node in nodes:
            if depth > MAX_NESTING and isinstance(node, (s.Include, s.ProfileDecl, s.Block,
                                                         s.Conditional)):
                raise too_deep(node.source.position)
            if isinstance(node, s.Include):
                for target in self._resolve(node, Path(node.source.file)):
                    real = self._real(target)
                    if real in stack:
                        raise PolicyError(f"include loop: {target} includes itself "
                                          f"(via {' -> '.join(p.name for p in stack)})",
                                          node.source.position)
                    out.extend(self._read(target, stack, depth + 1))
            elif isinstance(node, (s.ProfileDecl, s.Block)):
                out.append(dataclasses.replace(node, items=self._splice(node.items, stack,
                                                                        depth + 1)))
            elif isinstance(node, s.Conditional):
                out.append(dataclasses.replace(
                    node, items=self._splice(node.items, stack, depth + 1),
                    otherwise=self._splice(node.otherwise, stack, depth + 1)))
            else:
                out.append(node)
        return tuple(out)

    def _resolve(self, node: s.Include, current: Path) -> list[Path]:
        if node.angle:
            candidates = [d / node.target for d in [*self.roots, self.main_file.parent]]
        elif os.path.isabs(node.target):
            candidates = [Path(node.target)]
        else:
            # Relative to the including file, then to each include root.
            candidates = [current.parent / node.target] + [d / node.target for d in self.roots]
        for candidate in candidates:
            self.folders_consulted.append(os.path.dirname(candidate))
            # os.path answers False where the name cannot exist (too long, a NUL).
            if not os.path.exists(candidate):
                continue
            if not self._inside_roots(candidate):
                raise PolicyError(f"include {node.target!r} resolves to {candidate}, outside the "
                                  "include roots", node.source.position)
            if os.path.isdir(candidate):
                return self._folder(candidate, node)
            return [candidate]
        if node.if_exists:
            return []
        where = ", ".join(str(d) for d in [*self.roots, self.main_file.parent]) if node.angle \
            else str(candidates[0])
        raise PolicyError(f"include {node.target!r} not found (looked in {where})",
                          node.source.position)

    def _folder(self, folder: Path, node: s.Include) -> list[Path]:
        """The files ``include <folder>`` reads, in name order; a link leading out of
        the include roots is skipped with a warning naming it."""
        files = []
        self.folders_consulted.append(str(folder))
        for entry in sorted(folder.iterdir()):
            if (entry.name.startswith(".") or entry.name.endswith(_SKIPPED_SUFFIXES)
                    or not entry.is_file()):
                continue
            if not self._inside_roots(entry):
                warnings.warn(PolicyWarning(
                    f"{node.source.position}: include {node.target!r}: skipped {entry}, a link "
                    f"to {_real(entry)} outside the include roots"), stacklevel=2)
                continue
            files.append(entry)
        return files
