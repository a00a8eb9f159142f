"""The symbolic meaning of a SELinux policy: the simulator's decision as a Z3 formula.

A request is symbolic in every field: source and target user, role and type (integers
naming entries of a :class:`Universe` shared by the policies compared), low and high
levels (sensitivity index and a category bit-vector), and one Z3 Bool per boolean.
Attributes are not expanded into rule triples: an attribute in a rule becomes a
membership test on the symbolic type. Class and permission are concrete per query
(one query per class permission, DESIGN §6).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..lazy import z3

from ..model.selinux import (OBJECT_R, AVRule, BoolExpr, CExpr, Context, Level, Range,
                             SELinuxPolicy, SELinuxRequest)
from ..simulate.selinux import TRANSITION_PERMS

_MAX_BOUNDS_DEPTH = 32


class Universe:
    """Names shared by the policies of one check (labels map 1:1 by name)."""

    def __init__(self, *policies: SELinuxPolicy):
        self.types = _union(p.types for p in policies)
        self.users = _union(p.users for p in policies)
        self.roles = _union([[OBJECT_R]] + [p.roles for p in policies])
        self.sensitivities = _union(p.sensitivities for p in policies)
        self.categories = _union(p.categories for p in policies)
        self.booleans = _union(p.booleans for p in policies)
        self.mls = any(p.mls for p in policies)
        self.type_id = {n: i for i, n in enumerate(self.types)}
        self.user_id = {n: i for i, n in enumerate(self.users)}
        self.role_id = {n: i for i, n in enumerate(self.roles)}
        self.sens_id = {n: i for i, n in enumerate(self.sensitivities)}
        self.cat_bit = {n: i for i, n in enumerate(self.categories)}
        self.width = max(1, len(self.categories))


def _one_of(x: z3.ArithRef, ids: tuple[int, ...]) -> z3.BoolRef:
    """``x`` is one of the sorted ``ids``: runs of consecutive ids as ranges."""
    if not ids:
        return z3.BoolVal(False)
    parts, start = [], 0
    for end in range(1, len(ids) + 1):
        if end == len(ids) or ids[end] != ids[end - 1] + 1:
            low, high = ids[start], ids[end - 1]
            if high - low >= 2:
                parts.append(z3.And(x >= low, x <= high))
            else:
                parts += [x == i for i in range(low, high + 1)]
            start = end
    return parts[0] if len(parts) == 1 else z3.Or(parts)


def _union(groups) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for group in groups for name in group))


@dataclass(frozen=True)
class SymLevel:
    sens: z3.ArithRef
    cats: z3.BitVecRef


@dataclass(frozen=True)
class SymContext:
    user: z3.ArithRef
    role: z3.ArithRef
    type: z3.ArithRef
    low: SymLevel | None
    high: SymLevel | None


@dataclass(frozen=True)
class SymRequest:
    """A symbolic request; ``source``/``target`` are the two contexts. ``booleans``
    are the child layer's (or the only layer's) booleans, ``parent_booleans`` the
    parent layer's when the two layers have booleans of their own."""

    universe: Universe
    source: SymContext
    target: SymContext
    booleans: dict[str, z3.BoolRef]
    parent_booleans: dict[str, z3.BoolRef] | None = None

    @classmethod
    def fresh(cls, universe: Universe, prefix: str = "",
              separate_layers: bool = False) -> "SymRequest":
        def level(name):
            if not universe.mls:
                return None
            return SymLevel(z3.Int(f"{prefix}{name}_sens"), z3.BitVec(f"{prefix}{name}_cats",
                                                                     universe.width))

        def context(side):
            return SymContext(z3.Int(f"{prefix}{side}_user"), z3.Int(f"{prefix}{side}_role"),
                              z3.Int(f"{prefix}{side}_type"), level(f"{side}_low"),
                              level(f"{side}_high"))
        parent = ({b: z3.Bool(f"{prefix}parent_bool_{b}") for b in universe.booleans}
                  if separate_layers else None)
        return cls(universe, context("s"), context("t"),
                   {b: z3.Bool(f"{prefix}bool_{b}") for b in universe.booleans}, parent)

    def layer_booleans(self, parent: bool) -> dict[str, z3.BoolRef]:
        """The boolean variables the child (or the parent) layer reads."""
        return self.parent_booleans if parent and self.parent_booleans is not None \
            else self.booleans

    def in_universe(self) -> list[z3.BoolRef]:
        """Every field names something of the universe."""
        u = self.universe
        out = []
        for ctx in (self.source, self.target):
            out += [ctx.user >= 0, ctx.user < len(u.users), ctx.role >= 0,
                    ctx.role < len(u.roles), ctx.type >= 0, ctx.type < len(u.types)]
            for lvl in (ctx.low, ctx.high):
                if lvl is not None:
                    out += [lvl.sens >= 0, lvl.sens < max(1, len(u.sensitivities))]
        return out

    def substitute(self, request: SELinuxRequest) -> list[z3.BoolRef]:
        """Equalities that fix this symbolic request to a concrete one."""
        u = self.universe
        out = []
        for sym, ctx in ((self.source, request.scontext), (self.target, request.tcontext)):
            out += [sym.user == u.user_id.get(ctx.user, -1),
                    sym.role == u.role_id.get(ctx.role, -1),
                    sym.type == u.type_id.get(ctx.type, -1)]
            if sym.low is not None and ctx.range is not None:
                for s_lvl, lvl in ((sym.low, ctx.range.low), (sym.high, ctx.range.high)):
                    out += [s_lvl.sens == u.sens_id.get(lvl.sensitivity, -1),
                            s_lvl.cats == self.cats_value(lvl)]
        values = dict(request.booleans)
        out += [var == values[name] for name, var in self.booleans.items() if name in values]
        if self.parent_booleans is not None and request.parent_booleans is not None:
            values = dict(request.parent_booleans)
            out += [var == values[name] for name, var in self.parent_booleans.items()
                    if name in values]
        return out

    def cats_value(self, level: Level) -> z3.BitVecRef:
        bits = 0
        for cat in level.categories:
            bits |= 1 << self.universe.cat_bit[cat]
        return z3.BitVecVal(bits, self.universe.width)

    def concrete(self, model: z3.ModelRef, tclass: str, perm: str) -> SELinuxRequest:
        """The concrete request a model of this symbolic one describes."""
        u = self.universe

        def value(expr):
            return model.eval(expr, model_completion=True)

        def level(sym: SymLevel) -> Level:
            sens = u.sensitivities[value(sym.sens).as_long()] if u.sensitivities else "s0"
            bits = value(sym.cats).as_long()
            return Level(sens, frozenset(c for c, i in u.cat_bit.items() if bits >> i & 1))

        def context(sym: SymContext) -> Context:
            rng = Range(level(sym.low), level(sym.high)) if sym.low is not None else None
            return Context(u.users[value(sym.user).as_long()] if u.users else "user_u",
                           u.roles[value(sym.role).as_long()], u.types[value(sym.type).as_long()],
                           rng)
        def assignment(variables):
            return tuple((b, z3.is_true(value(v))) for b, v in sorted(variables.items()))
        parent = assignment(self.parent_booleans) if self.parent_booleans is not None else None
        return SELinuxRequest(context(self.source), context(self.target), tclass, perm,
                              assignment(self.booleans), parent)


class PolicyEncoder:
    """Formulas for one policy over the shared universe; mirrors
    :mod:`lsmsim.simulate.selinux` step by step. ``parent_layer`` makes it read the
    request's parent booleans (when the layers have booleans of their own).

    Formulas are built once and shared: a rule's formula, an attribute's membership
    test and the rules granting each class permission are cached, so a policy of
    hundreds of thousands of rules is encoded in one pass."""

    def __init__(self, policy: SELinuxPolicy, universe: Universe, parent_layer: bool = False):
        self.policy = policy
        self.u = universe
        self.parent_layer = parent_layer
        self._members: dict[tuple[int, str], z3.BoolRef] = {}
        self._rules: dict[tuple, z3.BoolRef] = {}
        self._conditions: dict[tuple, z3.BoolRef] = {}
        self._fires: dict[tuple, tuple] = {}
        self._is_type: dict[tuple, z3.BoolRef] = {}
        self._cexprs: dict[tuple, z3.BoolRef] = {}

    @cached_property
    def granting(self) -> dict[tuple[str, str], tuple[AVRule, ...]]:
        """The allow rules granting each (class, permission)."""
        out: dict[tuple[str, str], list[AVRule]] = {}
        for rule in self.policy.allow_rules():
            for tclass, perms in rule.perms:
                for perm in perms:
                    out.setdefault((tclass, perm), []).append(rule)
        return {key: tuple(rules) for key, rules in out.items()}

    @property
    def type_ids(self) -> dict[str, list[int]]:
        """For each type of this policy, the universe ids that stand for it."""
        return self._ids_of

    @cached_property
    def _ids_of(self) -> dict[str, list[int]]:
        """For each type name of this policy, the universe ids this policy reads as it
        (a universe name that is an alias here counts as its type)."""
        out: dict[str, list[int]] = {}
        for name, i in self.u.type_id.items():
            canonical = self.policy.canonical_type(name)
            if canonical in self.policy.types:
                out.setdefault(canonical, []).append(i)
        return out

    def is_type(self, x: z3.ArithRef, names) -> z3.BoolRef:
        """``x`` is one of the types ``names`` (as ids of the universe)."""
        ids = tuple(sorted({i for n in names for i in self._ids_of.get(n, ())}))
        key = (x.get_id(), ids)
        found = self._is_type.get(key)
        if found is None:
            found = self._is_type[key] = _one_of(x, ids)
        return found

    def member(self, x: z3.ArithRef, name: str) -> z3.BoolRef:
        """``x`` is the type ``name`` or a member of the attribute ``name``."""
        key = (x.get_id(), name)
        found = self._members.get(key)
        if found is None:
            members = self.policy.attributes.get(name)
            found = self.is_type(x, members if members is not None else (name,))
            self._members[key] = found
        return found

    def type_set(self, ts, x) -> z3.BoolRef:
        inside = z3.Or([self.member(x, n) for n in ts.names])
        if ts.excluded:
            inside = z3.And(inside, z3.Not(z3.Or([self.member(x, n) for n in ts.excluded])))
        return inside

    def condition(self, expr: BoolExpr, req: SymRequest) -> z3.BoolRef:
        key = (expr, id(req))
        found = self._conditions.get(key)
        if found is None:
            found = self._conditions[key] = self._condition(expr, req)
        return found

    def _condition(self, expr: BoolExpr, req: SymRequest) -> z3.BoolRef:
        if expr.op == "name":
            return req.layer_booleans(self.parent_layer)[expr.args[0]]
        args = [self.condition(a, req) for a in expr.args]
        return {"not": lambda: z3.Not(args[0]), "and": lambda: z3.And(args),
                "or": lambda: z3.Or(args), "xor": lambda: z3.Xor(*args),
                "ne": lambda: z3.Xor(*args), "eq": lambda: args[0] == args[1]}[expr.op]()

    def rule(self, rule: AVRule, req: SymRequest, stype, ttype) -> z3.BoolRef:
        """The rule's source and target sets (and its condition) hold."""
        # The request's own types are by far the most common: keyed without asking
        # Z3 for the terms' ids.
        if stype is req.source.type and ttype is req.target.type:
            key = (id(rule), id(req))
        else:
            key = (id(rule), stype.get_id(), ttype.get_id(), id(req))
        found = self._rules.get(key)
        if found is None:
            found = self._rules[key] = self._rule(rule, req, stype, ttype)
        return found

    def _rule(self, rule: AVRule, req: SymRequest, stype, ttype) -> z3.BoolRef:
        target = self.type_set(rule.targets, ttype) if rule.targets.names else z3.BoolVal(False)
        if rule.targets.self_:
            target = z3.Or(target, ttype == stype)
        parts = [self.type_set(rule.sources, stype), target]
        if rule.condition is not None:
            active = self.condition(rule.condition.expr, req)
            parts.append(active if rule.condition.branch else z3.Not(active))
        return z3.And(parts)

    def av(self, tclass: str, perm: str, req: SymRequest, stype, ttype) -> z3.BoolRef:
        """Some allow rule grants ``tclass perm`` to (``stype``, ``ttype``)."""
        return self.rules_fire(self.granting.get((tclass, perm), ()), req, stype, ttype)

    def rules_fire(self, rules, req: SymRequest, stype=None, ttype=None) -> z3.BoolRef:
        """One of ``rules`` holds (the same rule tuple gives the same formula)."""
        stype = req.source.type if stype is None else stype
        ttype = req.target.type if ttype is None else ttype
        plain = stype is req.source.type and ttype is req.target.type
        key = (id(rules), id(req)) if plain else None
        found = self._fires.get(key) if plain else None
        if found is None:
            found = z3.Or([self.rule(r, req, stype, ttype) for r in rules])
            if plain:
                self._fires[key] = (found, rules)
                return found
            return found
        return found[0]

    def allowed(self, tclass: str, perm: str, req: SymRequest, stype=None, ttype=None,
                source_name: str | None = None, depth: int = 0,
                rules: tuple[AVRule, ...] | None = None) -> z3.BoolRef:
        """``perm`` is in the computed access vector (before permissive). ``source_name``
        is set when the source type is a known constant (a typebounds parent);
        ``rules`` narrows the allow rules read for the request's own types to those
        that can fire where the caller's query can (bounds still read them all)."""
        stype = req.source.type if stype is None else stype
        ttype = req.target.type if ttype is None else ttype
        granting = self.granting.get((tclass, perm), ()) if rules is None else rules
        parts = [self.rules_fire(granting, req, stype, ttype)]
        for constraint in self.policy.constraints_for(tclass):
            if perm in constraint.perms_for(tclass):
                parts.append(self.cexpr(constraint.expr, req, stype, ttype))
        if tclass == "process" and perm in TRANSITION_PERMS:
            parts.append(self.role_change_allowed(req))
        if depth < _MAX_BOUNDS_DEPTH:
            bounded = (((source_name, self.policy.typebounds[source_name]),)
                       if source_name in self.policy.typebounds else ()) \
                if source_name is not None else tuple(self.policy.typebounds.items())
            for child, bound in bounded:
                lower = self.allowed(tclass, perm, req, self.is_type_id(bound),
                                     self.bound_of(ttype), bound, depth + 1)
                parts.append(z3.Implies(self.is_type(stype, (child,)), lower))
        return z3.And(parts)

    def is_type_id(self, name: str):
        ids = self._ids_of.get(name, [])
        return z3.IntVal(ids[0] if ids else -1)

    def bound_of(self, ttype):
        out = ttype
        for child, bound in self.policy.typebounds.items():
            out = z3.If(self.is_type(ttype, (child,)), self.is_type_id(bound), out)
        return out

    def role_change_allowed(self, req: SymRequest) -> z3.BoolRef:
        r1, r2 = req.source.role, req.target.role
        pairs = [z3.And(r1 == self.u.role_id[a], r2 == self.u.role_id[b])
                 for a, b in sorted(self.policy.role_allows)]
        return z3.Or([r1 == r2] + pairs)

    def decision(self, tclass: str, perm: str, req: SymRequest,
                 rules: tuple[AVRule, ...] | None = None) -> z3.BoolRef:
        """What the kernel enforces: the vector, or anything for a permissive domain."""
        permissive = self.is_type(req.source.type, sorted(self.policy.permissive))
        return z3.Or(self.allowed(tclass, perm, req, rules=rules), permissive)

    # --- constraints ---
    def cexpr(self, expr: CExpr, req: SymRequest, stype, ttype) -> z3.BoolRef:
        """A constraint expression (cached: a constraint covers many permissions)."""
        key = (id(expr), id(req), stype.get_id(), ttype.get_id())
        found = self._cexprs.get(key)
        if found is None:
            found = self._cexprs[key] = self._cexpr(expr, req, stype, ttype)
        return found

    def _cexpr(self, expr: CExpr, req: SymRequest, stype, ttype) -> z3.BoolRef:
        match expr.op:
            case "and":
                return z3.And([self.cexpr(a, req, stype, ttype) for a in expr.args])
            case "or":
                return z3.Or([self.cexpr(a, req, stype, ttype) for a in expr.args])
            case "not":
                return z3.Not(self.cexpr(expr.args[0], req, stype, ttype))
        op, left, right = expr.args
        side = {"1": req.source, "2": req.target}
        types = {"1": stype, "2": ttype}
        if left[0] in "lh":
            a = getattr(side[left[1]], "low" if left[0] == "l" else "high")
            b = getattr(side[right[1]], "low" if right[0] == "l" else "high")
            if a is None or b is None:
                return z3.BoolVal(True)
            return self.compare_levels(op, a, b)

        def field(operand):
            kind, n = operand[0], operand[1]
            return types[n] if kind == "t" else getattr(side[n], {"u": "user", "r": "role"}[kind])
        a = field(left)
        if left[0] == "r" and op in ("dom", "domby", "incomp"):
            return self.role_order(op, expr, a, field(right) if expr.op == "attr" else None)
        positive = op == "eq"
        if expr.op == "names":
            if left[0] == "t":
                found = self.is_type(a, right)
            else:
                ids = self.u.user_id if left[0] == "u" else self.u.role_id
                found = z3.Or([a == ids[n] for n in sorted(right) if n in ids])
            return found if positive else z3.Not(found)
        b = field(right)
        if left[0] == "t":
            same = z3.Or(a == b, z3.Or([z3.And(self.is_type(a, (n,)), self.is_type(b, (n,)))
                                        for n, ids in self._ids_of.items() if len(ids) > 1]))
        else:
            same = a == b
        return same if positive else z3.Not(same)

    def role_order(self, op: str, expr: CExpr, a, b) -> z3.BoolRef:
        """``r1 dom r2`` (``domby``, ``incomp``) under the policy's role dominance;
        ``b`` is None when the right side is a set of role names."""
        ids = self.u.role_id
        if b is None:
            roles = self.policy.roles_satisfying(op, expr.args[2])
            return z3.Or([a == ids[r] for r in sorted(roles) if r in ids])
        dominates = [z3.And(a == ids[x], b == ids[y])
                     for x, below in sorted(self.policy.role_dominance.items()) if x in ids
                     for y in sorted(below) if y in ids]
        forward = z3.Or([a == b] + dominates)
        if op == "dom":
            return forward
        backward = z3.Or([a == b] + [z3.And(b == ids[x], a == ids[y])
                                     for x, below in sorted(self.policy.role_dominance.items())
                                     if x in ids for y in sorted(below) if y in ids])
        if op == "domby":
            return backward
        return z3.And(z3.Not(forward), z3.Not(backward))

    def rank(self, sens: z3.ArithRef) -> z3.ArithRef:
        order = self.policy.sensitivity_order
        out = z3.IntVal(-1)
        for name, i in self.u.sens_id.items():
            if name in order:
                out = z3.If(sens == i, order[name], out)
        return out

    def dominates(self, a: SymLevel, b: SymLevel) -> z3.BoolRef:
        return z3.And(self.rank(a.sens) >= self.rank(b.sens), b.cats & ~a.cats == 0)

    def compare_levels(self, op: str, a: SymLevel, b: SymLevel) -> z3.BoolRef:
        equal = z3.And(a.sens == b.sens, a.cats == b.cats)
        match op:
            case "eq":
                return equal
            case "ne":
                return z3.Not(equal)
            case "dom":
                return self.dominates(a, b)
            case "domby":
                return self.dominates(b, a)
        return z3.And(z3.Not(self.dominates(a, b)), z3.Not(self.dominates(b, a)))

    # --- what a context may be in this policy ---
    def well_formed(self, req: SymRequest) -> list[z3.BoolRef]:
        """Levels this policy can express: known sensitivity, categories associated with
        it, high dominating low."""
        out = []
        if not self.u.mls or not self.policy.mls:
            return out
        for ctx in (req.source, req.target):
            for lvl in (ctx.low, ctx.high):
                allowed = [z3.And(lvl.sens == self.u.sens_id[s], lvl.cats & ~self._cats_mask(s) == 0)
                           for s in self.policy.sensitivities]
                out.append(z3.Or(allowed))
            out.append(self.dominates(ctx.high, ctx.low))
        return out

    def _cats_mask(self, sens: str) -> z3.BitVecRef:
        cats = self.policy.sensitivity_categories.get(sens, frozenset())
        bits = 0
        for c in cats:
            bits |= 1 << self.u.cat_bit[c]
        return z3.BitVecVal(bits, self.u.width)

    def valid_context(self, ctx: SymContext, object_: bool) -> z3.BoolRef:
        """A context this policy would accept: the user may take the role, the role
        the type (``object_r`` takes any type on objects), levels in the user's range."""
        roles = []
        for role, types in sorted(self.policy.roles.items()):
            if role == OBJECT_R:
                if object_:
                    roles.append(ctx.role == self.u.role_id[role])
                continue
            roles.append(z3.And(ctx.role == self.u.role_id[role], self.is_type(ctx.type, types)))
        users = []
        for name, user in sorted(self.policy.users.items()):
            allowed_roles = [self.u.role_id[r] for r in sorted(user.roles)]
            if object_:
                allowed_roles.append(self.u.role_id[OBJECT_R])
            parts = [ctx.user == self.u.user_id[name], z3.Or([ctx.role == r for r in allowed_roles])]
            if user.range is not None and ctx.low is not None:
                low = self.constant_level(user.range.low)
                high = self.constant_level(user.range.high)
                parts += [self.dominates(ctx.low, low), self.dominates(high, ctx.high)]
            users.append(z3.And(parts))
        return z3.And(z3.Or(roles), z3.Or(users))

    def constant_level(self, level: Level) -> SymLevel:
        bits = 0
        for c in level.categories:
            bits |= 1 << self.u.cat_bit[c]
        return SymLevel(z3.IntVal(self.u.sens_id[level.sensitivity]),
                        z3.BitVecVal(bits, self.u.width))
