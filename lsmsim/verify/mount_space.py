"""The mount class as Z3 formulas: a symbolic mount, umount or pivot_root request
and each :class:`MountRule` as the disjunction of its entries.

The formulas mirror :meth:`MountEntry.matches` field for field; the tests
substitute concrete requests and compare with the simulator. The domain holds only
requests the kernel can make (see :mod:`lsmsim.model.mount`): each kind of mount
with the flags it passes on and the fields it fills.
"""
from __future__ import annotations

from typing import Iterable

from ..lazy import z3

from ..model.glob import Glob
from ..model.mount import (BIND, BIND_REQUEST_FLAGS, CHANGE_TYPE_REQUEST_FLAGS, MOVE,
                           NEW_MOUNT_EXCLUDED, OPERATIONS, PROPAGATION, REMOUNT, REQUEST_FLAGS,
                           FlagPattern, MountEntry, MountRequest, MountRule)
from ..model.regex import ANY_CHAR, CharSet
from .encoders import RuleSpace, _any
from .z3regex import READABLE, canonical_path, model_text, to_z3, z3_text

_WORDS = CharSet.of([*READABLE.ranges, (ord("/"), ord("/"))])


class MountSpace(RuleSpace):
    """A symbolic mount-class request: operation, mount point, source, filesystem
    type and the 32 flag bits."""

    def __init__(self, name: str = "mnt"):
        self.op = z3.Int(f"{name}_op")
        self.mountpoint = z3.String(f"{name}_point")
        self.source = z3.String(f"{name}_source")
        self.fstype = z3.String(f"{name}_fstype")
        self.flags = [z3.Bool(f"{name}_flag{bit}") for bit in range(32)]

    def _only(self, bits: Iterable[int]) -> z3.BoolRef:
        """No flag outside ``bits`` is set."""
        allowed = set(bits)
        return z3.And(*(z3.Not(f) for bit, f in enumerate(self.flags) if bit not in allowed))

    def _empty(self, *fields: z3.SeqRef) -> list[z3.BoolRef]:
        return [f == z3_text("") for f in fields]

    def domain(self) -> z3.BoolRef:
        path, anything = canonical_path(), z3.Star(to_z3(ANY_CHAR))
        flag = self.flags
        propagation = _any(flag[b] for b in sorted(PROPAGATION))
        remount = z3.And(flag[REMOUNT], self._only(REQUEST_FLAGS),
                         *self._empty(self.source, self.fstype))
        bind = z3.And(z3.Not(flag[REMOUNT]), flag[BIND], self._only(BIND_REQUEST_FLAGS),
                      z3.InRe(self.source, path), *self._empty(self.fstype))
        change_type = z3.And(z3.Not(flag[REMOUNT]), z3.Not(flag[BIND]), propagation,
                             self._only(CHANGE_TYPE_REQUEST_FLAGS),
                             *self._empty(self.source, self.fstype))
        move = z3.And(flag[MOVE], self._only({MOVE}), z3.InRe(self.source, path),
                      *self._empty(self.fstype))
        new = z3.And(self._only(REQUEST_FLAGS - NEW_MOUNT_EXCLUDED),
                     z3.InRe(self.source, anything), z3.InRe(self.fstype, anything))
        mount = z3.And(self.op == OPERATIONS.index("mount"), z3.Or(remount, bind, change_type,
                                                                   move, new))
        umount = z3.And(self.op == OPERATIONS.index("umount"), self._only(()),
                        *self._empty(self.source, self.fstype))
        pivot_root = z3.And(self.op == OPERATIONS.index("pivot_root"), self._only(()),
                            z3.InRe(self.source, path), *self._empty(self.fstype))
        return z3.And(z3.InRe(self.mountpoint, path), z3.Or(mount, umount, pivot_root))

    def readable(self):
        words = z3.Star(to_z3(_WORDS))
        return ((z3.InRe(self.mountpoint, canonical_path(READABLE)), z3.InRe(self.source, words),
                 z3.InRe(self.fstype, words)),)

    @staticmethod
    def _glob(var: z3.SeqRef, glob: Glob) -> z3.BoolRef:
        if glob.is_literal:
            return var == z3_text(glob.text)
        return z3.InRe(var, to_z3(glob.regex))

    def _flags(self, pattern: FlagPattern) -> z3.BoolRef:
        if pattern.every:
            return z3.BoolVal(True)
        return z3.And(*(self.flags[b] for b in sorted(pattern.required)),
                      self._only(pattern.required | pattern.optional))

    def entry(self, entry: MountEntry) -> z3.BoolRef:
        parts = [self.op == OPERATIONS.index(entry.operation), self._flags(entry.flags)]
        if entry.mountpoint is not None:
            parts.append(self._glob(self.mountpoint, entry.mountpoint))
        if entry.source is not None:
            parts.append(self._glob(self.source, entry.source))
        if entry.fstypes is not None:
            parts.append(_any(self._glob(self.fstype, g) for g in entry.fstypes))
        return z3.And(*parts)

    def rule(self, rule: MountRule) -> z3.BoolRef:
        return _any(self.entry(e) for e in rule.entries)

    def substitute(self, formula: z3.BoolRef, request: MountRequest) -> z3.BoolRef:
        return z3.substitute(
            formula, (self.op, z3.IntVal(OPERATIONS.index(request.operation))),
            (self.mountpoint, z3_text(request.mountpoint)),
            (self.source, z3_text(request.source)), (self.fstype, z3_text(request.fstype)),
            *((f, z3.BoolVal(bit in request.flags)) for bit, f in enumerate(self.flags)))

    def value(self, model: z3.ModelRef) -> MountRequest:
        def text(var):
            return model_text(model.eval(var, model_completion=True))
        flags = frozenset(bit for bit, f in enumerate(self.flags)
                          if z3.is_true(model.eval(f, model_completion=True)))
        op = OPERATIONS[model.eval(self.op, model_completion=True).as_long()]
        return MountRequest(op, text(self.mountpoint), text(self.source), text(self.fstype),
                            flags)

    def same_kind(self, request: MountRequest) -> z3.BoolRef:
        """Requests of the operation (and, for mounts, the kind of mount) of ``request``:
        one witness per kind is enough."""
        same_op = self.op == OPERATIONS.index(request.operation)
        if request.operation != "mount":
            return same_op
        flag = self.flags
        kinds = {"remount": flag[REMOUNT],
                 "bind": z3.And(z3.Not(flag[REMOUNT]), flag[BIND]),
                 "change type": z3.And(z3.Not(flag[REMOUNT]), z3.Not(flag[BIND]),
                                       _any(flag[b] for b in sorted(PROPAGATION))),
                 "move": z3.And(flag[MOVE], self._only({MOVE}))}
        others = z3.Not(_any(kinds.values()))
        return z3.And(same_op, kinds.get(request.kind, others))
