"""Finite-domain classes (capabilities, sockets): every request a child allow rule
grants must be granted by the parent. All witnesses of a rule are listed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Hashable, Iterable, Iterator

from ..lazy import z3

from ..model.rules import (CapabilityRule, IpcRule, NetworkRule, OtherRule, PtraceRule,
                           SignalRule)
from ..simulate.decide import decide
from ..automata.encodings import PTRACE, SIGNAL, SplitStringClass, StringClass, ipc_class
from ..model.names import (CAPABILITIES, IPC_CLASSES, NETWORK_FAMILIES, PROTOCOLS, SIGNALS,
                           SOCKET_TYPES)
from ..model.requests import CapabilityRequest, NetworkRequest
from .string_check import (MAX_WITNESSES_PER_RULE, check_split_strings, check_strings,
                           confirmed, witnessed)
from .context import CheckContext
from .encoders import CapabilitySpace, IpcSpace, NetworkSpace, PtraceSpace, SignalSpace
from .result import Denial, Undecided

IPC_STRINGS = {kind: ipc_class(kind) for kind in IPC_CLASSES}


def _partly_modelled(ctx: CheckContext, kind_name: str) -> bool:
    """Does either side hold rules of this class that are kept only as text
    (e.g. AppArmor 4 network rules with permissions or addresses)? Then neither a
    proof nor a witness of the modelled rules alone can be trusted."""
    return any(r.kind == kind_name for profile in (ctx.pair.child, ctx.pair.parent)
               for r in profile.rules_of(OtherRule))


def _check_named(ctx: CheckContext, kind: type, space, block, kind_name: str | None = None,
                 select=lambda rule: True,
                 strings: StringClass | SplitStringClass | None = None,
                 finite: Finite | None = None) -> Iterator[object]:
    """``child ⊆ parent`` for one class: by enumeration where the class is ``finite``,
    on automata where it matches ``strings`` (unless the Z3 engine is asked for),
    else with Z3 over the symbolic request ``space()`` builds."""
    pair = ctx.pair
    child_rules = [r for r in pair.child.rules_of(kind) if select(r)]
    parent_rules = [r for r in pair.parent.rules_of(kind) if select(r)]
    kind_name = kind_name or kind.__name__.removesuffix("Rule").lower()
    if _partly_modelled(ctx, kind_name):
        for rule in child_rules:
            if not rule.deny:
                yield Undecided(rule.source, f"{kind_name} rules with permissions or "
                                             "conditions are present and not checked yet")
        return
    if all(rule.deny for rule in child_rules):
        return  # the child grants nothing of this class
    if ctx.engine == "automata" and finite is not None:
        yield from _check_enumerated(ctx, child_rules, finite)
        return
    if ctx.engine == "automata" and isinstance(strings, SplitStringClass):
        yield from check_split_strings(ctx, strings, child_rules, parent_rules)
        return
    if ctx.engine == "automata" and strings is not None:
        yield from check_strings(ctx, strings, child_rules, parent_rules)
        return
    space = space()
    # The same for every rule of the child: build it once.
    beyond_parent = (space.domain(), space.allows(child_rules), z3.Not(space.allows(parent_rules)))
    for rule in child_rules:
        if rule.deny:
            continue
        blocked: list[z3.BoolRef] = []
        for _ in range(MAX_WITNESSES_PER_RULE):
            outcome = ctx.prover.solve(*beyond_parent, space.rule(rule), *blocked,
                                       prefer=space.readable())
            if outcome.status == "unknown":
                yield Undecided(rule.source, f"solver gave up ({outcome.reason})")
                break
            if outcome.status == "unsat":
                break
            request = space.value(outcome.model)
            finding = confirmed(ctx, rule, request)
            yield finding
            if isinstance(finding, Undecided):
                break
            blocked.append(z3.Not(block(space, rule, request)))


@dataclass(frozen=True)
class Finite:
    """A class with few enough requests to decide each one: ``requests`` lists them
    all, ``group(rule, request)`` keys the witnesses one per rule is enough for."""

    requests: Callable[[], Iterable[object]]
    group: Callable[[object, object], Hashable]


def _check_enumerated(ctx: CheckContext, child_rules: list, finite: Finite) -> Iterator[object]:
    pair = ctx.pair
    allows = [r for r in child_rules if not r.deny]
    found: dict[int, set] = {}
    for request in finite.requests():
        if decide(pair.child, request).allowed and not decide(pair.parent, request).allowed:
            yield from witnessed(ctx, [r for r in allows if r.matches(request)], request,
                                 finite.group, found)


def socket_requests() -> Iterator[NetworkRequest]:
    """Every socket a task can ask for: each family and type, with and without each
    protocol that type carries."""
    for family in NETWORK_FAMILIES[1:]:
        for sock_type in SOCKET_TYPES:
            yield NetworkRequest(family, sock_type, None)
            for protocol, (_, types) in PROTOCOLS.items():
                if sock_type in types:
                    yield NetworkRequest(family, sock_type, protocol)


CAPABILITY = Finite(lambda: (CapabilityRequest(name) for name in CAPABILITIES),
                    lambda rule, request: request.name)
# One witness per family the rule leaves open, else one per socket type.
NETWORK = Finite(socket_requests, lambda rule, request: request.family if rule.family is None
                 else (request.family, request.sock_type))


def _block_capability(space: CapabilitySpace, rule, request) -> z3.BoolRef:
    return space.rule(CapabilityRule(frozenset({request.name})))


def _block_network(space: NetworkSpace, rule: NetworkRule, request) -> z3.BoolRef:
    # One witness per family the rule leaves open, else one per socket type.
    if rule.family is None:
        return space.rule(NetworkRule(family=request.family))
    return space.rule(NetworkRule(family=request.family, sock_type=request.sock_type))


def check_capabilities(ctx: CheckContext) -> Iterator[object]:
    yield from _check_named(ctx, CapabilityRule, CapabilitySpace, _block_capability,
                            finite=CAPABILITY)


def check_network(ctx: CheckContext) -> Iterator[object]:
    yield from _check_named(ctx, NetworkRule, NetworkSpace, _block_network, finite=NETWORK)


def _block_signal(space: SignalSpace, rule: SignalRule, request) -> z3.BoolRef:
    # One witness per permission the rule leaves every signal open for, else per signal.
    same_perm = space.perm == space.perms.index(request.perm)
    if rule.signals == frozenset(SIGNALS):
        return same_perm
    return z3.And(same_perm, space.signal == SIGNALS.index(request.signal))


def _block_ptrace(space: PtraceSpace, rule, request) -> z3.BoolRef:
    return space.perm == space.perms.index(request.perm)


def check_signal(ctx: CheckContext) -> Iterator[object]:
    yield from _check_named(ctx, SignalRule, SignalSpace, _block_signal, strings=SIGNAL)


def check_ptrace(ctx: CheckContext) -> Iterator[object]:
    yield from _check_named(ctx, PtraceRule, PtraceSpace, _block_ptrace, strings=PTRACE)


def _block_ipc(space: IpcSpace, rule: IpcRule, request) -> z3.BoolRef:
    return space.perm == space.shape.perms.index(request.perm)


def _unix_through_network(ctx: CheckContext) -> bool:
    """Under the 3.0 ABI a ``network`` rule covering unix sockets also grants them."""
    return any(r.family in (None, "unix") for r in ctx.pair.parent.rules_of(NetworkRule)
               if not r.deny)


def check_ipc(ctx: CheckContext) -> Iterator[object]:
    for kind in IPC_CLASSES:
        findings = _check_named(ctx, IpcRule, lambda kind=kind: IpcSpace(kind), _block_ipc, kind,
                                lambda rule, kind=kind: rule.kind == kind,
                                strings=IPC_STRINGS[kind])
        for finding in findings:
            if kind == "unix" and isinstance(finding, Denial) and _unix_through_network(ctx):
                finding = Undecided(finding.rule, "the parent's network rules may grant unix "
                                                  "sockets too; not compared yet")
            yield finding


# Rule kinds that grant nothing. ``set rlimit`` only lowers the task's hard limits when
# the profile is entered (the kernel takes the minimum over every profile of the label
# and refuses raising a hard limit above it), so a child's rlimits can never reach
# beyond its parent.
GRANTS_NOTHING = frozenset({"set"})


def check_unmodelled(ctx: CheckContext) -> Iterator[object]:
    """A child that grants access of a class lsmsim does not reason about yet can
    never be called contained: each such allow rule is undecided."""
    for rule in ctx.pair.child.rules_of(OtherRule):
        if not rule.deny and rule.kind not in GRANTS_NOTHING:
            yield Undecided(rule.source, f"{rule.kind} rules are not checked yet")
