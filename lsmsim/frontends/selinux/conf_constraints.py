"""``constrain``/``mlsconstrain`` expressions of policy.conf, checked and with
their name sets resolved (attributes and role attributes expanded)."""
from __future__ import annotations

from ...model.selinux import CExpr
from ...model.source import Source
from .conf_common import _OPERAND_KIND, _err
from .parser import Names


class ConstraintPass:
    """Resolves constraint expressions."""

    # ------------------------------------------------------------------ constraints
    def _cexpr(self, expr: CExpr, src: Source, mls: bool) -> CExpr:
        if expr.op in ("and", "or", "not"):
            return CExpr(expr.op, tuple(self._cexpr(a, src, mls) for a in expr.args))
        op, left, right = expr.args
        if left.endswith("3") or (expr.op == "attr" and right.endswith("3")):
            raise _err(f"{left if left.endswith('3') else right} is only allowed in "
                       "validatetrans", src)
        if left[0] in "lh":
            if expr.op != "attr" or right[0] not in "lh":
                raise _err(f"{left} can only be compared with a level (l1 l2 h1 h2)", src)
            if not mls:
                raise _err("levels can only be compared in mlsconstrain", src)
            return expr
        if op in ("dom", "domby", "incomp") and left[0] != "r":
            raise _err(f"'{op}' compares roles or levels, not {left}", src)
        if expr.op == "attr" and op in ("dom", "domby", "incomp") and (left, right) != ("r1", "r2"):
            raise _err(f"'{op}' on roles is written r1 {op} r2", src)
        if expr.op == "attr":
            if right[0] != left[0]:
                raise _err(f"cannot compare {left} with {right}", src)
            return expr
        if op in ("dom", "domby", "incomp"):
            raise _err(f"'{op}' compares r1 with r2, not with a set of names", src)
        names: Names = right
        kind = _OPERAND_KIND[left[0]]
        where = names.position or src.position
        if kind == "type":
            resolved = frozenset(self._expand_types(self._type_set(names, src, False, True)))
        elif kind == "role":
            resolved = frozenset(self._roles(names, src))
        else:
            for n in names.items:
                if n not in self.users:
                    raise _err(f"unknown user {n}", where)
            resolved = frozenset(names.items)
            if names.star:
                resolved = frozenset(self.users)
        return CExpr("names", (op, left, resolved))
