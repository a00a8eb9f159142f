"""CIL text → S-expressions with positions, with the Lark grammar ``grammars/cil.lark``.

An :class:`SList` is one parenthesised list; its items are symbols (``str``), quoted
strings (:class:`Quoted`) or nested lists. Meaning is given later, keyword by keyword.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from sys import intern

from lark import Lark, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ...errors import PolicyError, Position
from ...grammars import lark_parser
from ...model.source import Source
from ..nesting import MAX_NESTING, too_deep


class Quoted(str):
    """A quoted string (a file name or path), kept apart from symbols."""


class CilText:
    """One file's name and text. Positions are asked for only by the statements a
    policy reports (and by errors): the first few are counted in the text, and where
    lines start is indexed once a file is asked more often."""

    __slots__ = ("name", "text", "_starts", "_asked")

    def __init__(self, name: str, text: str):
        self.name, self.text, self._starts, self._asked = name, text, None, 0

    def line_column(self, offset: int) -> tuple[int, int]:
        """The 1-based line and column of an offset (lines end at ``\\n``)."""
        starts = self._starts
        if starts is None:
            self._asked += 1
            if self._asked <= _COUNTED:
                text = self.text
                return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)
            starts = self._starts = [0] + [m.end() for m in _NEWLINE.finditer(self.text)]
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1


# How many positions of a file are found by counting before its lines are indexed.
_COUNTED = 32
_NEWLINE = re.compile("\n")


class SList:
    """One list: its items and where it is written. Never changed once built;
    compared and hashed by identity, as nodes of a tree are.

    A policy holds about a million lists, so each is small: where it starts is the
    offset of the statement it is part of (one number shared by the statement's
    lists) plus a small offset within it, which Python does not allocate anew; line
    and column are worked out from the offset when asked for."""

    __slots__ = ("items", "text", "_base", "_offset", "_length")

    def __init__(self, items: tuple, text: CilText, base: int, offset: int, length: int):
        self.items, self.text = items, text
        self._base, self._offset, self._length = base, offset, length

    def with_items(self, items: tuple) -> "SList":
        """A list of other items written where this one is (for messages)."""
        return SList(items, self.text, self._base, self._offset, self._length)

    @property
    def file(self) -> str:
        return self.text.name

    @property
    def start(self) -> int:
        return self._base + self._offset

    @property
    def end(self) -> int:
        return self._base + self._offset + self._length

    @property
    def line(self) -> int:
        return self.text.line_column(self.start)[0]

    @property
    def column(self) -> int:
        return self.text.line_column(self.start)[1]

    @property
    def position(self) -> Position:
        return Position(self.text.name, *self.text.line_column(self.start))

    @property
    def head(self) -> str | None:
        first = self.items[0] if self.items else None
        return first if type(first) is str else None

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"SList({self.items!r}, {self.file!r}, {self.line}, {self.column})"


# The next item of a run of lists (see cil.lark). Lists in the shapes nearly every
# statement has are matched whole: (words (words (words))) as access rules are
# written, (words (words)) and (words); any other list is read item by item: an
# opening parenthesis, a closing one, a quoted string, a word (the group that matched
# says which).
_NEXT = re.compile(
    r"\s*+(?:\(([^()\"]*+)\(([^()\"]*+)\(([^()\"]*+)\)\s*+\)()\s*+\)"
    r"|\(([^()\"]*+)\(([^()\"]*+)\)\s*+\)"
    r"|\(([^()\"]*+)\)"
    r"|(\()|(\))|\"([^\"]*+)\"|([^\s()\"]++))")
_RULE, _PAIR, _FLAT, _OPEN, _CLOSE, _STRING, _WORD = 4, 6, 7, 8, 9, 10, 11
# How deep a list of a run may nest (the grammar's pattern).
RUN_DEPTH = 6


class Words(dict):
    """Word lists already split, by their text: a policy writes the same few thousand
    names and permission lists hundreds of thousands of times, and each is kept once
    (its words interned). One table may serve every file of a policy."""

    def __missing__(self, text: str) -> tuple:
        words = self[text] = tuple(map(intern, text.split()))
        return words


class _ToLists(Transformer):
    """Builds :class:`SList` nodes while the LALR parser runs (no parse tree)."""

    def __init__(self):
        super().__init__(visit_tokens=False)
        self.text = CilText("", "")
        self.words = Words()
        self.depth: dict[int, int] = {}  # id of a ``list`` node → how deep it nests

    def _items(self, tokens) -> list:
        out: list = []
        for token in tokens:
            kind = getattr(token, "type", None)
            if kind == "SYMBOL":
                out.append(intern(token.value))
            elif kind == "STATEMENTS":
                out += self._statements(token.start_pos, token.end_pos)
            elif kind == "STRING":
                out.append(Quoted(token.value[1:-1]))
            else:
                out.append(token)
        return out

    def _statements(self, start: int, end: int) -> list[SList]:
        """The lists of a ``STATEMENTS`` token, from offset ``start`` to ``end``.

        Each list of the run's top level, and each list matched whole, has its own
        ``base`` (its offset in the file); the lists within one have small offsets
        from it."""
        text, words = self.text, self.words
        out: list = []
        items = out
        stack: list[tuple[list, int]] = []
        base = start
        for match in _NEXT.finditer(text.text, start, end):
            kind = match.lastindex
            if kind == _RULE:
                here, stop = match.start(1) - 1, match.end()
                head, middle, inner = match.group(1, 2, 3)
                middle_at = 1 + len(head)
                inner_at = middle_at + 1 + len(middle)
                inner_list = SList(words[inner], text, here, inner_at, len(inner) + 2)
                middle_list = SList(words[middle] + (inner_list,), text, here, middle_at,
                                    match.end(_RULE) - here - middle_at)
                items.append(SList(words[head] + (middle_list,), text, here, 0, stop - here))
            elif kind == _FLAT:
                here, stop = match.start(_FLAT) - 1, match.end()
                items.append(SList(words[match.group(_FLAT)], text, here, 0, stop - here))
            elif kind == _WORD:
                items.append(intern(match.group(_WORD)))
            elif kind == _OPEN:
                opened = match.start(_OPEN)
                if not stack:
                    base = opened
                stack.append((items, opened))
                items = []
            elif kind == _CLOSE:
                found = tuple(items)
                items, opened = stack.pop()
                items.append(SList(found, text, base, opened - base, match.end() - opened))
            elif kind == _PAIR:
                here, stop = match.start(5) - 1, match.end()
                head, inner = match.group(5, 6)
                inner_at = 1 + len(head)
                inner_list = SList(words[inner], text, here, inner_at, len(inner) + 2)
                items.append(SList(words[head] + (inner_list,), text, here, 0, stop - here))
            else:
                items.append(Quoted(match.group(_STRING)))
        return out

    def list(self, children):
        first, last = children[0], children[-1]
        items = tuple(self._items(children[1:-1]))
        node = SList(items, self.text, first.start_pos, 0, last.end_pos - first.start_pos)
        # Nesting is measured here, as lists are built, so no later pass recurses
        # into a list nested past the limit (a STATEMENTS list is at most RUN_DEPTH deep).
        depth = 1 + max((self.depth.get(id(i), RUN_DEPTH) for i in items if type(i) is SList),
                        default=0)
        if depth > MAX_NESTING:
            raise too_deep(node.position)
        self.depth[id(node)] = depth
        return node

    def start(self, children):
        self.depth.clear()
        for child in children:
            if type(child) is not SList and getattr(child, "type", None) in ("SYMBOL", "STRING"):
                raise PolicyError(f"a statement is expected here, not {child.value[:40]!r}",
                                  Position(self.text.name, child.line, child.column))
        return tuple(self._items(children))


@lru_cache(maxsize=1)
def _parser() -> tuple[Lark, _ToLists]:
    # The transformer is embedded in the parser (LALR only): no tree is built. It
    # is built once; each parse tells the transformer which file it reads. With
    # runs of lists as single tokens the parser sees few tokens (about 15,000 for a
    # distribution's policy), and lark-cython no longer pays.
    lists = _ToLists()
    return lark_parser("cil.lark", transformer=lists), lists


def parse_cil(text: str, file: str, words: Words | None = None) -> tuple:
    """Parse CIL text into top-level items; errors carry file, line and column.
    ``words`` shares split word lists between the files of one policy."""
    parser, lists = _parser()
    lists.text = CilText(file, text)
    lists.words = Words() if words is None else words
    lists.depth.clear()
    try:
        return parser.parse(text)
    except UnexpectedInput as error:
        line, column = getattr(error, "line", None), getattr(error, "column", None)
        if isinstance(error, UnexpectedEOF) or line is None or line < 1 or (
                isinstance(error, UnexpectedToken) and error.token.type == "$END"):
            message = "unexpected end of file (a '(' is not closed)"
            opened = _unclosed(text)
            if opened is not None:
                line, column = opened
            else:
                lines = text.splitlines() or [""]
                line, column = len(lines), len(lines[-1]) + 1
        elif isinstance(error, UnexpectedCharacters):
            message = f"syntax error at {text[error.pos_in_stream]!r}"
        else:
            token = error.token
            message = ("unbalanced ')'" if token.type == "RPAR"
                       else f"syntax error at {getattr(token, 'value', token)!r}")
        raise PolicyError(message, Position(file, line, column)) from None
    finally:
        # The parser outlives the parse: it keeps neither the text nor the words.
        lists.text = CilText("", "")
        lists.words = Words()


def _unclosed(text: str) -> tuple[int, int] | None:
    """Where the first '(' that is never closed was written."""
    stack: list[int] = []
    in_comment = in_string = False
    for i, ch in enumerate(text):
        if in_comment:
            in_comment = ch != "\n"
        elif in_string:
            in_string = ch != '"'
        elif ch == ";":
            in_comment = True
        elif ch == '"':
            in_string = True
        elif ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            stack.pop()
    if not stack:
        return None
    offset = stack[0]
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def source_of(node: SList) -> Source:
    """The node's text (whitespace folded) and position, for reports."""
    return _StatementSource(node)


class _StatementSource(Source):
    """A statement's :class:`Source`, read from its file when first asked for: a
    distribution's policy has hundreds of thousands of rules and a report names a
    few, so their text and positions are not copied out as the policy is read.
    Equal to (and hashed as) the plain :class:`Source` with the same fields; it
    pickles as one."""

    __slots__ = ("_where", "_base", "_offset", "_length")

    def __init__(self, node: SList | None = None, **fields):  # pylint: disable=W0231
        setattr_ = object.__setattr__
        if node is None:  # dataclasses.replace() builds a copy from the fields
            for name, value in fields.items():
                setattr_(self, name, value)
            return
        setattr_(self, "_where", node.text)
        setattr_(self, "_base", node._base)
        setattr_(self, "_offset", node._offset)
        setattr_(self, "_length", node._length)

    def __getattr__(self, name: str):
        # Only the dataclass fields are missing until first asked for.
        if name not in _SOURCE_FIELDS:
            raise AttributeError(name)
        where = object.__getattribute__(self, "_where")
        start = object.__getattribute__(self, "_base") + object.__getattribute__(self, "_offset")
        line, column = where.line_column(start)
        text = " ".join(where.text[start:start + object.__getattribute__(self, "_length")].split())
        fields = self.__dict__
        fields.update(file=where.name, line=line, column=column, text=text)
        return fields[name]

    def _fields(self) -> tuple:
        return (self.file, self.line, self.column, self.text)

    def __eq__(self, other):
        if isinstance(other, Source):
            return self._fields() == (other.file, other.line, other.column, other.text)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._fields())

    def __reduce__(self):
        return (Source, self._fields())


_SOURCE_FIELDS = frozenset(("file", "line", "column", "text"))
