"""policy.conf text → statements, with the Lark grammar ``grammars/selinux.lark``."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lark import Lark, Token, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ...errors import PolicyError, Position
from ...grammars import lark_parser
from ...model.selinux import XPERM_VALUES, BoolExpr, CExpr
from ...model.source import Source
from ..positions import PositionedTransformer


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # The options are grammars.PARSER_OPTIONS, which the shipped tables are built with.
    return lark_parser("selinux.lark")


@dataclass(frozen=True)
class Names:
    """A name set as written: ``items`` minus ``excluded``; ``star`` = every name;
    ``complement`` = every name except the set (``~``)."""

    items: tuple[str, ...]
    excluded: tuple[str, ...] = ()
    star: bool = False
    complement: bool = False
    position: Position | None = None


@dataclass(frozen=True)
class RawLevel:
    sensitivity: str
    categories: tuple[str, ...]
    position: Position


@dataclass(frozen=True)
class RawContext:
    user: str
    role: str
    type: str
    range: tuple[RawLevel, RawLevel] | None
    position: Position


@dataclass(frozen=True)
class Stmt:
    """One statement: its keyword, its parts (names, sets, nested statements) and
    where it was written."""

    kind: str
    parts: tuple
    source: Source


class _ToStatements(PositionedTransformer):
    """One method per grammar rule; every statement keeps its position and text."""

    def _pos(self, token) -> Position:
        return Position(self.file, token.line, token.column)

    def start(self, children):
        return tuple(c for c in children if c is not None)

    def empty(self, _children):
        return None

    def __default__(self, data, children, meta):
        # Every statement rule not handled below becomes a Stmt of its own name.
        return Stmt(str(data), tuple(children), self._source(meta))

    # --- small pieces ---
    def perm_list(self, children):
        return Names(tuple(str(c) for c in children), position=self._pos(children[0]))

    def name_list(self, children):
        return tuple(str(c) for c in children)

    def alias_def(self, children):
        return ("alias", tuple(str(c) for c in children))

    @v_args(inline=True)
    def bool_value(self, token):
        return str(token) == "true"

    @v_args(inline=True)
    def av_kw(self, token):
        return str(token)

    xperm_kw = type_rule_kw = fs_use_kw = default_kw = av_kw

    # --- extended permissions: a bitmask of ioctl commands ---
    @v_args(meta=True)
    def xperm_item(self, meta, tokens):
        low = int(str(tokens[0]), 0)
        high = int(str(tokens[-1]), 0)
        if not low <= high < XPERM_VALUES:
            raise PolicyError(f"ioctl command range {tokens[0]}-{tokens[-1]} is outside "
                              "0x0000-0xffff or reversed",
                              Position(self.file, meta.line, meta.column))
        return ((1 << (high - low + 1)) - 1) << low

    def xperms(self, items):
        mask = 0
        for item in items:
            mask |= item
        return mask

    def xperms_not(self, items):
        return (XPERM_VALUES_MASK) & ~self.xperms(items)

    @v_args(inline=True)
    def operand(self, token):
        return str(token)

    @v_args(inline=True)
    def cop(self, token):
        return {"==": "eq", "!=": "ne"}.get(str(token), str(token))

    def role_dom(self, children):
        """``role r { role s; ... }``: the role's name token and the nested ones."""
        return (children[0], tuple(children[1:]))

    def else_block(self, children):
        return ("else", tuple(c for c in children if c is not None))

    # --- name sets ---
    @v_args(inline=True)
    def names_one(self, token):
        return Names((str(token),), position=self._pos(token))

    @v_args(meta=True)
    def names_set(self, meta, items):
        return self._set(meta, items, complement=False)

    @v_args(meta=True)
    def names_not_set(self, meta, items):
        return self._set(meta, items, complement=True)

    @v_args(inline=True)
    def names_not_one(self, token):
        return Names((str(token),), complement=True, position=self._pos(token))

    @v_args(meta=True)
    def names_star(self, meta, _children):
        return Names((), star=True, position=Position(self.file, meta.line, meta.column))

    def _set(self, meta, items, complement):
        included, excluded = [], []
        for sign, name in _flatten(items):
            (included if sign else excluded).append(name)
        return Names(tuple(included), tuple(excluded), complement=complement,
                     position=Position(self.file, meta.line, meta.column))

    @v_args(inline=True)
    def item_name(self, token):
        return [(True, str(token))]

    @v_args(inline=True)
    def item_minus(self, token):
        return [(False, str(token))]

    def item_group(self, children):
        return [pair for child in children for pair in child]

    # --- levels and contexts ---
    @v_args(meta=True)
    def level(self, meta, children):
        cats = children[1] if len(children) > 1 else ()
        return RawLevel(str(children[0]), tuple(cats),
                        Position(self.file, meta.line, meta.column))

    def mls_range(self, children):
        return (children[0], children[-1])

    @v_args(meta=True)
    def context(self, meta, children):
        user, role, type_ = (str(c) for c in children[:3])
        return RawContext(user, role, type_, children[3] if len(children) > 3 else None,
                          Position(self.file, meta.line, meta.column))

    # --- boolean conditions ---
    @v_args(inline=True)
    def b_name(self, token):
        return BoolExpr("name", (str(token),))

    def b_not(self, children):
        return BoolExpr("not", tuple(children))

    def b_and(self, children):
        return BoolExpr("and", tuple(children))

    def b_or(self, children):
        return BoolExpr("or", tuple(children))

    def b_xor(self, children):
        return BoolExpr("xor", tuple(children))

    def b_eq(self, children):
        return BoolExpr("eq", tuple(children))

    def b_ne(self, children):
        return BoolExpr("ne", tuple(children))

    # --- constraint expressions (names stay raw until the builder resolves them) ---
    def c_and(self, children):
        return CExpr("and", tuple(children))

    def c_or(self, children):
        return CExpr("or", tuple(children))

    def c_not(self, children):
        return CExpr("not", tuple(children))

    @v_args(inline=True)
    def c_attr(self, left, op, right):
        return CExpr("attr", (op, left, right))

    @v_args(inline=True)
    def c_names(self, left, op, names):
        return CExpr("names", (op, left, names))


XPERM_VALUES_MASK = (1 << XPERM_VALUES) - 1


def _flatten(items):
    for item in items:
        yield from item


def _describe(error: UnexpectedInput, text: str) -> str:
    if isinstance(error, UnexpectedEOF) or (
            isinstance(error, UnexpectedToken) and error.token.type == "$END"):
        return "unexpected end of file (is a '{' not closed, or a ';' missing?)"
    if isinstance(error, UnexpectedCharacters):
        lines = text.splitlines()
        line = lines[error.line - 1] if 0 < error.line <= len(lines) else ""
        word = re.match(r"\S*", line[error.column - 1:]).group(0) or text[error.pos_in_stream]
        return f"syntax error at {word!r}"
    token = error.token
    expected = set(getattr(error, "expected", ()) or ())
    hint = " (expected ';')" if "SEMICOLON" in expected and len(expected) <= 3 else ""
    return f"syntax error at {str(token)!r}{hint}"


def parse_text(text: str, file: str) -> tuple[Stmt, ...]:
    """Parse policy.conf text into statements; errors carry file, line and column."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as error:
        line, column = getattr(error, "line", None), getattr(error, "column", None)
        if line is None or line < 1:
            lines = text.splitlines() or [""]
            line, column = len(lines), len(lines[-1]) + 1
        raise PolicyError(_describe(error, text), Position(file, line, column)) from None
    return _ToStatements(file, text).transform(tree)


def token_text(token: Token | str) -> str:
    return str(token)
