"""Helpers every pass of the policy.conf builder shares: errors at a statement,
token positions, the parts of ``else`` blocks and alias lists, statement names."""
from __future__ import annotations

from ...errors import PolicyError, Position
from ...model.source import Source
from .parser import Stmt

# Statements that label objects or configure the compiler: parsed, checked for
# syntax, not part of access decisions.
_LABELLING = {"sid_decl", "sid_context", "default_stmt", "policycap", "fs_use", "genfscon",
              "portcon", "netifcon", "nodecon", "validatetrans", "mlsvalidatetrans",
              "range_transition", "role_transition", "expandattribute",
              "dominance"}
# Only these may sit inside an ``if`` block (checkpolicy's cond_rule_def).
_CONDITIONAL_OK = {"av_rule", "type_rule"}
_OPERAND_KIND = {"u": "user", "r": "role", "t": "type"}


def _err(message: str, where) -> PolicyError:
    if isinstance(where, Source):
        where = where.position
    return PolicyError(message, where)


def _tpos(token, fallback: Source) -> Position:
    line = getattr(token, "line", None)
    if line:
        return Position(fallback.file, line, token.column)
    return fallback.position


def _split_else(parts) -> tuple[list, list]:
    body, other = [], []
    for part in parts:
        if isinstance(part, tuple) and part[:1] == ("else",):
            other = list(part[1])
        elif isinstance(part, Stmt):
            body.append(part)
    return body, other


def _aliases(parts) -> tuple[str, ...]:
    for part in parts:
        if isinstance(part, tuple) and part[:1] == ("alias",):
            return part[1]
    return ()


def _describe_kind(kind: str) -> str:
    return {"av_rule": "an access rule", "if_stmt": "an 'if' block",
            "optional": "an 'optional' block"}.get(kind, f"'{kind.split('_')[0]}'")
