"""Child rules the parent grants block for block, proven without a solver.

A child allow rule is within the parent, for one class permission, when the parent
has an allow rule over exactly the same source and target types (as bitsets over the
check's universe) granting that permission, which fires whenever the child's does
(unconditional, the same condition in the same layer, or a condition the fixed
booleans make true), and nothing else in the parent's decision can take the
permission away where the child's would not: each of the parent's constraints on it
is also the child's, with the same meaning, no parent ``typebounds`` bounds one of the
sources, and every role change the child allows (``process transition``) the parent
allows too. Whatever this does not prove goes to the solver, so it only saves work.
"""
from __future__ import annotations

from typing import Mapping

from ..model.selinux import AVRule, CExpr, SELinuxPolicy, TypeBits
from ..simulate.selinux import TRANSITION_PERMS


class CoverIndex:
    """The parent's allow rules indexed by (class, source bits, target bits, self).

    ``child_ids``/``parent_ids`` number each policy's types in the check's universe;
    ``same_layer`` says the two share booleans; ``fixed`` holds the booleans fixed on
    both sides."""

    def __init__(self, child: SELinuxPolicy, parent: SELinuxPolicy,
                 child_ids: Mapping[str, list[int]], parent_ids: Mapping[str, list[int]],
                 same_layer: bool, fixed: Mapping[str, bool]):
        self.child, self.parent = child, parent
        self.child_ids, self.parent_ids = child_ids, parent_ids
        self.child_bits = TypeBits(child, child_ids)
        self.parent_bits = self.child_bits if parent is child and parent_ids is child_ids \
            else TypeBits(parent, parent_ids)
        self.same_layer = same_layer
        self.fixed = dict(fixed)
        # Blocks are keyed by a small number per distinct bitset (a bitset over a
        # policy's thousands of types costs its length to hash), numbered once per
        # type set of each side.
        self._numbers: dict[int, int] = {}
        self._child_sets: dict[int, int] = {}
        self._parent_sets: dict[int, int] = self._child_sets \
            if self.parent_bits is self.child_bits else {}
        # Per (class, sources, targets, self): what unconditional rules grant, and the
        # conditional rules (which cover only where their condition holds with the child's).
        # Most blocks have one rule: its own permission set is kept, not a copy.
        always: dict[tuple, frozenset[str]] = {}
        self.always = always
        self.conditional: dict[tuple, list[AVRule]] = {}
        numbered, number, bits = self._parent_sets, self._number, self.parent_bits
        for rule in parent.allow_rules():
            sources = numbered.get(id(rule.sources))
            if sources is None:
                sources = number(bits, numbered, rule.sources)
            targets = numbered.get(id(rule.targets))
            if targets is None:
                targets = number(bits, numbered, rule.targets)
            for tclass, perms in rule.perms:
                key = (tclass, sources, targets, rule.targets.self_)
                if rule.condition is None:
                    found = always.get(key)
                    always[key] = perms if found is None else found | perms
                else:
                    self.conditional.setdefault(key, []).append(rule)
        bounded = 0
        for name in parent.typebounds:
            bounded |= self.parent_bits.name(name)
        self.bounded = bounded
        self.roles_kept = child.role_allows <= parent.role_allows
        self._sound: dict[tuple[str, str], bool] = {}
        self._kept: dict[str, frozenset[str]] = {}

    def _key(self, bits: TypeBits, numbered: dict[int, int], rule: AVRule, tclass: str) -> tuple:
        return (tclass, self._number(bits, numbered, rule.sources),
                self._number(bits, numbered, rule.targets), rule.targets.self_)

    def _number(self, bits: TypeBits, numbered: dict[int, int], types) -> int:
        found = numbered.get(id(types))
        if found is None:
            value = bits.of(types)  # TypeBits keeps the set, so its id stays its own
            found = numbered[id(types)] = self._numbers.setdefault(value, len(self._numbers))
        return found

    def uncovered(self, rule: AVRule, tclass: str, perms: frozenset[str]) -> frozenset[str]:
        """The permissions of ``perms`` (which ``rule`` grants on ``tclass``) the parent
        is not proven to grant wherever ``rule`` makes the child grant them."""
        granted = self._granted_alike(rule, tclass)
        if not granted:
            return perms
        return perms - (granted & self._kept_in_class(tclass))

    def _kept_in_class(self, tclass: str) -> frozenset[str]:
        found = self._kept.get(tclass)
        if found is None:
            perms = set(self.child.classes.get(tclass, ())) | set(
                self.parent.classes.get(tclass, ()))
            found = self._kept[tclass] = frozenset(
                p for p in perms if self._decision_kept(tclass, p))
        return found

    def _granted_alike(self, rule: AVRule, tclass: str) -> frozenset[str]:
        """The permissions of ``tclass`` parent rules over the same types grant
        wherever ``rule`` fires (asked once per rule and class: not kept)."""
        if self.bounded & self.child_bits.of(rule.sources):
            return frozenset()
        block = self._key(self.child_bits, self._child_sets, rule, tclass)
        perms = self.always.get(block, frozenset())
        for candidate in self.conditional.get(block, ()):
            if self._fires_with(candidate, rule):
                perms = perms | candidate.perms_for(tclass)
        return perms

    def _fires_with(self, parent_rule: AVRule, child_rule: AVRule) -> bool:
        condition = parent_rule.condition
        if self.same_layer and condition == child_rule.condition:
            return True
        names = condition.expr.names()
        return names <= self.fixed.keys() and condition.active(self.fixed)

    def _decision_kept(self, tclass: str, perm: str) -> bool:
        """Nothing but the allow rules decides ``tclass perm`` differently in the
        parent than in the child (computed once per class permission)."""
        key = (tclass, perm)
        found = self._sound.get(key)
        if found is None:
            found = self._sound[key] = self._decides_alike(tclass, perm)
        return found

    def _decides_alike(self, tclass: str, perm: str) -> bool:
        if tclass == "process" and perm in TRANSITION_PERMS and not self.roles_kept:
            return False
        child = [c for c in self.child.constraints_for(tclass) if perm in c.perms_for(tclass)]
        parent = [c for c in self.parent.constraints_for(tclass) if perm in c.perms_for(tclass)]
        if self.parent is self.child:
            return True
        if not parent:
            return True
        if (self.child.sensitivities != self.parent.sensitivities
                or self.child.role_dominance != self.parent.role_dominance):
            return False
        exprs = {c.expr for c in child}
        return all(c.expr in exprs and self._same_types(c.expr) for c in parent)

    def _same_types(self, expr: CExpr) -> bool:
        """Each type an expression names means the same types in both policies."""
        if expr.op in ("and", "or", "not"):
            return all(self._same_types(a) for a in expr.args)
        if expr.op == "attr" and expr.args[1][0] == "t":
            # t1 == t2 reads aliases through each policy's own numbering.
            return self.child_ids == self.parent_ids
        if expr.op != "names" or expr.args[1][0] != "t":
            return True
        return all(self.child_ids.get(self.child.canonical_type(n))
                   == self.parent_ids.get(self.parent.canonical_type(n)) for n in expr.args[2])


__all__ = ["CoverIndex"]
