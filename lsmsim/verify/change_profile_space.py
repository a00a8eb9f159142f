"""The symbolic meaning of change_profile rules: a request as a target label, an
exec path and whether the change waits for that exec (change_onexec). Mirrors
:meth:`ChangeProfileRule.matches`."""
from __future__ import annotations

from ..lazy import z3

from ..model.change_profile import ChangeProfileRequest, ChangeProfileRule
from ..model.glob import Glob
from ..model.regex import ANY_CHAR
from .encoders import RuleSpace
from .z3regex import PRINTABLE, READABLE, canonical_path, model_text, to_z3, z3_text


def _in(var: z3.SeqRef, glob: Glob) -> z3.BoolRef:
    if glob.is_literal:
        return var == z3_text(glob.text)
    return z3.InRe(var, to_z3(glob.regex))


class ChangeProfileSpace(RuleSpace):
    """A symbolic change_profile request."""

    def __init__(self, name: str = "change"):
        self.target = z3.String(f"{name}_target")
        self.exec = z3.String(f"{name}_exec")
        self.onexec = z3.Bool(f"{name}_onexec")

    def domain(self) -> z3.BoolRef:
        # A change now has no exec path: pin it, so that one change has one model.
        return z3.And(z3.Length(self.target) > 0, z3.InRe(self.target, z3.Star(to_z3(ANY_CHAR))),
                      z3.If(self.onexec, z3.InRe(self.exec, canonical_path()),
                            self.exec == z3_text("")))

    def readable(self):
        return ((z3.Not(self.onexec), z3.InRe(self.target, z3.Plus(to_z3(READABLE)))),
                (z3.InRe(self.target, z3.Plus(to_z3(PRINTABLE))),))

    def rule(self, rule: ChangeProfileRule) -> z3.BoolRef:
        target, exec_glob = rule.target, rule.exec_glob
        if not rule.deny:
            return z3.And(_in(self.target, target),
                          z3.Or(z3.Not(self.onexec), _in(self.exec, exec_glob)))
        return z3.Or(_in(self.target, target),
                     z3.And(self.onexec, z3.Or(_in(self.target, exec_glob), _in(self.exec, target),
                                               _in(self.exec, exec_glob))))

    def not_stacking(self) -> z3.BoolRef:
        return z3.Not(z3.PrefixOf(z3_text("&"), self.target))

    def is_one_of(self, labels) -> z3.BoolRef:
        return z3.Or(*(self.target == z3_text(label) for label in labels)) if labels \
            else z3.BoolVal(False)

    def substitute(self, formula: z3.BoolRef, request: ChangeProfileRequest) -> z3.BoolRef:
        return z3.substitute(formula, (self.target, z3_text(request.target)),
                             (self.exec, z3_text(request.exec or "")),
                             (self.onexec, z3.BoolVal(request.exec is not None)))

    def value(self, model: z3.ModelRef) -> ChangeProfileRequest:
        onexec = z3.is_true(model.eval(self.onexec, model_completion=True))
        exec_path = model_text(model.eval(self.exec, model_completion=True)) if onexec else None
        return ChangeProfileRequest(model_text(model.eval(self.target, model_completion=True)),
                                    exec_path)
