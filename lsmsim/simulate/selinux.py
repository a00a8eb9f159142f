"""The concrete meaning of a SELinux policy: what the kernel decides for one request.

Follows ``context_struct_compute_av`` (docs/selinux.md §1.2): the OR of the active
allow rules over the attribute closures of source and target, minus the permissions
of every failing ``constrain``/``mlsconstrain``, minus ``transition``/``dyntransition``
on a role change without ``allow r1 r2``, masked by the ``typebounds`` parent's own
decision. A permissive source type is decided but not enforced.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from ..model.selinux import AVRule, CExpr, Constraint, Context, Level, SELinuxPolicy, SELinuxRequest

TRANSITION_PERMS = frozenset({"transition", "dyntransition"})
_MAX_BOUNDS_DEPTH = 32


@dataclass(frozen=True)
class SELinuxDecision:
    """``allowed`` is what the kernel enforces; ``granted`` the class permissions the
    computed access vector holds; ``reason`` says why ``perm`` was refused."""

    allowed: bool
    granted: frozenset[str]
    reason: str
    rules: tuple[AVRule, ...] = ()
    permissive: bool = False


@dataclass(frozen=True)
class _Vector:
    granted: frozenset[str]
    rules: tuple[AVRule, ...]
    removed_by: tuple[tuple[str, str], ...]  # (permission-set text, why)


def booleans_of(policy: SELinuxPolicy, given: Mapping[str, bool] | tuple) -> dict[str, bool]:
    """The policy's defaults overridden by the given values of its own booleans."""
    values = dict(policy.booleans)
    for name, value in dict(given).items():
        if name in values:
            values[name] = value
    return values


def decide(policy: SELinuxPolicy, request: SELinuxRequest) -> SELinuxDecision:
    """What ``policy`` decides for ``request``."""
    values = booleans_of(policy, request.booleans)
    vector = compute_av(policy, request.scontext, request.tcontext, request.tclass, values)
    stype = policy.canonical_type(request.scontext.type)
    permissive = stype in policy.permissive
    if request.perm in vector.granted:
        return SELinuxDecision(True, vector.granted, "allowed", vector.rules, permissive)
    reason = next((why for perms, why in vector.removed_by if request.perm in perms.split()),
                  "no allow rule grants it")
    return SELinuxDecision(permissive, vector.granted, reason, vector.rules, permissive)


def compute_av(policy: SELinuxPolicy, scon: Context, tcon: Context, tclass: str,
               values: Mapping[str, bool], depth: int = 0) -> _Vector:
    stype, ttype = policy.canonical_type(scon.type), policy.canonical_type(tcon.type)
    granted: set[str] = set()
    rules = []
    for rule in policy.allow_candidates(stype, tclass):
        perms = rule.perms_for(tclass)
        if perms and rule.active(values) and rule.matches_types(policy, stype, ttype):
            granted |= perms
            rules.append(rule)
    removed: list[tuple[str, str]] = []
    for constraint in policy.constraints_for(tclass):
        perms = constraint.perms_for(tclass)
        if perms & granted and not evaluate(policy, constraint.expr, scon, tcon):
            removed.append((" ".join(sorted(perms & granted)), _constraint_reason(constraint)))
            granted -= perms
    if (tclass == "process" and granted & TRANSITION_PERMS and scon.role != tcon.role
            and (scon.role, tcon.role) not in policy.role_allows):
        removed.append((" ".join(sorted(granted & TRANSITION_PERMS)),
                        f"no 'allow {scon.role} {tcon.role};' for the role change"))
        granted -= TRANSITION_PERMS
    bound = policy.typebounds.get(stype)
    if bound is not None and depth < _MAX_BOUNDS_DEPTH:
        lo_t = replace(tcon, type=policy.typebounds.get(ttype, ttype))
        lower = compute_av(policy, replace(scon, type=bound), lo_t, tclass, values, depth + 1)
        masked = granted - lower.granted
        if masked:
            granted -= masked
            removed.append((" ".join(sorted(masked)), f"typebounds {bound} {stype}"))
    return _Vector(frozenset(granted), tuple(rules), tuple(removed))


def _constraint_reason(constraint: Constraint) -> str:
    keyword = "mlsconstrain" if constraint.mls else "constrain"
    where = f" at {constraint.source}" if constraint.source else ""
    return f"{keyword} {constraint.expr} fails{where}"


def _level(context: Context, which: str) -> Level:
    if context.range is None:
        raise ValueError(f"context {context} has no MLS level")
    return context.range.low if which == "l" else context.range.high


def evaluate(policy: SELinuxPolicy, expr: CExpr, scon: Context, tcon: Context) -> bool:
    """A constraint expression for source ``scon`` and target ``tcon``."""
    match expr.op:
        case "and":
            return all(evaluate(policy, a, scon, tcon) for a in expr.args)
        case "or":
            return any(evaluate(policy, a, scon, tcon) for a in expr.args)
        case "not":
            return not evaluate(policy, expr.args[0], scon, tcon)
    op, left, right = expr.args

    def field(operand: str, context: Context) -> str:
        value = {"u": context.user, "r": context.role, "t": context.type}[operand[0]]
        return policy.canonical_type(value) if operand[0] == "t" else value

    side = {"1": scon, "2": tcon}
    if left[0] in "lh":
        order = policy.sensitivity_order
        a, b = _level(side[left[1]], left[0]), _level(side[right[1]], right[0])
        return compare_levels(op, a, b, order)
    a = field(left, side[left[1]])
    if expr.op == "names":
        if left[0] == "r" and op in ("dom", "domby", "incomp"):
            return a in policy.roles_satisfying(op, right)
        found = a in right
        return found if op == "eq" else not found
    b = field(right, side[right[1]])
    if op == "dom":
        return policy.role_dominates(a, b)
    if op == "domby":
        return policy.role_dominates(b, a)
    if op == "incomp":
        return not policy.role_dominates(a, b) and not policy.role_dominates(b, a)
    return a == b if op == "eq" else a != b


def compare_levels(op: str, a: Level, b: Level, order: Mapping[str, int]) -> bool:
    match op:
        case "eq":
            return a == b
        case "ne":
            return a != b
        case "dom":
            return a.dominates(b, order)
        case "domby":
            return b.dominates(a, order)
        case "incomp":
            return not a.dominates(b, order) and not b.dominates(a, order)
    raise ValueError(op)
