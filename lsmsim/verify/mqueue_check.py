"""``child ⊆ parent`` for ``mqueue``, one witness per permission and queue type: on
automata as strings (:data:`lsmsim.automata.encodings.MQUEUE`), or as Z3 formulas
mirroring :meth:`MqueueRule.matches`.

The kernel side of label matching is not part of mainline Linux; where the answer
would hang on it (a child rule with ``label=``, or a deny rule with one on either
side) the rules are left undecided."""
from __future__ import annotations

from typing import Iterator

from ..lazy import z3

from ..automata.encodings import MQUEUE
from ..model.mqueue import MQUEUE_PERMS, MQUEUE_TYPES, MqueueRequest, MqueueRule
from ..model.regex import ANY_CHAR, NOT_SLASH
from .context import CheckContext
from .encoders import RuleSpace, _any
from .named_check import _check_named
from .result import Undecided
from .z3regex import READABLE, model_text, to_z3, z3_text


class MqueueSpace(RuleSpace):
    """A symbolic mqueue request: permission, queue type, queue name and queue label."""

    def __init__(self, name: str = "mqueue"):
        self.perm = z3.Int(f"{name}_perm")
        self.type = z3.Int(f"{name}_type")
        self.name = z3.String(f"{name}_name")
        self.label = z3.String(f"{name}_label")

    def domain(self) -> z3.BoolRef:
        anything = z3.Star(to_z3(ANY_CHAR))
        digit = z3.Range("0", "9")
        key = z3.Union(z3.Re("0"), z3.Concat(z3.Range("1", "9"), z3.Star(digit)))
        posix = self.type == MQUEUE_TYPES.index("posix")
        return z3.And(self.perm >= 0, self.perm < len(MQUEUE_PERMS), self.type >= 0,
                      self.type < len(MQUEUE_TYPES),
                      # Linux POSIX queue names are "/" and one or more non-"/" bytes.
                      z3.If(posix, z3.InRe(self.name, z3.Concat(z3.Re("/"), z3.Plus(
                          to_z3(NOT_SLASH)))),
                            z3.InRe(self.name, key)),
                      z3.InRe(self.label, anything), z3.Length(self.label) > 0)

    def readable(self):
        words = z3.Star(to_z3(READABLE))
        return ((z3.InRe(self.label, words),
                 z3.Or(z3.InRe(self.name, z3.Concat(z3.Re("/"), words)),
                       z3.InRe(self.name, words))),)

    def rule(self, rule: MqueueRule) -> z3.BoolRef:
        parts = [_any(self.perm == MQUEUE_PERMS.index(p) for p in sorted(rule.perms))]
        if rule.queue_type is not None:
            parts.append(self.type == MQUEUE_TYPES.index(rule.queue_type))
        if rule.name is not None:
            parts.append(z3.InRe(self.name, to_z3(rule.name.regex)))
        if rule.label is not None:
            parts.append(z3.Or(self.perm == MQUEUE_PERMS.index("create"),
                               z3.InRe(self.label, to_z3(rule.label.regex))))
        return z3.And(*parts)

    def substitute(self, formula: z3.BoolRef, request: MqueueRequest) -> z3.BoolRef:
        return z3.substitute(formula, (self.perm, z3.IntVal(MQUEUE_PERMS.index(request.perm))),
                             (self.type, z3.IntVal(MQUEUE_TYPES.index(request.queue_type))),
                             (self.name, z3_text(request.name)),
                             (self.label, z3_text(request.label)))

    def value(self, model: z3.ModelRef) -> MqueueRequest:
        def get(var):
            value = model.eval(var, model_completion=True)
            return value.as_long() if z3.is_int(value) else model_text(value)
        return MqueueRequest(MQUEUE_PERMS[get(self.perm)], MQUEUE_TYPES[get(self.type)],
                             get(self.name), get(self.label))


def _block(space: MqueueSpace, rule: MqueueRule, request: MqueueRequest) -> z3.BoolRef:
    return z3.And(space.perm == MQUEUE_PERMS.index(request.perm),
                  space.type == MQUEUE_TYPES.index(request.queue_type))


def check_mqueue(ctx: CheckContext) -> Iterator[object]:
    child, parent = ctx.pair.child.rules_of(MqueueRule), ctx.pair.parent.rules_of(MqueueRule)
    labelled_deny = any(r.deny and r.label is not None for r in (*child, *parent))
    if labelled_deny or any(not r.deny and r.label is not None for r in child):
        for rule in child:
            if not rule.deny:
                yield Undecided(rule.source, "mqueue rules with label= are not compared: the "
                                             "kernel's label matching for queues is not modelled")
        return
    yield from _check_named(ctx, MqueueRule, MqueueSpace, _block, "mqueue", strings=MQUEUE)
