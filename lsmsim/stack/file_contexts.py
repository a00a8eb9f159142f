"""``file_contexts``: how a SELinux layer labels the files a task opens by path.

Each line is ``REGEX [-TYPE] CONTEXT`` (``TYPE`` one of ``--`` file, ``-d`` directory,
``-l`` symlink, ...; ``CONTEXT`` may be ``<<none>>``). Lookup follows libselinux: a
specification without regex meta-characters beats every regex, and among the rest the
last matching line of the file wins.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import PolicyError, Position
from ..model.selinux import Context, parse_context

_FILE_TYPES = {"--": "file", "-d": "dir", "-l": "lnk_file", "-c": "chr_file",
               "-b": "blk_file", "-s": "sock_file", "-p": "fifo_file"}
_META = re.compile(r"[.^$?*+|\[\](){}\\]")


@dataclass(frozen=True)
class FileContextEntry:
    """One line: a fully anchored regular expression, an optional object class and a
    context (``None`` for ``<<none>>``)."""

    regex: str
    tclass: str | None
    context: Context | None
    line: int

    @property
    def exact(self) -> bool:
        return not _META.search(self.regex)

    def matches(self, path: str, tclass: str) -> bool:
        if self.tclass is not None and self.tclass != tclass:
            return False
        return re.fullmatch(self.regex, path) is not None


@dataclass(frozen=True)
class FileContexts:
    """A file_contexts file, in lookup order."""

    file: str
    entries: tuple[FileContextEntry, ...]

    def lookup(self, path: str) -> tuple[str, Context | None, FileContextEntry | None]:
        """The object class of ``path`` (a trailing ``/`` is a directory) and the
        context it is labelled with (``None`` when no line matches or it says
        ``<<none>>``)."""
        tclass = "dir" if path.endswith("/") else "file"
        bare = path.rstrip("/") or "/"
        ordered = [e for e in reversed(self.entries) if e.exact] + \
                  [e for e in reversed(self.entries) if not e.exact]
        for entry in ordered:
            if entry.matches(bare, tclass):
                return tclass, entry.context, entry
        return tclass, None, None


def read_file_contexts(path: str | Path) -> FileContexts:
    """Read a file_contexts file; a bad line is an error with its position."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        reason = "no such file" if isinstance(error, FileNotFoundError) else \
            f"cannot read: {error.strerror}"
        raise PolicyError(reason, Position(file, 1, 1)) from None
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        words = line.split()
        column = raw.find(words[0]) + 1
        if len(words) == 3 and words[1] in _FILE_TYPES:
            regex, kind, label = words
        elif len(words) == 2:
            (regex, label), kind = words, None
        else:
            raise PolicyError("expected 'REGEX [-TYPE] CONTEXT'", Position(file, number, column))
        try:
            re.compile(regex)
        except re.error as error:
            raise PolicyError(f"bad regular expression {regex!r}: {error}",
                              Position(file, number, column)) from None
        try:
            context = None if label == "<<none>>" else parse_context(label)
        except ValueError as error:
            raise PolicyError(str(error), Position(file, number, raw.find(label) + 1)) from None
        entries.append(FileContextEntry(regex, _FILE_TYPES.get(kind), context, number))
    return FileContexts(file, tuple(entries))
