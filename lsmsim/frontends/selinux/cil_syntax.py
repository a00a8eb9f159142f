"""CIL text → S-expressions with positions, with the Lark grammar ``grammars/cil.lark``.

An :class:`SList` is one parenthesised list; its items are symbols (``str``), quoted
strings (:class:`Quoted`) or nested lists. Meaning is given later, keyword by keyword.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ...errors import PolicyError, Position
from ...grammars import grammar_file
from ...model.source import Source

GRAMMAR = grammar_file("cil.lark")


class Quoted(str):
    """A quoted string (a file name or path), kept apart from symbols."""


@dataclass(frozen=True, slots=True)
class SList:
    """One list: its items and where it starts and ends in its file."""

    items: tuple
    file: str
    line: int
    column: int
    start: int
    end: int

    @property
    def position(self) -> Position:
        return Position(self.file, self.line, self.column)

    @property
    def head(self) -> str | None:
        first = self.items[0] if self.items else None
        return first if type(first) is str else None

    def __len__(self) -> int:
        return len(self.items)


class _ToLists(Transformer):
    """Builds :class:`SList` nodes while the LALR parser runs (no parse tree)."""

    def __init__(self, file: str):
        super().__init__(visit_tokens=False)
        self.file = file

    def _atom(self, token):
        if type(token) is not Token:
            return token
        kind = token.type
        if kind == "SYMBOL":
            return str(token)
        if kind == "FLAT":
            text = str(token)
            return SList(tuple(text[1:-1].split()), self.file, token.line, token.column,
                         token.start_pos, token.end_pos)
        return Quoted(str(token)[1:-1])

    def list(self, children):
        first, last = children[0], children[-1]
        return SList(tuple(self._atom(c) for c in children[1:-1]), self.file, first.line,
                     first.column, first.start_pos, last.end_pos)

    def start(self, children):
        return tuple(self._atom(c) for c in children)


@lru_cache(maxsize=1)
def _parser() -> tuple[Lark, _ToLists]:
    # The transformer is embedded in the parser (LALR only): no tree is built. It
    # is built once; each parse tells the transformer which file it reads.
    lists = _ToLists("")
    return Lark(GRAMMAR.read_text(), parser="lalr", lexer="basic", transformer=lists,
                maybe_placeholders=False), lists


def parse_cil(text: str, file: str) -> tuple:
    """Parse CIL text into top-level items; errors carry file, line and column."""
    try:
        parser, lists = _parser()
        lists.file = file
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
                       else f"syntax error at {str(token)!r}")
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
