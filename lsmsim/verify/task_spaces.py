"""``userns`` and ``io_uring`` as Z3 formulas, mirroring the rules' ``matches``."""
from __future__ import annotations

from ..lazy import z3

from ..model.regex import ANY_CHAR
from ..model.task_classes import (IO_URING_PERMS, USERNS_PERMS, IoUringRequest, IoUringRule,
                                  UsernsRequest, UsernsRule)
from .encoders import RuleSpace, _any
from .z3regex import READABLE, model_text, to_z3, z3_text


class UsernsSpace(RuleSpace):
    """A symbolic userns request: the permission as an index."""

    def __init__(self, name: str = "userns"):
        self.perm = z3.Int(f"{name}_perm")

    def domain(self) -> z3.BoolRef:
        return z3.And(self.perm >= 0, self.perm < len(USERNS_PERMS))

    def rule(self, rule: UsernsRule) -> z3.BoolRef:
        return _any(self.perm == USERNS_PERMS.index(p) for p in sorted(rule.perms))

    def substitute(self, formula: z3.BoolRef, request: UsernsRequest) -> z3.BoolRef:
        return z3.substitute(formula, (self.perm, z3.IntVal(USERNS_PERMS.index(request.perm))))

    def value(self, model: z3.ModelRef) -> UsernsRequest:
        return UsernsRequest(USERNS_PERMS[model.eval(self.perm, model_completion=True).as_long()])


class IoUringSpace(RuleSpace):
    """A symbolic io_uring request: the permission and the label of the credentials
    taken over (a non-empty label for ``override_creds``, empty for ``sqpoll``)."""

    def __init__(self, name: str = "io_uring"):
        self.perm = z3.Int(f"{name}_perm")
        self.label = z3.String(f"{name}_label")

    def domain(self) -> z3.BoolRef:
        sqpoll = self.perm == IO_URING_PERMS.index("sqpoll")
        return z3.And(self.perm >= 0, self.perm < len(IO_URING_PERMS),
                      z3.InRe(self.label, z3.Star(to_z3(ANY_CHAR))),
                      z3.If(sqpoll, self.label == z3_text(""), z3.Length(self.label) > 0))

    def readable(self):
        return ((z3.InRe(self.label, z3.Star(to_z3(READABLE))),),)

    def rule(self, rule: IoUringRule) -> z3.BoolRef:
        perm = _any(self.perm == IO_URING_PERMS.index(p) for p in sorted(rule.perms))
        if rule.label is None:
            return perm
        return z3.And(perm, z3.Or(self.perm == IO_URING_PERMS.index("sqpoll"),
                                  z3.InRe(self.label, to_z3(rule.label.regex))))

    def substitute(self, formula: z3.BoolRef, request: IoUringRequest) -> z3.BoolRef:
        return z3.substitute(formula, (self.perm, z3.IntVal(IO_URING_PERMS.index(request.perm))),
                             (self.label, z3_text(request.label)))

    def value(self, model: z3.ModelRef) -> IoUringRequest:
        perm = IO_URING_PERMS[model.eval(self.perm, model_completion=True).as_long()]
        return IoUringRequest(perm, model_text(model.eval(self.label, model_completion=True)))
