"""``file_contexts``: how a SELinux layer labels the files a task opens by path.

Each line is ``REGEX [-TYPE] CONTEXT`` (``TYPE`` one of ``--`` file, ``-d`` directory,
``-l`` symlink, ...; ``CONTEXT`` may be ``<<none>>``). Lookup follows libselinux
(``selabel_lookup``): the specifications are ordered with the regular expressions
first and the exact paths (no unescaped ``.^$?*+|[({``) after them, each group in file
order, and the last one that matches the whole path and the file's type wins.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..automata.posix_regex import RegexSyntaxError, has_meta_chars, parse_spec
from ..errors import PolicyError, Position
from ..model.regex import CompiledRegex, Regex
from ..model.selinux import Context, parse_context

FILE_TYPES = {"--": "file", "-d": "dir", "-l": "lnk_file", "-c": "chr_file",
              "-b": "blk_file", "-s": "sock_file", "-p": "fifo_file"}


@dataclass(frozen=True)
class FileContextEntry:
    """One line: a specification matched against whole paths, an optional object
    class and a context (``None`` for ``<<none>>``)."""

    regex: str
    tclass: str | None
    context: Context | None
    line: int
    tree: Regex

    @property
    def exact(self) -> bool:
        return not has_meta_chars(self.regex)

    @cached_property
    def _compiled(self) -> CompiledRegex:
        return CompiledRegex(self.tree)

    def applies_to(self, tclass: str) -> bool:
        return self.tclass is None or self.tclass == tclass

    def matches(self, path: str, tclass: str) -> bool:
        return self.applies_to(tclass) and self._compiled.fullmatch(path)

    @property
    def label(self) -> str:
        return "<<none>>" if self.context is None else str(self.context)


def object_class(path: str) -> tuple[str, str]:
    """The object class a path names and the path libselinux looks up: a trailing
    ``/`` is a directory (and is dropped), anything else a regular file."""
    if path.endswith("/") and path != "/":
        return "dir", path.rstrip("/") or "/"
    return ("dir" if path == "/" else "file"), path


@dataclass(frozen=True)
class FileContexts:
    """A file_contexts file; ``entries`` in file order."""

    file: str
    entries: tuple[FileContextEntry, ...]

    @cached_property
    def precedence(self) -> tuple[int, ...]:
        """Entry indices from the one that wins a tie to the one that loses it."""
        order = [i for i, e in enumerate(self.entries) if not e.exact] + \
                [i for i, e in enumerate(self.entries) if e.exact]
        return tuple(reversed(order))

    def winner(self, matching: set[int] | frozenset[int]) -> FileContextEntry | None:
        """The entry libselinux picks among the indices of ``matching`` entries."""
        return next((self.entries[i] for i in self.precedence if i in matching), None)

    def lookup(self, path: str) -> tuple[str, Context | None, FileContextEntry | None]:
        """The object class of ``path`` (a trailing ``/`` is a directory), the context
        it is labelled with (``None`` when no line matches or it says ``<<none>>``)
        and the line that decided."""
        tclass, bare = object_class(path)
        entry = next((self.entries[i] for i in self.precedence
                      if self.entries[i].matches(bare, tclass)), None)
        return tclass, (entry.context if entry else None), entry


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
        if len(words) == 3 and words[1] in FILE_TYPES:
            regex, kind, label = words
        elif len(words) == 2:
            (regex, label), kind = words, None
        else:
            raise PolicyError("expected 'REGEX [-TYPE] CONTEXT'", Position(file, number, column))
        try:
            tree = parse_spec(regex)
        except RegexSyntaxError as error:
            raise PolicyError(f"regular expression {regex!r}: {error}",
                              Position(file, number, column + error.offset)) from None
        try:
            context = None if label == "<<none>>" else parse_context(label)
        except ValueError as error:
            raise PolicyError(str(error), Position(file, number, raw.find(label) + 1)) from None
        entries.append(FileContextEntry(regex, FILE_TYPES.get(kind), context, number, tree))
    return FileContexts(file, tuple(entries))
