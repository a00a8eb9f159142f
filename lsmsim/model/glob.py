"""AppArmor globs: text → regular-expression tree, with the parser's exact rules.

Mirrors ``convert_aaregex_to_pcre`` (apparmor parser 3.0.8, parser_regex.c):
``*`` = ``[^/]*``, ``**`` = ``[^\\0]*``, ``?`` = ``[^/]``, ``{a,b}`` nests and
allows empty branches, ``[...]``/``[^...]`` pass through (so ``[^a]`` matches
``/``). A run of ``*`` that directly follows a ``/`` and is followed by ``/`` or
the end of the pattern must match at least one non-``/`` character.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property

from .regex import ANY_CHAR, NOT_SLASH, Alt, CharSet, CompiledRegex, Lit, Regex, Seq, Star

SPECIAL = set("*?[]{},\\")


class GlobError(ValueError):
    """A glob that the AppArmor parser would reject; ``offset`` is into the text."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


def squash_slashes(text: str) -> str:
    """Collapse runs of ``/`` as the parser's ``filter_slashes`` does."""
    return re.sub(r"/{2,}", "/", text)


def squash_into_alternations(text: str) -> str:
    """Also drop the leading ``/`` of every branch of a ``{...}`` that follows a ``/``
    when all its branches start with one (``/com/{/a,/b}`` → ``/com/{a,b}``), as the
    parser does for D-Bus paths and unix addresses built from variables."""
    def strip(match: re.Match) -> str:
        body = match.group(1)
        branches = body.split(",")
        if all(b.startswith("/") for b in branches):
            return "/{" + ",".join(b[1:] for b in branches) + "}"
        return match.group(0)
    return re.sub(r"/\{([^{}]*)\}", strip, text)


# Braces nest this deep at most: each level costs stack frames here and in every pass
# over the regex, so deeper globs are refused rather than left to the recursion limit.
MAX_BRACE_DEPTH = 100


# What a glob reads as itself: every character but those of its syntax. (A ',' is
# plain outside braces; it is taken one at a time, as the loop decides where.)
_PLAIN = re.compile(r"[^\\*?\[\]{},]+")


class _GlobParser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.depth = 0

    def parse(self) -> Regex:
        node = self._sequence(top=True)
        if self.pos != len(self.text):
            raise GlobError(f"unexpected {self.text[self.pos]!r} in glob", self.pos)
        return node

    def _sequence(self, top: bool) -> Regex:
        items: list[Regex] = []
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch in ",}" and not top:
                break
            if ch in "}]":
                raise GlobError(f"unbalanced '{ch}' in glob", self.pos)
            if ch == "\\":
                if self.pos + 1 >= len(text):
                    raise GlobError("trailing backslash in glob", self.pos)
                items.append(Lit(text[self.pos + 1]))
                self.pos += 2
            elif ch == "*":
                items.extend(self._stars())
            elif ch == "?":
                items.append(NOT_SLASH)
                self.pos += 1
            elif ch == "[":
                items.append(self._bracket())
            elif ch == "{":
                items.append(self._alternation())
            else:
                # A run of plain characters is one literal, read at C speed.
                end = _PLAIN.match(text, self.pos).end() if ch != "," else self.pos + 1
                items.append(Lit(text[self.pos:end]))
                self.pos = end
        return _seq(items)

    def _stars(self) -> list[Regex]:
        start = self.pos
        end = start
        while end < len(self.text) and self.text[end] == "*":
            end += 1
        self.pos = end
        out: list[Regex] = []
        fills_component = start > 0 and self.text[start - 1] == "/" and (
            end == len(self.text) or self.text[end] == "/")
        if fills_component:
            out.append(NOT_SLASH)
        out.append(Star(ANY_CHAR if end - start >= 2 else NOT_SLASH))
        return out

    def _bracket(self) -> Regex:
        start = self.pos
        self.pos += 1
        negate = self.pos < len(self.text) and self.text[self.pos] == "^"
        if negate:
            self.pos += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            if self.pos >= len(self.text):
                raise GlobError("unterminated '[' in glob", start)
            ch = self.text[self.pos]
            if ch == "]" and not first:
                self.pos += 1
                break
            first = False
            if ch == "\\" and self.pos + 1 < len(self.text):
                self.pos += 1
                ch = self.text[self.pos]
            self.pos += 1
            lo = ord(ch)
            if (self.pos + 1 < len(self.text) and self.text[self.pos] == "-"
                    and self.text[self.pos + 1] != "]"):
                hi_ch = self.text[self.pos + 1]
                self.pos += 2
                if hi_ch == "\\" and self.pos < len(self.text):
                    hi_ch = self.text[self.pos]
                    self.pos += 1
                ranges.append((lo, ord(hi_ch)))
            else:
                ranges.append((lo, lo))
        return CharSet.of(ranges, negate=negate)

    def _alternation(self) -> Regex:
        start = self.pos
        self.pos += 1
        self.depth += 1
        if self.depth > MAX_BRACE_DEPTH:
            raise GlobError(f"'{{...}}' nested more than {MAX_BRACE_DEPTH} deep", start)
        branches: list[Regex] = []
        while True:
            branches.append(self._sequence(top=False))
            if self.pos >= len(self.text):
                raise GlobError("unterminated '{' in glob", start)
            ch = self.text[self.pos]
            self.pos += 1
            if ch == "}":
                break
        self.depth -= 1
        if len(branches) < 2:
            raise GlobError("'{...}' needs at least two alternatives separated by ','", start)
        return Alt(tuple(dict.fromkeys(branches)))


def _seq(items: list[Regex]) -> Regex:
    merged: list[Regex] = []
    run: list[str] = []  # adjacent literals, joined once: a long path stays linear
    for item in items:
        if isinstance(item, Lit):
            run.append(item.text)
            continue
        if run:
            merged.append(Lit("".join(run)))
            run = []
        merged.append(item)
    if run:
        merged.append(Lit("".join(run)))
    if len(merged) == 1:
        return merged[0]
    return Seq(tuple(merged))


MAX_PREFIXES = 64


def _prefixes(node: Regex) -> list[tuple[str, bool]]:
    """(prefix, complete) pairs: every match of ``node`` starts with some prefix;
    ``complete`` says the prefix is the whole match."""
    match node:
        case Lit(text):
            return [(text, True)]
        case Alt(items):
            out = [p for item in items for p in _prefixes(item)]
            return out if len(out) <= MAX_PREFIXES else [("", False)]
        case Seq(items):
            current = [("", True)]
            for item in items:
                grown = []
                for head, complete in current:
                    if not complete:
                        grown.append((head, False))
                        continue
                    grown.extend((head + tail, done) for tail, done in _prefixes(item))
                if len(grown) > MAX_PREFIXES:
                    return [(os.path.commonprefix([h for h, _ in grown]), False)]
                current = grown
            return current
    return [("", False)]


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


@dataclass(frozen=True)
class Glob:
    """An AppArmor path glob (variables already expanded, slashes squashed)."""

    text: str
    regex: Regex = field(compare=False, repr=False)

    @staticmethod
    def parse(text: str) -> "Glob":
        """Parse glob text; raises :class:`GlobError` on malformed patterns."""
        return Glob(text, _GlobParser(text).parse())

    @cached_property
    def compiled(self) -> CompiledRegex:
        return CompiledRegex(self.regex)

    def matches(self, path: str) -> bool:
        """Does the concrete ``path`` match (directories end in ``/``)?"""
        # Every match starts with one of the literal prefixes: a path that starts with
        # none is refused without compiling the pattern (a profile's simulation asks
        # every rule, and most rules are about other paths).
        if not path.startswith(self.literal_prefixes):
            return False
        return self.compiled.fullmatch(path)

    @cached_property
    def is_literal(self) -> bool:
        """True when the glob matches exactly one string (no special characters)."""
        return isinstance(self.regex, Lit)

    @cached_property
    def is_exact(self) -> bool:
        """No wildcard at all (literals and ``{a,b}`` alternations only): such a rule
        wins over wildcard rules in exec-mode precedence (the parser's ExactMatchFlag)."""
        return all(complete for _, complete in _prefixes(self.regex))

    @cached_property
    def literal_prefix(self) -> str:
        """The longest literal text every match starts with."""
        return os.path.commonprefix(list(self.literal_prefixes))

    @cached_property
    def literal_prefixes(self) -> tuple[str, ...]:
        """Literal strings one of which starts every match (alternations expanded
        up to :data:`MAX_PREFIXES`), used to rule out overlaps cheaply."""
        return tuple(sorted({p for p, _ in _prefixes(self.regex)}))

    def may_overlap(self, other: "Glob") -> bool:
        """False only when no path can match both globs."""
        return any(a.startswith(b) or b.startswith(a)
                   for a in self.literal_prefixes for b in other.literal_prefixes)

    def __str__(self) -> str:
        return self.text
