"""The symbolic meaning of link rules: a link request as two path variables, and a
profile's link decision (pair entry, and the subset test where the pair asks for
it) as a formula over them. Mirrors ``decide`` on a :class:`LinkRequest`."""
from __future__ import annotations

from typing import Iterable

from ..lazy import z3

from ..model.exec_type import exec_type
from ..model.glob import Glob
from ..model.link import LinkRequest, LinkRule
from ..model.rules import FileRule, Half
from .encoders import FileSpace
from .z3regex import z3_text

# The letters the subset test compares ('l' itself is left out by the kernel).
SUBSET_LETTERS = "rwakmx"


def _any(formulas: Iterable[z3.BoolRef]) -> z3.BoolRef:
    items = list(formulas)
    return z3.Or(*items) if items else z3.BoolVal(False)


def _compatible(link_key: tuple, target_key: tuple) -> bool:
    """``xindex_is_subset`` on exec types: the same transition, not unsafe on the
    link where the target is safe."""
    return link_key[:3] == target_key[:3] and (not link_key[3] or target_key[3])


class LinkSpace:
    """A symbolic link: the new name ``link`` and the existing file ``target``."""

    def __init__(self, name: str = "link"):
        self.at_link = FileSpace(f"{name}_new")
        self.at_target = FileSpace(f"{name}_target")

    def domain(self) -> z3.BoolRef:
        return z3.And(self.at_link.domain(), self.at_target.domain())

    def readable(self) -> tuple[tuple[z3.BoolRef, ...], ...]:
        """Witness preferences: both paths as the file space prefers them."""
        return tuple(a + b for a, b in zip(self.at_link.readable(), self.at_target.readable()))

    @staticmethod
    def _matches(space: FileSpace, glob: Glob) -> z3.BoolRef:
        return space.glob(FileRule(glob, frozenset()))

    def rule(self, rule: LinkRule) -> z3.BoolRef:
        """The rule's pair entry matches (the half is checked by the callers)."""
        return z3.And(self._matches(self.at_link, rule.link),
                      self._matches(self.at_target, rule.target))

    def pair_allowed(self, rules: Iterable[LinkRule], half: Half) -> z3.BoolRef:
        rules = [r for r in rules if r.qualifier.covers(half)]
        return z3.And(_any(self.rule(r) for r in rules if not r.deny),
                      z3.Not(_any(self.rule(r) for r in rules if r.deny)))

    def subset_required(self, rules: Iterable[LinkRule], half: Half) -> z3.BoolRef:
        return _any(self.rule(r) for r in rules if not r.deny and r.requires_subset(half))

    def _modes(self, space: FileSpace, rules: list[FileRule], half: Half) -> dict:
        modes: dict[tuple, list[z3.BoolRef]] = {}
        for rule in rules:
            if not rule.deny and rule.exec is not None and rule.qualifier.covers(half):
                modes.setdefault(exec_type(rule.exec), []).append(
                    space.exec_applies(rule, rules, half))
        return {key: _any(found) for key, found in modes.items()}

    def letter_lost(self, at_link: list[FileRule], at_target: list[FileRule], letter: str,
                    half: Half) -> z3.BoolRef:
        """``letter`` is held on the link and not on the target. ``at_link`` and
        ``at_target``: the file rules that can match each path (any superset of
        them gives the same formula)."""
        return z3.And(self.at_link.allows(at_link, letter, half),
                      z3.Not(self.at_target.allows(at_target, letter, half)))

    def exec_changes(self, at_link: list[FileRule], at_target: list[FileRule],
                     half: Half) -> z3.BoolRef:
        """Both paths may be executed, with transitions the kernel finds different."""
        on_link = self._modes(self.at_link, at_link, half)
        on_target = self._modes(self.at_target, at_target, half)
        same = _any(z3.And(mode, _any(other for key2, other in on_target.items()
                                      if _compatible(key, key2)))
                    for key, mode in on_link.items())
        return z3.And(self.at_link.allows(at_link, "x", half),
                      self.at_target.allows(at_target, "x", half), z3.Not(same))

    def subset_holds(self, at_link: list[FileRule], at_target: list[FileRule],
                     half: Half) -> z3.BoolRef:
        """Every letter held on the link is held on the target, with a compatible
        exec transition."""
        return z3.Not(z3.Or(*(self.letter_lost(at_link, at_target, letter, half)
                              for letter in SUBSET_LETTERS),
                            self.exec_changes(at_link, at_target, half)))

    def permits(self, links: list[LinkRule], at_link: list[FileRule],
                at_target: list[FileRule], half: Half) -> z3.BoolRef:
        """The profile allows the link in ``half``."""
        needs_subset = self.subset_required(links, half)
        if z3.is_false(needs_subset):
            return self.pair_allowed(links, half)
        return z3.And(self.pair_allowed(links, half),
                      z3.Implies(needs_subset, self.subset_holds(at_link, at_target, half)))

    def substitute(self, formula: z3.BoolRef, request: LinkRequest) -> z3.BoolRef:
        return z3.substitute(formula, (self.at_link.path, z3_text(request.link)),
                             (self.at_target.path, z3_text(request.target)))

    def value(self, model: z3.ModelRef, owner: bool) -> LinkRequest:
        return LinkRequest(self.at_link.value(model), self.at_target.value(model), owner)
