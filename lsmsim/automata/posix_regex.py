"""The regular expressions of ``file_contexts`` as regular-expression trees.

libselinux compiles each specification with PCRE2 as ``^(?:SPEC)$`` with ``DOTALL``
(``.`` also matches a newline), so a specification matches whole paths. The subset a
file_contexts file uses is regular and is read here: literals and escapes, ``.``,
bracket expressions (ranges, negation, ``[:class:]``), groups with ``|``, ``*``,
``+``, ``?`` and ``{m}``/``{m,}``/``{m,n}`` (lazy forms match the same paths), and
``^``/``$`` at the ends. Everything else (back references, look-around, possessive
quantifiers, anchors inside) is refused with its offset, so no lookup is ever decided
on a guessed meaning.
"""
from __future__ import annotations

from ..model.regex import ANY_CHAR, MIN_CHAR, Alt, CharSet, Lit, Regex, Seq, Star

# Repetition counts past this are refused: each one copies the repeated expression.
MAX_REPEAT = 255
# Groups nest this deep at most, and a specification expands to this many characters at
# most (repetitions copied out): past them the automaton would not be worth building.
MAX_DEPTH = 100
MAX_SIZE = 10_000

_POSIX_CLASSES = {
    "alpha": [(65, 90), (97, 122)], "digit": [(48, 57)], "alnum": [(48, 57), (65, 90), (97, 122)],
    "upper": [(65, 90)], "lower": [(97, 122)], "space": [(9, 13), (32, 32)],
    "blank": [(9, 9), (32, 32)], "punct": [(33, 47), (58, 64), (91, 96), (123, 126)],
    "print": [(32, 126)], "graph": [(33, 126)], "cntrl": [(1, 31), (127, 127)],
    "xdigit": [(48, 57), (65, 70), (97, 102)], "word": [(48, 57), (65, 90), (95, 95), (97, 122)],
}
_CLASS_ESCAPES = {"d": ("digit", False), "D": ("digit", True), "w": ("word", False),
                  "W": ("word", True), "s": ("space", False), "S": ("space", True)}
_CHAR_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a", "e": "\x1b"}


class RegexSyntaxError(ValueError):
    """A specification outside the supported subset; ``offset`` is into the text."""

    def __init__(self, message: str, offset: int):
        super().__init__(f"{message} at offset {offset}")
        self.offset = offset


def _optional(node: Regex) -> Regex:
    return Alt((node, Lit("")))


def repeat(node: Regex, low: int, high: int | None) -> Regex:
    """``node{low,high}`` (``high`` None: unbounded) as plain concatenation and stars."""
    # (x?){k} matches what x{0,k} matches and stays flat: no deep trees to recurse into.
    items: list[Regex] = [node] * low
    items += [Star(node)] if high is None else [_optional(node)] * (high - low)
    return Seq(tuple(items))


def size(node: Regex) -> int:
    """How many characters ``node`` holds once its repetitions are copied out."""
    match node:
        case Lit(text):
            return len(text)
        case CharSet():
            return 1
        case Seq(items) | Alt(items):
            return sum(size(item) for item in items)
        case Star(item):
            return size(item)
    raise TypeError(node)


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.depth = 0

    def error(self, message: str) -> RegexSyntaxError:
        return RegexSyntaxError(message, self.pos)

    def peek(self, ahead: int = 0) -> str | None:
        index = self.pos + ahead
        return self.text[index] if index < len(self.text) else None

    def parse(self) -> Regex:
        node = self.alternation(top=True)
        if self.pos != len(self.text):
            raise self.error("unbalanced ')'")
        return node

    def alternation(self, top: bool = False) -> Regex:
        branches = [self.sequence(top)]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence(top))
        return branches[0] if len(branches) == 1 else Alt(tuple(branches))

    def sequence(self, top: bool) -> Regex:
        items: list[Regex] = []
        while (char := self.peek()) is not None and char not in "|)":
            if char == "^":
                if not (top and self.pos == 0):
                    raise self.error("'^' inside a specification is not supported")
                self.pos += 1
                continue
            if char == "$":
                if not (top and self.pos == len(self.text) - 1):
                    raise self.error("'$' inside a specification is not supported")
                self.pos += 1
                continue
            items.append(self.quantified(self.atom()))
        return items[0] if len(items) == 1 else Seq(tuple(items))

    def atom(self) -> Regex:
        char = self.text[self.pos]
        if char == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error(f"groups nested deeper than {MAX_DEPTH}")
            self.pos += 1
            if self.peek() == "?":
                if self.peek(1) != ":":
                    raise self.error("only '(?:' groups are supported")
                self.pos += 2
            node = self.alternation()
            if self.peek() != ")":
                raise self.error("missing ')'")
            self.pos += 1
            self.depth -= 1
            return node
        if char == "[":
            return self.bracket()
        if char == ".":
            self.pos += 1
            return ANY_CHAR
        if char == "\\":
            return self.escape()
        if char in "*+?":
            raise self.error(f"'{char}' repeats nothing")
        if char == "{" and self.counted() is not None:
            raise self.error("'{' repeats nothing")
        self.pos += 1
        return self.literal(char)

    def literal(self, char: str) -> Regex:
        if ord(char) > 0x7F:
            return Lit(char)  # matched as its UTF-8 bytes, as PCRE2 reads them
        if ord(char) < MIN_CHAR:
            raise self.error("NUL in a specification")
        return Lit(char)

    def escape(self) -> Regex:
        self.pos += 1
        char = self.peek()
        if char is None:
            raise self.error("trailing '\\'")
        self.pos += 1
        if char in _CLASS_ESCAPES:
            name, negate = _CLASS_ESCAPES[char]
            return CharSet.of(_POSIX_CLASSES[name], negate)
        if char in _CHAR_ESCAPES:
            return Lit(_CHAR_ESCAPES[char])
        if char.isalnum():
            raise self.error(f"escape '\\{char}' is not supported")
        return self.literal(char)

    def counted(self) -> tuple[int, int | None, int] | None:
        """``{m}``, ``{m,}`` or ``{m,n}`` at the cursor: (m, n, length), else None
        (PCRE2 reads any other '{' as a literal)."""
        end = self.text.find("}", self.pos)
        if end < 0:
            return None
        body = self.text[self.pos + 1:end]
        low, comma, high = body.partition(",")
        if not low.isdigit() or (high and not high.isdigit()):
            return None
        return int(low), (int(high) if high else None if comma else int(low)), end + 1 - self.pos

    def quantified(self, node: Regex) -> Regex:
        while (char := self.peek()) is not None:
            if char == "*":
                node, self.pos = Star(node), self.pos + 1
            elif char == "+":
                node, self.pos = Seq((node, Star(node))), self.pos + 1
            elif char == "?":
                node, self.pos = _optional(node), self.pos + 1
            elif char == "{" and (count := self.counted()) is not None:
                low, high, length = count
                if (high is not None and high < low) or max(low, high or 0) > MAX_REPEAT:
                    raise self.error(f"repetition {{{low},{high}}} is not supported")
                if max(low, high or 0) * size(node) > MAX_SIZE:
                    raise self.error(f"repetition past {MAX_SIZE:,} characters")
                node, self.pos = repeat(node, low, high), self.pos + length
            else:
                return node
            # A lazy quantifier matches the same paths; a possessive one may not.
            if self.peek() == "?":
                self.pos += 1
            elif self.peek() == "+":
                raise self.error("possessive quantifiers are not supported")
        return node

    def bracket(self) -> Regex:
        start = self.pos
        self.pos += 1
        negate = self.peek() == "^"
        if negate:
            self.pos += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            char = self.peek()
            if char is None:
                self.pos = start
                raise self.error("missing ']'")
            if char == "]" and not first:
                self.pos += 1
                break
            first = False
            if char == "[" and self.peek(1) == ":":
                end = self.text.find(":]", self.pos + 2)
                name = self.text[self.pos + 2:end] if end > 0 else ""
                if name not in _POSIX_CLASSES:
                    raise self.error(f"unknown class [:{name}:]")
                ranges.extend(_POSIX_CLASSES[name])
                self.pos = end + 2
                continue
            low = self.bracket_char()
            if isinstance(low, CharSet):
                ranges.extend(low.ranges)
                continue
            if self.peek() == "-" and self.peek(1) not in (None, "]"):
                self.pos += 1
                high = self.bracket_char()
                if isinstance(high, CharSet) or high < low:
                    raise self.error("bad range in '[...]'")
                ranges.append((low, high))
            else:
                ranges.append((low, low))
        if any(hi > 0x7F for _, hi in ranges):
            raise RegexSyntaxError("characters past ASCII in '[...]' are not supported", start)
        return CharSet.of(ranges, negate)

    def bracket_char(self) -> int | CharSet:
        if self.peek() == "\\":
            node = self.escape()
            return node if isinstance(node, CharSet) else ord(node.text)
        char = self.text[self.pos]
        self.pos += 1
        return ord(char)


def parse_spec(text: str) -> Regex:
    """The tree of one file_contexts specification (matched against whole paths).
    Raises :class:`RegexSyntaxError` outside the supported subset."""
    node = _Parser(text).parse()
    if size(node) > MAX_SIZE:
        raise RegexSyntaxError(f"longer than {MAX_SIZE:,} characters once repetitions are "
                               "copied out", 0)
    return node


# Characters that make a specification a regular expression, as libselinux's
# spec_hasMetaChars counts them (a backslash hides the character after it).
_META = frozenset(".^$?*+|[({")


def has_meta_chars(text: str) -> bool:
    """Does libselinux treat ``text`` as a regular expression rather than an exact
    path? (Exact specifications are tried first.)"""
    index = 0
    while index < len(text):
        if text[index] in _META:
            return True
        index += 2 if text[index] == "\\" else 1
    return False
