"""The symbolic meaning of rules: each rule kind as a Z3 formula over a symbolic request.

The formulas mirror :mod:`lsmsim.simulate.decide` rule for rule; the tests
substitute concrete requests into them and compare with the simulator.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import z3

from ..model.names import CAPABILITIES, NETWORK_FAMILIES, PROTOCOLS, SOCKET_TYPES
from ..model.requests import CapabilityRequest, FileRequest, NetworkRequest
from ..model.rules import CapabilityRule, FileRule, Half, NetworkRule
from .z3regex import PRINTABLE, READABLE, canonical_path, to_z3


def _any(formulas: Iterable[z3.BoolRef]) -> z3.BoolRef:
    items = list(formulas)
    return z3.Or(*items) if items else z3.BoolVal(False)


class FileSpace:
    """A symbolic file access: one path variable (bytes as code points 1..255)."""

    def __init__(self, name: str = "path"):
        self.path = z3.String(name)

    def domain(self) -> z3.BoolRef:
        return z3.InRe(self.path, canonical_path())

    def readable(self) -> tuple[tuple[z3.BoolRef, ...], ...]:
        """Preferences for witnesses, best first: a plain file name of lower-case
        letters and digits, then any printable path."""
        return ((z3.InRe(self.path, canonical_path(READABLE)),
                 z3.Not(z3.SuffixOf(z3.StringVal("/"), self.path))),
                (z3.InRe(self.path, canonical_path(READABLE)),),
                (z3.InRe(self.path, canonical_path(PRINTABLE)),))

    def glob(self, rule: FileRule) -> z3.BoolRef:
        """The path matches the rule's glob (a literal path is a plain equality)."""
        if rule.glob.is_literal:
            return self.path == z3.StringVal(rule.glob.text)
        return z3.InRe(self.path, to_z3(rule.glob.regex))

    def allows(self, rules: Iterable[FileRule], letter: str, half: Half) -> z3.BoolRef:
        """``letter`` granted on this half: some allow rule grants it, no deny removes it."""
        rules = [r for r in rules if letter in r.perms and r.qualifier.covers(half)]
        return z3.And(_any(self.glob(r) for r in rules if not r.deny),
                      z3.Not(_any(self.glob(r) for r in rules if r.deny)))

    def exec_applies(self, rule: FileRule, rules: Iterable[FileRule], half: Half) -> z3.BoolRef:
        """``rule`` decides the exec transition here: it matches and no exact-path
        exec rule of the profile (which would take precedence) matches instead."""
        if rule.glob.is_literal:
            return self.glob(rule)
        exact = [r for r in rules if not r.deny and r.exec is not None and r.glob.is_literal
                 and r.qualifier.covers(half)]
        return z3.And(self.glob(rule), z3.Not(_any(self.glob(r) for r in exact)))

    def substitute(self, formula: z3.BoolRef, request: FileRequest) -> z3.BoolRef:
        return z3.substitute(formula, (self.path, z3.StringVal(request.path)))

    def value(self, model: z3.ModelRef) -> str:
        return model.eval(self.path, model_completion=True).as_string()


class CapabilitySpace:
    """A symbolic capability: an index into :data:`CAPABILITIES`."""

    def __init__(self, name: str = "cap"):
        self.cap = z3.Int(name)

    def domain(self) -> z3.BoolRef:
        return z3.And(self.cap >= 0, self.cap < len(CAPABILITIES))

    def rule(self, rule: CapabilityRule) -> z3.BoolRef:
        return _any(self.cap == CAPABILITIES.index(n) for n in sorted(rule.names))

    def allows(self, rules: Iterable[CapabilityRule]) -> z3.BoolRef:
        rules = list(rules)
        return z3.And(_any(self.rule(r) for r in rules if not r.deny),
                      z3.Not(_any(self.rule(r) for r in rules if r.deny)))

    def substitute(self, formula: z3.BoolRef, request: CapabilityRequest) -> z3.BoolRef:
        return z3.substitute(formula, (self.cap, z3.IntVal(CAPABILITIES.index(request.name))))

    def value(self, model: z3.ModelRef) -> CapabilityRequest:
        return CapabilityRequest(CAPABILITIES[model.eval(self.cap, model_completion=True).as_long()])


_TYPES = tuple(SOCKET_TYPES)
_PROTOCOLS = (None, *PROTOCOLS)


class NetworkSpace:
    """A symbolic socket: family, type and (optional) protocol as indices."""

    def __init__(self, name: str = "net"):
        self.family = z3.Int(f"{name}_family")
        self.sock_type = z3.Int(f"{name}_type")
        self.protocol = z3.Int(f"{name}_protocol")

    def domain(self) -> z3.BoolRef:
        # A named protocol only exists with the socket types that carry it.
        protocol_types = [
            z3.Implies(self.protocol == _PROTOCOLS.index(p),
                       _any(self.sock_type == _TYPES.index(t) for t in types))
            for p, (_, types) in PROTOCOLS.items()]
        return z3.And(self.family >= 1, self.family < len(NETWORK_FAMILIES),
                      self.sock_type >= 0, self.sock_type < len(_TYPES),
                      self.protocol >= 0, self.protocol < len(_PROTOCOLS), *protocol_types)

    def rule(self, rule: NetworkRule) -> z3.BoolRef:
        parts = []
        if rule.family is not None:
            parts.append(self.family == NETWORK_FAMILIES.index(rule.family))
        if rule.sock_type is not None:
            parts.append(self.sock_type == _TYPES.index(rule.sock_type))
        if rule.protocol is not None:
            parts.append(self.protocol == _PROTOCOLS.index(rule.protocol))
        return z3.And(*parts) if parts else z3.BoolVal(True)

    def allows(self, rules: Iterable[NetworkRule]) -> z3.BoolRef:
        rules = list(rules)
        return z3.And(_any(self.rule(r) for r in rules if not r.deny),
                      z3.Not(_any(self.rule(r) for r in rules if r.deny)))

    def substitute(self, formula: z3.BoolRef, request: NetworkRequest) -> z3.BoolRef:
        return z3.substitute(formula,
                             (self.family, z3.IntVal(NETWORK_FAMILIES.index(request.family))),
                             (self.sock_type, z3.IntVal(_TYPES.index(request.sock_type))),
                             (self.protocol, z3.IntVal(_PROTOCOLS.index(request.protocol))))

    def value(self, model: z3.ModelRef) -> NetworkRequest:
        def get(var):
            return model.eval(var, model_completion=True).as_long()
        return NetworkRequest(NETWORK_FAMILIES[get(self.family)], _TYPES[get(self.sock_type)],
                              _PROTOCOLS[get(self.protocol)])
