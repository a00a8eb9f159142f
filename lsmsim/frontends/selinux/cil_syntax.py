"""CIL text → S-expressions with positions, with the Lark grammar ``grammars/cil.lark``.

An :class:`SList` is one parenthesised list; its items are symbols (``str``), quoted
strings (:class:`Quoted`) or nested lists. Meaning is given later, keyword by keyword.
"""
from __future__ import annotations

import re
from sys import intern
from functools import lru_cache

from lark import Lark, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ...errors import PolicyError, Position
from ...grammars import grammar_file
from ...model.source import Source
from ..nesting import MAX_NESTING, too_deep

GRAMMAR = grammar_file("cil.lark")


class Quoted(str):
    """A quoted string (a file name or path), kept apart from symbols."""


class SList:
    """One list: its items and where it starts and ends in its file. Never changed
    once built; compared and hashed by identity, as nodes of a tree are.

    A policy holds millions of lists, so each is small: its offsets are kept as the
    offset of the token it was read from (shared by every list of that token) plus
    small offsets within it, which Python does not allocate anew."""

    __slots__ = ("items", "file", "line", "column", "_base", "_offset", "_length")

    def __init__(self, items: tuple, file: str, line: int, column: int, start: int, end: int):
        self.items, self.file, self.line, self.column = items, file, line, column
        self._base, self._offset, self._length = start, 0, end - start

    @classmethod
    def within(cls, items: tuple, file: str, line: int, column: int, base: int, offset: int,
               length: int) -> "SList":
        """A list found ``offset`` characters into a token that starts at ``base``."""
        node = cls.__new__(cls)
        node.items, node.file, node.line, node.column = items, file, line, column
        node._base, node._offset, node._length = base, offset, length
        return node

    @property
    def start(self) -> int:
        return self._base + self._offset

    @property
    def end(self) -> int:
        return self._base + self._offset + self._length

    @property
    def position(self) -> Position:
        return Position(self.file, self.line, self.column)

    @property
    def head(self) -> str | None:
        first = self.items[0] if self.items else None
        return first if type(first) is str else None

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"SList({self.items!r}, {self.file!r}, {self.line}, {self.column})"


class _ToLists(Transformer):
    """Builds :class:`SList` nodes while the LALR parser runs (no parse tree).

    Works on tokens of Lark and of lark-cython alike (both carry ``type``, ``value``
    and positions)."""

    def __init__(self, file: str):
        super().__init__(visit_tokens=False)
        self.file = file
        self.depth: dict[int, int] = {}  # id of a ``list`` node → how deep it nests

    def _atom(self, token):
        kind = getattr(token, "type", None)
        if kind == "SYMBOL":
            return intern(token.value)
        if kind == "NESTED":
            return self._nested(token)
        if kind == "STRING":
            return Quoted(token.value[1:-1])
        return token

    def _nested(self, token) -> SList:
        """A ``NESTED`` token's lists (at most three deep, symbols only): the lexer
        has found where each list ends; this splits them at parentheses and blanks,
        an innermost list in one step. Words are interned: a policy writes the same
        few thousand names millions of times."""
        text, base, file = token.value, token.start_pos, self.file
        if "\n" in text:
            where = _positions(token.line, token.column, text)
        else:
            line, column = token.line, token.column
            where = None
        stack: list[tuple[list, int]] = []
        items: list = []
        append = items.append
        for match in _ITEM.finditer(text):
            kind = match.lastindex
            if kind == _WORD:
                append(intern(match.group(_WORD)))
                continue
            opened = match.start()
            if kind == _OPEN:
                stack.append((items, opened))
                items = []
                append = items.append
                continue
            if kind == _FLAT:
                words, stop = tuple(map(intern, match.group(_FLAT)[1:-1].split())), match.end()
            else:
                words = tuple(items)
                items, opened = stack.pop()
                append = items.append
                stop = match.end()
            at_line, at_column = where(opened) if where else (line, column + opened)
            append(SList.within(words, file, at_line, at_column, base, opened, stop - opened))
        return items[0]

    def list(self, children):
        first, last = children[0], children[-1]
        items = tuple(self._atom(c) for c in children[1:-1])
        node = SList(items, self.file, first.line, first.column, first.start_pos,
                     last.end_pos)
        # Nesting is measured here, as lists are built, so no later pass recurses
        # into a list nested past the limit (a NESTED token is at most 3 deep).
        depth = 1 + max((self.depth.get(id(i), 3) for i in items if type(i) is SList),
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
                                  Position(self.file, child.line, child.column))
        return tuple(self._atom(c) for c in children)


# A word, an innermost list, an opening or a closing parenthesis (the group that
# matched says which).
_ITEM = re.compile(r"([^\s()]+)|(\([^()]*\))|(\()|(\))")
_WORD, _FLAT, _OPEN, _CLOSE = 1, 2, 3, 4


def _positions(line: int, column: int, text: str):
    """Line and column of an offset into a token that starts at ``line``:``column``."""
    if "\n" not in text:
        return lambda offset: (line, column + offset)

    def where(offset: int) -> tuple[int, int]:
        newline = text.rfind("\n", 0, offset)
        if newline < 0:
            return line, column + offset
        return line + text.count("\n", 0, offset), offset - newline
    return where


@lru_cache(maxsize=1)
def _parser() -> tuple[Lark, _ToLists]:
    # The transformer is embedded in the parser (LALR only): no tree is built. It
    # is built once; each parse tells the transformer which file it reads.
    # lark-cython, where installed, runs the same grammar and tables about twice as fast.
    lists = _ToLists("")
    return Lark(GRAMMAR.read_text(), parser="lalr", lexer="basic", transformer=lists,
                maybe_placeholders=False, **_fast_plugins()), lists


def _fast_plugins() -> dict:
    try:
        import lark_cython
    except ImportError:
        return {}
    return {"_plugins": lark_cython.plugins}


def parse_cil(text: str, file: str) -> tuple:
    """Parse CIL text into top-level items; errors carry file, line and column."""
    try:
        parser, lists = _parser()
        lists.file = file
        lists.depth.clear()
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


def source_of(node: SList, text: str) -> Source:
    """The node's text (whitespace folded) and position, for reports."""
    return Source(node.file, node.line, node.column, " ".join(text[node.start:node.end].split()))
