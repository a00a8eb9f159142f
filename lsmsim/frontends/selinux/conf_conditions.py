"""``if``/``else``, ``optional`` and tunables: each statement with the boolean
condition it sits under (tunable conditions decided as the compiler does)."""
from __future__ import annotations

from ...model.selinux import Condition
from .conf_common import _CONDITIONAL_OK, _describe_kind, _err, _split_else
from .parser import Stmt


class ConditionPass:
    """Flattens nested blocks into (statement, condition) pairs."""

    def _flatten(self, statements, condition):
        """Statements with the condition they sit under; tunable conditions are decided
        here, as the compiler does."""
        for stmt in statements:
            if stmt.kind == "optional":
                body, other = _split_else(stmt.parts)
                yield from self._flatten(body, condition)
                continue
            if stmt.kind != "if_stmt":
                yield stmt, condition
                continue
            if condition is not None:
                raise _err("an 'if' block cannot nest inside another", stmt.source)
            expr, rest = stmt.parts[0], stmt.parts[1:]
            body, other = _split_else(rest)
            for inner in body + other:
                if inner.kind not in _CONDITIONAL_OK:
                    raise _err(f"{_describe_kind(inner.kind)} is not allowed inside an 'if' "
                               "block", inner.source)
            names = expr.names()
            tunable = names & set(self.tunable_defaults)
            if tunable and tunable != names:
                raise _err("a condition mixes booleans and tunables", stmt.source)
            if tunable:
                taken = body if expr.evaluate(self.tunable_defaults) else other
                yield from ((s, None) for s in taken)
                continue
            yield from ((s, Condition(expr, True)) for s in body)
            yield from ((s, Condition(expr, False)) for s in other)

    def _tunable_defaults(self, statements) -> dict[str, bool]:
        """Tunables are compile-time switches: known before any ``if`` is flattened."""
        found: dict[str, bool] = {}
        for stmt in statements:
            if stmt.kind == "tunable_decl":
                found[str(stmt.parts[0])] = stmt.parts[1]
            elif stmt.kind == "optional":
                found.update(self._tunable_defaults([p for p in stmt.parts
                                                     if isinstance(p, Stmt)]))
        return found
