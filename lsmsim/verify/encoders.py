"""The symbolic meaning of rules: each rule kind as a Z3 formula over a symbolic request.

The formulas mirror :mod:`lsmsim.simulate.decide` rule for rule; the tests
substitute concrete requests into them and compare with the simulator.
"""
from __future__ import annotations

from typing import Iterable

from ..lazy import z3

from ..model import decision
from ..model.names import (CAPABILITIES, IPC_CLASSES, NETWORK_FAMILIES, PROTOCOLS, PTRACE_PERMS, SIGNAL_PERMS,
                           SIGNALS, SOCKET_TYPES)
from ..model.regex import ANY_CHAR
from ..model.requests import (CapabilityRequest, FileRequest, IpcRequest, NetworkRequest,
                              PtraceRequest, SignalRequest)
from ..model.rules import (CapabilityRule, FileRule, Half, IpcRule, NetworkRule, PtraceRule,
                           SignalRule)
from .z3regex import PRINTABLE, READABLE, canonical_path, model_text, to_z3, z3_text


def _any(formulas: Iterable[z3.BoolRef]) -> z3.BoolRef:
    items = list(formulas)
    return z3.Or(*items) if items else z3.BoolVal(False)


class Z3Logic:
    """Z3 formulas as the truth values of :mod:`lsmsim.model.decision`."""

    @staticmethod
    def any(items: Iterable[z3.BoolRef]) -> z3.BoolRef:
        return _any(items)

    @staticmethod
    def all(items: Iterable[z3.BoolRef]) -> z3.BoolRef:
        items = list(items)
        return z3.And(*items) if items else z3.BoolVal(True)

    @staticmethod
    def not_(item: z3.BoolRef) -> z3.BoolRef:
        return z3.Not(item)


Z3 = Z3Logic()


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
                 z3.Not(z3.SuffixOf(z3_text("/"), self.path))),
                (z3.InRe(self.path, canonical_path(READABLE)),),
                (z3.InRe(self.path, canonical_path(PRINTABLE)),))

    def glob(self, rule: FileRule) -> z3.BoolRef:
        """The path matches the rule's glob (a literal path is a plain equality)."""
        if rule.glob.is_literal:
            return self.path == z3_text(rule.glob.text)
        return z3.InRe(self.path, to_z3(rule.glob.regex))

    def allows(self, rules: Iterable[FileRule], letter: str, half: Half) -> z3.BoolRef:
        """``letter`` granted on this half (:func:`lsmsim.model.decision.file_allows`)."""
        return decision.file_allows(rules, letter, half, self.glob, Z3)

    def exec_applies(self, rule: FileRule, rules: Iterable[FileRule], half: Half) -> z3.BoolRef:
        """``rule`` decides the exec transition here
        (:func:`lsmsim.model.decision.exec_applies`)."""
        return decision.exec_applies(rule, list(rules), half, self.glob, Z3)

    def substitute(self, formula: z3.BoolRef, request: FileRequest) -> z3.BoolRef:
        return z3.substitute(formula, (self.path, z3_text(request.path)))

    def value(self, model: z3.ModelRef) -> str:
        return model_text(model.eval(self.path, model_completion=True))


class RuleSpace:
    """A symbolic request of one class; subclasses give each rule kind its formula
    (``rule``), the valid requests (``domain``) and how to read a model back."""

    def rule(self, rule) -> z3.BoolRef:
        raise NotImplementedError

    def allows(self, rules: Iterable) -> z3.BoolRef:
        """Some allow rule matches and no deny rule does
        (:func:`lsmsim.model.decision.allowed`)."""
        return decision.allowed(rules, self.rule, Z3)

    def readable(self) -> tuple[tuple[z3.BoolRef, ...], ...]:
        """Witness preferences, best first (none by default)."""
        return ()


class CapabilitySpace(RuleSpace):
    """A symbolic capability: an index into :data:`CAPABILITIES`."""

    def __init__(self, name: str = "cap"):
        self.cap = z3.Int(name)

    def domain(self) -> z3.BoolRef:
        return z3.And(self.cap >= 0, self.cap < len(CAPABILITIES))

    def rule(self, rule: CapabilityRule) -> z3.BoolRef:
        return _any(self.cap == CAPABILITIES.index(n) for n in sorted(rule.names))

    def substitute(self, formula: z3.BoolRef, request: CapabilityRequest) -> z3.BoolRef:
        return z3.substitute(formula, (self.cap, z3.IntVal(CAPABILITIES.index(request.name))))

    def value(self, model: z3.ModelRef) -> CapabilityRequest:
        return CapabilityRequest(CAPABILITIES[model.eval(self.cap, model_completion=True).as_long()])


_TYPES = tuple(SOCKET_TYPES)
_PROTOCOLS = (None, *PROTOCOLS)


class NetworkSpace(RuleSpace):
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


class _PeerSpace(RuleSpace):
    """Requests that name a peer task by its label (a non-empty string)."""

    def __init__(self, name: str, perms: tuple[str, ...]):
        self.perms = perms
        self.perm = z3.Int(f"{name}_perm")
        self.peer = z3.String(f"{name}_peer")

    def domain(self) -> z3.BoolRef:
        return z3.And(self.perm >= 0, self.perm < len(self.perms), z3.Length(self.peer) > 0,
                      z3.InRe(self.peer, z3.Star(to_z3(ANY_CHAR))))

    def readable(self):
        return ((z3.InRe(self.peer, z3.Plus(to_z3(READABLE))),),)

    def _perm_and_peer(self, rule) -> list[z3.BoolRef]:
        parts = [_any(self.perm == self.perms.index(p) for p in sorted(rule.perms))]
        if rule.peer is not None:
            parts.append(z3.InRe(self.peer, to_z3(rule.peer.regex)))
        return parts

    def _bind(self, request) -> list[tuple]:
        return [(self.perm, z3.IntVal(self.perms.index(request.perm))),
                (self.peer, z3_text(request.peer))]

    def _get(self, model: z3.ModelRef, var):
        value = model.eval(var, model_completion=True)
        return value.as_long() if z3.is_int(value) else model_text(value)


class SignalSpace(_PeerSpace):
    """A symbolic signal: permission, signal number and peer label."""

    def __init__(self, name: str = "sig"):
        super().__init__(name, SIGNAL_PERMS)
        self.signal = z3.Int(f"{name}_signal")

    def domain(self) -> z3.BoolRef:
        return z3.And(super().domain(), self.signal >= 0, self.signal < len(SIGNALS))

    def rule(self, rule: SignalRule) -> z3.BoolRef:
        parts = self._perm_and_peer(rule)
        if len(rule.signals) < len(SIGNALS):
            parts.append(_any(self.signal == SIGNALS.index(n) for n in sorted(rule.signals)))
        return z3.And(*parts)

    def substitute(self, formula: z3.BoolRef, request: SignalRequest) -> z3.BoolRef:
        return z3.substitute(formula, *self._bind(request),
                             (self.signal, z3.IntVal(SIGNALS.index(request.signal))))

    def value(self, model: z3.ModelRef) -> SignalRequest:
        return SignalRequest(SIGNAL_PERMS[self._get(model, self.perm)],
                             SIGNALS[self._get(model, self.signal)], self._get(model, self.peer))


class PtraceSpace(_PeerSpace):
    """A symbolic ptrace access: permission and peer label."""

    def __init__(self, name: str = "ptrace"):
        super().__init__(name, PTRACE_PERMS)

    def rule(self, rule: PtraceRule) -> z3.BoolRef:
        return z3.And(*self._perm_and_peer(rule))

    def substitute(self, formula: z3.BoolRef, request: PtraceRequest) -> z3.BoolRef:
        return z3.substitute(formula, *self._bind(request))

    def value(self, model: z3.ModelRef) -> PtraceRequest:
        return PtraceRequest(PTRACE_PERMS[self._get(model, self.perm)], self._get(model, self.peer))


class IpcSpace(RuleSpace):
    """A symbolic dbus or unix access: a permission and one string per condition field."""

    def __init__(self, kind: str):
        self.kind = kind
        self.shape = IPC_CLASSES[kind]
        self.perm = z3.Int(f"{kind}_perm")
        self.fields = {f: z3.String(f"{kind}_{f}") for f in self.shape.all_fields}

    def domain(self) -> z3.BoolRef:
        return z3.And(self.perm >= 0, self.perm < len(self.shape.perms),
                      *(z3.InRe(v, z3.Star(to_z3(ANY_CHAR))) for v in self.fields.values()))

    def readable(self):
        return (tuple(z3.InRe(v, z3.Star(to_z3(READABLE))) for v in self.fields.values()),)

    def rule(self, rule: IpcRule) -> z3.BoolRef:
        if rule.kind != self.kind:
            return z3.BoolVal(False)
        parts = [_any(self.perm == self.shape.perms.index(p) for p in sorted(rule.perms))]
        parts += [z3.InRe(self.fields[field], to_z3(glob.regex)) for field, glob in rule.conditions]
        return z3.And(*parts)

    def substitute(self, formula: z3.BoolRef, request: IpcRequest) -> z3.BoolRef:
        return z3.substitute(formula, (self.perm, z3.IntVal(self.shape.perms.index(request.perm))),
                             *((self.fields[f], z3_text(v)) for f, v in request.fields))

    def value(self, model: z3.ModelRef) -> IpcRequest:
        perm = self.shape.perms[model.eval(self.perm, model_completion=True).as_long()]
        return IpcRequest(self.kind, perm, tuple(
            (f, model_text(model.eval(v, model_completion=True))) for f, v in self.fields.items()))
