"""A small regular-expression tree over path bytes.

Globs compile to this tree once; the simulator turns it into a Python ``re``
pattern and the Z3 encoder into a Z3 regular expression, so both read the same
meaning of a rule. Characters are byte values 1..255 (NUL never occurs in a path).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

MIN_CHAR = 1
MAX_CHAR = 255


@dataclass(frozen=True)
class Lit:
    """A literal string."""

    text: str


@dataclass(frozen=True)
class CharSet:
    """A set of characters as sorted, disjoint, inclusive code-point ranges."""

    ranges: tuple[tuple[int, int], ...]

    @staticmethod
    def of(ranges: list[tuple[int, int]], negate: bool = False) -> "CharSet":
        """Normalise ``ranges`` (optionally complemented within 1..255)."""
        merged: list[list[int]] = []
        for lo, hi in sorted((max(lo, MIN_CHAR), min(hi, MAX_CHAR)) for lo, hi in ranges):
            if lo > hi:
                continue
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        if negate:
            out, nxt = [], MIN_CHAR
            for lo, hi in merged:
                if lo > nxt:
                    out.append([nxt, lo - 1])
                nxt = hi + 1
            if nxt <= MAX_CHAR:
                out.append([nxt, MAX_CHAR])
            merged = out
        return CharSet(tuple((lo, hi) for lo, hi in merged))

    def contains(self, char: str) -> bool:
        code = ord(char)
        return any(lo <= code <= hi for lo, hi in self.ranges)


@dataclass(frozen=True)
class Seq:
    """Concatenation."""

    items: tuple["Regex", ...]


@dataclass(frozen=True)
class Alt:
    """Alternation; an empty tuple matches nothing."""

    items: tuple["Regex", ...]


@dataclass(frozen=True)
class Star:
    """Zero or more repetitions."""

    item: "Regex"


Regex = Lit | CharSet | Seq | Alt | Star

NOT_SLASH = CharSet.of([(ord("/"), ord("/"))], negate=True)
ANY_CHAR = CharSet.of([(MIN_CHAR, MAX_CHAR)])


def _char_class_source(charset: CharSet) -> str:
    parts = []
    for lo, hi in charset.ranges:
        parts.append(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}")
    return "[" + "".join(parts) + "]" if parts else "(?!)"


def to_python_source(node: Regex) -> str:
    """The tree as Python ``re`` source (use with ``re.fullmatch``)."""
    match node:
        case Lit(text):
            return re.escape(text)
        case CharSet():
            return _char_class_source(node)
        case Seq(items):
            return "".join(f"(?:{to_python_source(i)})" for i in items)
        case Alt(items):
            return "(?:" + "|".join(to_python_source(i) for i in items) + ")" if items else "(?!)"
        case Star(item):
            return f"(?:{to_python_source(item)})*"
    raise TypeError(node)


@dataclass(frozen=True)
class CompiledRegex:
    """A tree together with its compiled Python pattern (built on first use)."""

    tree: Regex

    @cached_property
    def pattern(self) -> re.Pattern:
        return re.compile(to_python_source(self.tree), re.DOTALL)

    def fullmatch(self, text: str) -> bool:
        return self.pattern.fullmatch(text) is not None
