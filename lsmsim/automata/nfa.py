"""Position automata (Glushkov) for sets of tagged regular expressions.

A state of the automaton is the set of positions (character occurrences of the
expressions) just read. Position 0 is the start. Bytes are grouped into equivalence
classes that no expression tells apart, as apparmor_parser's DFA does. Position sets
are kept sparse (a state holds a handful of positions out of the tens of thousands a
large profile has), so the cost of a transition follows the positions a state holds,
not the size of the profile.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..model.regex import MAX_CHAR, Alt, CharSet, Lit, Regex, Seq, Star

# The longest path name AppArmor mediates (the kernel's path buffer, 2 * PATH_MAX).
MAX_PATH = 8192


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


def utf8(text: str) -> bytes:
    """The bytes the kernel sees for ``text`` (policy text read as UTF-8; bytes that
    are not UTF-8 come back as they were)."""
    return text.encode("utf-8", "surrogateescape")


def from_utf8(data: bytes) -> str:
    """A string of bytes as lsmsim's model writes it (the inverse of :func:`utf8`)."""
    return data.decode("utf-8", "surrogateescape")


def min_length(node: Regex) -> float:
    """The length of the shortest string ``node`` matches (infinite: none)."""
    match node:
        case Lit(text):
            return len(text)
        case CharSet(ranges):
            return 1 if ranges else float("inf")
        case Seq(items):
            return sum(min_length(i) for i in items)
        case Alt(items):
            return min((min_length(i) for i in items), default=float("inf"))
        case Star():
            return 0
    raise TypeError(node)


# The character set of each single byte, made once.
_BYTE = tuple(CharSet(((b, b),)) for b in range(MAX_CHAR + 1))


class _Builder:
    """Glushkov's construction: first, last and nullable per subexpression, follow
    sets per position."""

    def __init__(self) -> None:
        self.charsets: list[CharSet] = [CharSet(())]  # position 0: the start
        self.follow: list[set[int]] = [set()]

    def _position(self, charset: CharSet) -> int:
        self.charsets.append(charset)
        self.follow.append(set())
        return len(self.charsets) - 1

    def _link(self, lasts: set[int], firsts: set[int]) -> None:
        for position in lasts:
            self.follow[position] |= firsts

    def build(self, node: Regex) -> tuple[set[int], set[int], bool]:
        """(first, last, nullable) of ``node``, adding its positions."""
        match node:
            case Lit(text):
                if not text:
                    return set(), set(), True
                # A literal's positions follow one another: made in one go.
                data = utf8(text)
                first = len(self.charsets)
                self.charsets.extend(_BYTE[b] for b in data)
                follow = self.follow
                follow.extend({p + 1} for p in range(first, first + len(data) - 1))
                follow.append(set())
                return {first}, {first + len(data) - 1}, False
            case CharSet(ranges) if ranges and ranges[-1][1] > MAX_CHAR:
                # Characters past one byte are matched as their UTF-8 bytes.
                return self.build(_bytewise(node))
            case CharSet():
                position = {self._position(node)}
                return position, set(position), False
            case Seq(items):
                first, last, nullable = set(), set(), True
                for item in items:
                    f, l, n = self.build(item)
                    self._link(last, f)
                    if nullable:
                        first |= f
                    last = (last | l) if n else l
                    nullable = nullable and n
                return first, last, nullable
            case Alt(items):
                first, last, nullable = set(), set(), False
                for item in items:
                    f, l, n = self.build(item)
                    first |= f
                    last |= l
                    nullable = nullable or n
                return first, last, nullable
            case Star(item):
                f, l, _ = self.build(item)
                self._link(l, f)
                return f, l, True
        raise TypeError(node)


class _Unshared(Exception):
    """An expression the shared construction does not take (a repetition of more
    than one character): the automaton is built the plain way."""


_NONE: frozenset[int] = frozenset()


class _SharedBuilder:
    """Positions made once per future. A position is known by its character set,
    the positions that may follow it and the tags a match ending on it completes, so
    expressions that end alike (``/usr/lib/** r,`` and ``/usr/share/** r,``, tagged
    alike) share their ending, as apparmor_parser factors its expression tree, and
    the subset construction meets far fewer distinct sets.

    An expression is built from its end: each part is given what follows it (the
    first positions after it, and the tags completed if nothing does) and returns
    the same for the part before it."""

    def __init__(self) -> None:
        self.charsets: list[CharSet] = [CharSet(())]  # position 0: the start
        self.follow: list[frozenset[int]] = [_NONE]
        self.tags: list[frozenset[int]] = [_NONE]
        self.built: set[int] = set()  # the positions of the expression being built
        self._ids: dict[tuple, int] = {}

    def _position(self, key: tuple, charset: CharSet, follow: frozenset[int],
                  tags: frozenset[int], loops: bool = False) -> int:
        position = self._ids.get(key)
        if position is None:
            position = self._ids[key] = len(self.charsets)
            self.charsets.append(charset)
            self.follow.append(follow | {position} if loops else follow)
            self.tags.append(tags)
        self.built.add(position)
        return position

    def build(self, node: Regex, follow: frozenset[int], tags: frozenset[int]
              ) -> tuple[frozenset[int], frozenset[int]]:
        """The first positions of ``node`` followed by (``follow``, ``tags``), and the
        tags completed when ``node`` matches the empty string."""
        match node:
            case Lit(text):
                ids, built = self._ids, self.built
                for byte in reversed(utf8(text)):
                    # Keyed by the byte itself: hashing it costs less than its CharSet.
                    key = (byte, follow, tags)
                    position = ids.get(key)
                    if position is None:
                        position = self._position(key, _BYTE[byte], follow, tags)
                    built.add(position)
                    follow, tags = frozenset((position,)), _NONE
                return follow, tags
            case CharSet(ranges) if ranges and ranges[-1][1] > MAX_CHAR:
                return self.build(_bytewise(node), follow, tags)
            case CharSet(ranges):
                if not ranges:
                    return _NONE, _NONE
                key = (ranges, follow, tags)
                return frozenset((self._position(key, node, follow, tags),)), _NONE
            case Seq(items):
                for item in reversed(items):
                    follow, tags = self.build(item, follow, tags)
                return follow, tags
            case Alt(items):
                firsts: set[int] = set()
                ends: set[int] = set()
                for item in items:
                    first, done = self.build(item, follow, tags)
                    firsts |= first
                    ends |= done
                return frozenset(firsts), frozenset(ends)
            case Star(CharSet(ranges) as item) if not ranges or ranges[-1][1] <= MAX_CHAR:
                if not ranges:
                    return follow, tags
                loop = self._position(("*", ranges, follow, tags), item, follow, tags, loops=True)
                return follow | {loop}, tags
        raise _Unshared(node)


def _bytewise(charset: CharSet) -> Regex:
    """A character set past one byte as the alternation of its UTF-8 byte strings."""
    ranges = charset.ranges
    low = CharSet(tuple((lo, min(hi, MAX_CHAR)) for lo, hi in ranges if lo <= MAX_CHAR))
    high = [Lit(chr(c)) for lo, hi in ranges if hi > MAX_CHAR
            for c in range(max(lo, MAX_CHAR + 1), hi + 1)]
    return Alt((low, *high) if low.ranges else tuple(high))


@dataclass(frozen=True)
class TaggedNFA:
    """The position automaton of several expressions, each tagged with an index.

    ``follow[p]`` are the positions that may come after ``p``; ``charset_of[p]``
    indexes ``charset_classes``, the byte classes of position ``p``'s character
    (``None`` where that is every class); ``class_of[b]`` is byte ``b``'s class;
    ``tags_of[p]`` the expressions a match ending at ``p`` completes (position 0 for
    those that match the empty string); ``spans[t]`` the positions of expression
    ``t`` (of tag ``t`` where several expressions share one, see :meth:`shared`).
    """

    follow: tuple[tuple[int, ...], ...]
    class_of: tuple[int, ...]
    classes: int
    charset_of: tuple[int, ...]
    charset_classes: tuple[tuple[int, ...] | None, ...]
    tags_of: dict[int, tuple[int, ...]]
    spans: tuple[range | frozenset[int], ...]

    @staticmethod
    def of(expressions: list[Regex], max_length: float = float("inf")) -> "TaggedNFA":
        """The automaton of ``expressions``; one that matches nothing as short as
        ``max_length`` gets no positions (no request that long exists)."""
        builder = _Builder()
        tags_of: dict[int, list[int]] = {}
        spans = []
        # Equal expressions share their positions, each adding its tag where they end:
        # every file rule's ``l`` pairs with one target glob, and 84 copies of it made
        # each state of lxc-default's link automaton hold 88 positions instead of 5.
        built: dict[Regex, tuple[range, set[int]]] = {}
        for tag, expression in enumerate(expressions):
            before = len(builder.charsets)
            known = built.get(expression)
            if known is None:
                if min_length(expression) > max_length:
                    known = built[expression] = (range(before, before), set())
                else:
                    first, last, nullable = builder.build(expression)
                    builder.follow[0] |= first
                    known = built[expression] = (range(before, len(builder.charsets)),
                                                 last | ({0} if nullable else set()))
            span, ends = known
            for position in ends:
                tags_of.setdefault(position, []).append(tag)
            spans.append(span)
        return TaggedNFA._of_positions(builder.charsets, builder.follow,
                                       {p: tuple(t) for p, t in tags_of.items()}, tuple(spans))

    @staticmethod
    def shared(expressions: list[Regex], tags: list[int], max_length: float = float("inf")
               ) -> "TaggedNFA":
        """The automaton of ``expressions``, expression ``i`` tagged ``tags[i]`` (several
        may share a tag), with the positions of equal futures made once (see
        :class:`_SharedBuilder`). ``spans[t]`` holds the positions of tag ``t``. An
        expression the shared construction does not take gets the plain automaton,
        each expression then under its own tag's positions."""
        builder = _SharedBuilder()
        count = max(tags, default=-1) + 1
        spans: list[set[int]] = [set() for _ in range(count)]
        try:
            for expression, tag in zip(expressions, tags):
                if min_length(expression) > max_length:
                    continue
                builder.built = spans[tag]
                first, done = builder.build(expression, _NONE, frozenset((tag,)))
                builder.follow[0] |= first
                builder.tags[0] |= done
        except _Unshared:
            plain = TaggedNFA.of(expressions, max_length)
            tags_of = {p: tuple(sorted({tags[t] for t in ts})) for p, ts in plain.tags_of.items()}
            by_tag: list[set[int]] = [set() for _ in range(count)]
            for expression, span in enumerate(plain.spans):
                by_tag[tags[expression]].update(span)
            return TaggedNFA(plain.follow, plain.class_of, plain.classes, plain.charset_of,
                             plain.charset_classes, tags_of,
                             tuple(frozenset(s) for s in by_tag))
        return TaggedNFA._of_positions(
            builder.charsets, builder.follow,
            {p: tuple(sorted(t)) for p, t in enumerate(builder.tags) if t},
            tuple(frozenset(s) for s in spans))

    @staticmethod
    def _of_positions(charsets: list[CharSet], follow: list, tags_of: dict[int, tuple[int, ...]],
                      spans: tuple) -> "TaggedNFA":
        # Character sets told apart by their ranges: a tuple hashes at C speed.
        by_ranges: dict[tuple, int] = {}
        distinct: list[CharSet] = []
        charset_of = [0]
        for charset in charsets[1:]:
            index = by_ranges.get(charset.ranges)
            if index is None:
                index = by_ranges[charset.ranges] = len(distinct)
                distinct.append(charset)
            charset_of.append(index)
        class_of, count = byte_classes(distinct)
        charset_classes = []
        for charset in distinct:
            classes = {class_of[byte] for lo, hi in charset.ranges for byte in range(lo, hi + 1)}
            charset_classes.append(None if len(classes) == count else tuple(sorted(classes)))
        return TaggedNFA(tuple(tuple(sorted(f)) for f in follow), tuple(class_of), count,
                         tuple(charset_of), tuple(charset_classes), tags_of, spans)
