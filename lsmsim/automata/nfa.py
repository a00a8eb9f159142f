"""Position automata (Glushkov) for sets of tagged regular expressions.

A state of the automaton is the set of positions (character occurrences of the
expressions) just read, held as a Python ``int`` bitset: a transition is one OR over
follow sets and one AND with the positions that accept the byte class, both done in
C. Position 0 is the start. Bytes are grouped into equivalence classes that no
expression tells apart, as apparmor_parser's DFA does.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..model.regex import MAX_CHAR, Alt, CharSet, Lit, Regex, Seq, Star


def byte_classes(charsets: list[CharSet]) -> tuple[list[int], int]:
    """A partition of bytes 0..255 into classes no charset tells apart: the class of
    every byte and the class count. NUL never occurs in a string the kernel matches;
    it separates the fields of a request, as in the kernel's policy DFA."""
    membership: list[list[int]] = [[] for _ in range(MAX_CHAR + 1)]
    for index, charset in enumerate(dict.fromkeys(charsets)):
        for lo, hi in charset.ranges:
            for byte in range(lo, hi + 1):
                membership[byte].append(index)
    classes: dict[tuple[int, ...], int] = {}
    class_of = [0] * (MAX_CHAR + 1)
    for byte in range(0, MAX_CHAR + 1):
        class_of[byte] = classes.setdefault(tuple(membership[byte]), len(classes))
    return class_of, len(classes)


class _Builder:
    """Glushkov's construction: first, last and nullable per subexpression, follow
    sets per position."""

    def __init__(self) -> None:
        self.charsets: list[CharSet] = [CharSet(())]  # position 0: the start
        self.follow: list[int] = [0]

    def _position(self, charset: CharSet) -> int:
        self.charsets.append(charset)
        self.follow.append(0)
        return len(self.charsets) - 1

    def _link(self, lasts: int, firsts: int) -> None:
        while lasts:
            low = lasts & -lasts
            self.follow[low.bit_length() - 1] |= firsts
            lasts ^= low

    def build(self, node: Regex) -> tuple[int, int, bool]:
        """(first, last, nullable) of ``node``, adding its positions."""
        match node:
            case Lit(text):
                if not text:
                    return 0, 0, True
                positions = [self._position(CharSet(((ord(c), ord(c)),))) for c in text]
                for a, b in zip(positions, positions[1:]):
                    self.follow[a] |= 1 << b
                return 1 << positions[0], 1 << positions[-1], False
            case CharSet():
                bit = 1 << self._position(node)
                return bit, bit, False
            case Seq(items):
                first, last, nullable = 0, 0, True
                for item in items:
                    f, l, n = self.build(item)
                    self._link(last, f)
                    if nullable:
                        first |= f
                    last = (last | l) if n else l
                    nullable = nullable and n
                return first, last, nullable
            case Alt(items):
                first, last, nullable = 0, 0, False
                for item in items:
                    f, l, n = self.build(item)
                    first, last, nullable = first | f, last | l, nullable or n
                return first, last, nullable
            case Star(item):
                f, l, _ = self.build(item)
                self._link(l, f)
                return f, l, True
        raise TypeError(node)


@dataclass(frozen=True)
class TaggedNFA:
    """The position automaton of several expressions, each tagged with an index.

    ``follow[p]`` are the positions that may come after ``p``; ``class_positions[c]``
    the positions whose character is in byte class ``c``; ``charset_of[p]`` indexes
    ``charset_classes``, the byte classes of position ``p``'s character (``None``
    where that is every class); ``last[t]`` the positions
    that end a match of expression ``t`` (bit 0 where it matches the empty string);
    ``positions_of[t]`` every position of expression ``t``.
    """

    follow: tuple[int, ...]
    class_of: tuple[int, ...]
    class_positions: tuple[int, ...]
    charset_of: tuple[int, ...]
    charset_classes: tuple[tuple[int, ...] | None, ...]
    last: tuple[int, ...]
    positions_of: tuple[int, ...]
    tag_of_last: dict[int, tuple[int, ...]]
    accepting: int

    @staticmethod
    def of(expressions: list[Regex]) -> "TaggedNFA":
        builder = _Builder()
        lasts, positions_of = [], []
        for expression in expressions:
            before = len(builder.charsets)
            first, last, nullable = builder.build(expression)
            builder.follow[0] |= first
            lasts.append(last | (1 if nullable else 0))
            positions_of.append(((1 << len(builder.charsets)) - 1) ^ ((1 << before) - 1))
        by_charset: dict[CharSet, int] = {}
        for position, charset in enumerate(builder.charsets[1:], start=1):
            by_charset[charset] = by_charset.get(charset, 0) | (1 << position)
        class_of, count = byte_classes(list(by_charset))
        class_positions = [0] * count
        charset_index = {charset: i for i, charset in enumerate(by_charset)}
        charset_classes = []
        for charset, positions in by_charset.items():
            classes = {class_of[byte] for lo, hi in charset.ranges for byte in range(lo, hi + 1)}
            for cls in classes:
                class_positions[cls] |= positions
            charset_classes.append(None if len(classes) == count else tuple(sorted(classes)))
        charset_of = [0] + [charset_index[c] for c in builder.charsets[1:]]
        tag_of_last: dict[int, list[int]] = {}
        for tag, last in enumerate(lasts):
            while last:
                low = last & -last
                tag_of_last.setdefault(low.bit_length() - 1, []).append(tag)
                last ^= low
        accepting = 0
        for last in lasts:
            accepting |= last
        return TaggedNFA(tuple(builder.follow), tuple(class_of), tuple(class_positions),
                         tuple(charset_of), tuple(charset_classes), tuple(lasts), tuple(positions_of),
                         {p: tuple(t) for p, t in tag_of_last.items()}, accepting)
