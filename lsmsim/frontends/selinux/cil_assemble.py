"""CIL facts → :class:`SELinuxPolicy`: attribute and role-attribute sets evaluated,
role types, users and constraints completed with them."""
from __future__ import annotations

from ...model.selinux import OBJECT_R, CExpr, Constraint, KeptStatement, SELinuxPolicy, User
from .cil_declare import Declarations
from .cil_rules import Facts
from .cil_syntax import source_of
from .cil_values import err


class _SetEvaluator:
    """Members of each attribute from every ``...attributeset`` of it, attributes in
    the expressions standing for their own members."""

    def __init__(self, universe: list[str], sets: dict[str, list], is_attribute):
        self.universe = frozenset(universe)
        self.sets = sets
        self.is_attribute = is_attribute
        self.done: dict[str, frozenset[str]] = {}
        self.active: set[str] = set()

    def members(self, name: str, node=None) -> frozenset[str]:
        found = self.done.get(name)
        if found is not None:
            return found
        if name in self.active:
            raise err(f"attribute {name} contains itself", node)
        self.active.add(name)
        out: set[str] = set()
        for expr, where in self.sets.get(name, ()):
            out |= self.evaluate(expr, where)
        self.active.discard(name)
        self.done[name] = frozenset(out)
        return self.done[name]

    def evaluate(self, expr, node) -> set[str] | frozenset[str]:
        if type(expr) is str:
            return self.members(expr, node) if self.is_attribute(expr) else {expr}
        head, args = expr[0], expr[1:]
        if head == "all":
            return self.universe
        if head == "not":
            return self.universe - self.evaluate(args[0], node)
        values = [self.evaluate(a, node) for a in args]
        if head == "and":
            return values[0] & values[1]
        if head == "xor":
            return values[0] ^ values[1]
        out: set[str] = set()
        for v in values:
            out |= v
        return out


def assemble(file: str, files: tuple[str, ...], decls: Declarations,
             by_kind: Facts) -> SELinuxPolicy:
    symbols = decls.symbols
    types_table = symbols.tables["types"]
    types = [n for n, d in types_table.items() if d.kind == "type"]
    attribute_names = [n for n, d in types_table.items() if d.kind == "attribute"]
    sets: dict[str, list] = {}
    for name, expr, node in by_kind.get("attribute_set", ()):
        sets.setdefault(name, []).append((expr, node))
    type_eval = _SetEvaluator(types, sets, lambda n: types_table[n].kind == "attribute")
    attributes = {a: type_eval.members(a) for a in attribute_names}

    roles_table = symbols.tables["roles"]
    role_names = [n for n, d in roles_table.items() if d.kind == "role"]
    role_sets: dict[str, list] = {}
    for name, expr, node in by_kind.get("role_attribute_set", ()):
        role_sets.setdefault(name, []).append((expr, node))
    role_eval = _SetEvaluator(role_names, role_sets,
                              lambda n: roles_table[n].kind == "attribute")

    def roles_of(name: str) -> frozenset[str]:
        return role_eval.members(name) if roles_table[name].kind == "attribute" \
            else frozenset((name,))

    def types_of(name: str) -> frozenset[str]:
        return attributes[name] if name in attributes else frozenset((name,))

    role_types: dict[str, set[str]] = {r: set() for r in role_names}
    role_types.setdefault(OBJECT_R, set())
    for role, type_name, _node in by_kind.get("role_type", ()):
        for r in roles_of(role):
            role_types[r] |= types_of(type_name)
    role_allows = {(a, b) for x, y in by_kind.get("role_allow", ())
                   for a in roles_of(x) for b in roles_of(y)}

    mls = any(by_kind.get("mls", ()))
    users = _users(symbols, by_kind, roles_of, mls)
    order = {s: i for i, s in enumerate(decls.orders["sensitivities"])}
    for user, role, type_name, rng, node in by_kind.get("context", ()):
        _check_context(users[user], role, type_name, rng, role_types, order, mls, node)
    constraints, kept = [], list(by_kind.get("kept", ()))
    for constraint in by_kind.get("constraint", ()):
        if constraint.mls and not mls:
            kept.append(KeptStatement("mlsconstrain", constraint.source))
            continue
        expr = _expand(constraint.expr, types_of, roles_of)
        constraints.append(Constraint(constraint.perms, expr, constraint.mls, constraint.source))
    classes = {c: decls.class_perms[c] for c in decls.orders["classes"] if c in decls.class_perms}
    for c, perms in decls.class_perms.items():
        classes.setdefault(c, perms)
    aliases = {n: d.value for n, d in types_table.items() if d.kind == "alias"}
    return SELinuxPolicy(
        file=file, classes=classes, types=tuple(types), attributes=attributes,
        aliases=aliases,
        booleans={n: d.value for n, d in symbols.tables["booleans"].items()},
        rules=tuple(by_kind.get("rule", ())), constraints=tuple(constraints),
        typebounds=dict(by_kind.get("typebounds", ())),
        permissive=frozenset(by_kind.get("permissive", ())),
        roles={r: frozenset(t) for r, t in role_types.items()},
        role_allows=frozenset(role_allows), users=users,
        sensitivities=tuple(decls.orders["sensitivities"]) if mls else (),
        categories=tuple(decls.orders["categories"]) if mls else (),
        sensitivity_categories=dict(decls.sens_categories) if mls else {},
        type_rules=tuple(by_kind.get("type_rule", ())),
        xperm_rules=tuple(by_kind.get("xperm_rule", ())),
        type_sources={n: source_of(types_table[n].leaf.node) for n in types},
        policycaps=frozenset(symbols.tables["policycaps"]), kept=tuple(kept), mls=mls,
        files_read=files)


def _users(symbols, by_kind, roles_of, mls: bool) -> dict[str, User]:
    roles: dict[str, set[str]] = {u: set() for u in symbols.tables["users"]}
    for user, role in by_kind.get("user_role", ()):
        roles[user] |= roles_of(role)
    levels = dict(by_kind.get("user_level", ()))
    ranges = dict(by_kind.get("user_range", ()))
    out = {}
    for name in symbols.tables["users"]:
        if mls and (name not in levels or name not in ranges):
            node = symbols.get("users", name).leaf.node
            raise err(f"user {name} needs a userlevel and a userrange in an MLS policy", node)
        out[name] = User(name, frozenset(roles[name]), levels.get(name) if mls else None,
                         ranges.get(name) if mls else None)
    return out


def _check_context(user: User, role: str, type_name: str, rng, role_types, order, mls: bool,
                   node) -> None:
    """A labelling context must be one the policy can hold, as secilc verifies."""
    if role not in user.roles:
        raise err(f"role {role} is not authorised for user {user.name}", node)
    if type_name not in role_types.get(role, ()):
        raise err(f"type {type_name} is not authorised for role {role}", node)
    if mls and user.range is not None and not (
            rng.low.dominates(user.range.low, order)
            and user.range.high.dominates(rng.high, order)):
        raise err(f"range {rng.format()} is not within the range of user {user.name}", node)


def _expand(expr: CExpr, types_of, roles_of) -> CExpr:
    if expr.op in ("and", "or", "not"):
        return CExpr(expr.op, tuple(_expand(a, types_of, roles_of) for a in expr.args))
    if expr.op != "names":
        return expr
    op, left, names = expr.args
    if left[0] == "t":
        names = frozenset().union(*(types_of(n) for n in names))
    elif left[0] == "r":
        names = frozenset().union(*(roles_of(n) for n in names))
    return CExpr("names", (op, left, names))
