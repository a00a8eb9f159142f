"""Statements → :class:`~lsmsim.model.selinux.SELinuxPolicy`: declarations first (as
checkpolicy's first pass), then rules, with every name looked up and every error
pointing at the statement that caused it."""
from __future__ import annotations


from ...errors import PolicyError, Position
from ...model.selinux import (OBJECT_R, AVRule, BoolExpr, CExpr, Condition, Constraint, Level,
                              Range, SELinuxPolicy, TypeRule, TypeSet, User)
from ...model.source import Source
from .parser import Names, RawContext, RawLevel, Stmt

# Statements that label objects or configure the compiler: parsed, checked for
# syntax, not part of access decisions.
_LABELLING = {"sid_decl", "sid_context", "default_stmt", "policycap", "fs_use", "genfscon",
              "portcon", "netifcon", "nodecon", "validatetrans", "mlsvalidatetrans",
              "xperm_rule", "range_transition", "role_transition", "expandattribute",
              "dominance"}
# Only these may sit inside an ``if`` block (checkpolicy's cond_rule_def).
_CONDITIONAL_OK = {"av_rule", "type_rule"}
_OPERAND_KIND = {"u": "user", "r": "role", "t": "type"}


def _err(message: str, where) -> PolicyError:
    if isinstance(where, Source):
        where = where.position
    return PolicyError(message, where)


def _tpos(token, fallback: Source) -> Position:
    line = getattr(token, "line", None)
    if line:
        return Position(fallback.file, line, token.column)
    return fallback.position


class PolicyBuilder:
    """Collects declarations, then resolves every rule against them."""

    def __init__(self, file: str):
        self.file = file
        self.class_order: list[str] = []
        self.commons: dict[str, frozenset[str]] = {}
        self.classes: dict[str, frozenset[str]] = {}
        self.types: dict[str, Source] = {}
        self.attributes: dict[str, set[str]] = {}
        self.aliases: dict[str, str] = {}
        self.booleans: dict[str, bool] = {}
        self.tunables: dict[str, bool] = {}
        self.sensitivities: list[str] = []
        self.sens_aliases: dict[str, str] = {}
        self.dominance: list[str] = []
        self.categories: list[str] = []
        self.cat_aliases: dict[str, str] = {}
        self.sens_cats: dict[str, frozenset[str]] = {}
        self.roles: dict[str, set[str]] = {OBJECT_R: set()}
        self.role_attributes: dict[str, set[str]] = {}
        self.policycaps: set[str] = set()
        self.rules: list[AVRule] = []
        self.type_rules: list[TypeRule] = []
        self.constraints: list[Constraint] = []
        self.typebounds: dict[str, str] = {}
        self.permissive: set[str] = set()
        self.role_allows: set[tuple[str, str]] = set()
        self.users: dict[str, User] = {}

    # ------------------------------------------------------------------ driver
    def build(self, statements: tuple[Stmt, ...]) -> SELinuxPolicy:
        self.tunable_defaults = self._tunable_defaults(statements)
        flat = list(self._flatten(statements, None))
        for stmt, _ in flat:
            self._declare(stmt)
        self._declare_memberships(flat)
        for stmt, condition in flat:
            self._rule(stmt, condition)
        if self.dominance:
            order = self.dominance
        else:
            order = self.sensitivities
        return SELinuxPolicy(
            file=self.file,
            classes={c: self.classes.get(c, frozenset()) for c in self.class_order},
            types=tuple(self.types),
            attributes={a: frozenset(m) for a, m in self.attributes.items()},
            aliases=dict(self.aliases), booleans=dict(self.booleans), rules=tuple(self.rules),
            constraints=tuple(self.constraints), typebounds=dict(self.typebounds),
            permissive=frozenset(self.permissive),
            roles={r: frozenset(t) for r, t in self.roles.items()},
            role_allows=frozenset(self.role_allows), users=dict(self.users),
            sensitivities=tuple(order), categories=tuple(self.categories),
            sensitivity_categories=dict(self.sens_cats), type_rules=tuple(self.type_rules),
            type_sources=dict(self.types), policycaps=frozenset(self.policycaps),
            mls=bool(self.sensitivities), files_read=(self.file,))

    def _flatten(self, statements, condition):
        """Statements with the condition they sit under; tunable conditions are decided
        here, as the compiler does."""
        for stmt in statements:
            if stmt.kind == "optional":
                body, other = _split_else(stmt.parts)
                yield from self._flatten(body, condition)
                continue
            if stmt.kind != "if_stmt":
                yield stmt, condition
                continue
            if condition is not None:
                raise _err("an 'if' block cannot nest inside another", stmt.source)
            expr, rest = stmt.parts[0], stmt.parts[1:]
            body, other = _split_else(rest)
            for inner in body + other:
                if inner.kind not in _CONDITIONAL_OK:
                    raise _err(f"{_describe_kind(inner.kind)} is not allowed inside an 'if' "
                               "block", inner.source)
            names = expr.names()
            tunable = names & set(self.tunable_defaults)
            if tunable and tunable != names:
                raise _err("a condition mixes booleans and tunables", stmt.source)
            if tunable:
                taken = body if expr.evaluate(self.tunable_defaults) else other
                yield from ((s, None) for s in taken)
                continue
            yield from ((s, Condition(expr, True)) for s in body)
            yield from ((s, Condition(expr, False)) for s in other)

    def _tunable_defaults(self, statements) -> dict[str, bool]:
        """Tunables are compile-time switches: known before any ``if`` is flattened."""
        found: dict[str, bool] = {}
        for stmt in statements:
            if stmt.kind == "tunable_decl":
                found[str(stmt.parts[0])] = stmt.parts[1]
            elif stmt.kind == "optional":
                found.update(self._tunable_defaults([p for p in stmt.parts
                                                     if isinstance(p, Stmt)]))
        return found

    # ------------------------------------------------------------------ declarations
    def _declare(self, stmt: Stmt) -> None:
        p, src = stmt.parts, stmt.source
        match stmt.kind:
            case "class_decl":
                name = str(p[0])
                if name in self.class_order:
                    raise _err(f"duplicate declaration of class {name}", src)
                self.class_order.append(name)
            case "common_decl":
                self.commons[str(p[0])] = frozenset(p[1].items)
            case "class_perms":
                self._class_perms(stmt)
            case "sensitivity":
                name = str(p[0])
                self.sensitivities.append(name)
                for alias in _aliases(p[1:]):
                    self.sens_aliases[alias] = name
            case "dominance":
                self.dominance = [self._sens(str(t), _tpos(t, src)) for t in p]
            case "category":
                name = str(p[0])
                self.categories.append(name)
                for alias in _aliases(p[1:]):
                    self.cat_aliases[alias] = name
            case "level_decl":
                level = p[0]
                sens = self._sens(level.sensitivity, level.position)
                self.sens_cats[sens] = frozenset(self._categories(level))
            case "attribute":
                self._new_type_name(str(p[0]), src)
                self.attributes[str(p[0])] = set()
            case "type_decl":
                name = str(p[0])
                self._new_type_name(name, src)
                self.types[name] = src
                for alias in _aliases(p[1:]):
                    self._new_type_name(alias, src)
                    self.aliases[alias] = name
            case "typealias":
                for alias in _aliases(p[1:]):
                    self._new_type_name(alias, src)
                    self.aliases[alias] = str(p[0])
            case "bool_decl":
                self.booleans[str(p[0])] = p[1]
            case "tunable_decl":
                self.tunables[str(p[0])] = p[1]
            case "role_decl" | "role_types":
                self.roles.setdefault(str(p[0]), set())
            case "attribute_role":
                self.role_attributes[str(p[0])] = set()
            case "policycap":
                self.policycaps.add(str(p[0]))

    def _declare_memberships(self, flat) -> None:
        for stmt, _ in flat:
            p, src = stmt.parts, stmt.source
            if stmt.kind == "type_decl":
                attrs = next((x for x in p[1:] if isinstance(x, tuple) and x[:1] != ("alias",)),
                             ())
                for attr in attrs:
                    self._attribute(attr, src).add(str(p[0]))
            elif stmt.kind == "typeattribute":
                type_name = self._type(str(p[0]), src, attributes=False)
                for attr in p[1]:
                    self._attribute(attr, src).add(type_name)
            elif stmt.kind == "role_decl" and len(p) > 1:
                for attr in p[1]:
                    if attr not in self.role_attributes:
                        raise _err(f"unknown role attribute {attr}", src)
                    self.role_attributes[attr].add(str(p[0]))
            elif stmt.kind == "roleattribute":
                for attr in p[1]:
                    if attr not in self.role_attributes:
                        raise _err(f"unknown role attribute {attr}", src)
                    self.role_attributes[attr].add(self._role(str(p[0]), src))

    def _class_perms(self, stmt: Stmt) -> None:
        p, src = stmt.parts, stmt.source
        name = str(p[0])
        if name not in self.class_order:
            raise _err(f"class {name} is not declared", src)
        perms: set[str] = set()
        rest = p[1:]
        if rest and not isinstance(rest[0], Names):
            common = str(rest[0])
            if common not in self.commons:
                raise _err(f"unknown common {common}", _tpos(rest[0], src))
            perms |= self.commons[common]
            rest = rest[1:]
        if rest:
            perms |= set(rest[0].items)
        self.classes[name] = frozenset(perms)

    def _new_type_name(self, name: str, src: Source) -> None:
        if name in self.types or name in self.attributes or name in self.aliases:
            raise _err(f"duplicate declaration of type/attribute {name}", src)

    # ------------------------------------------------------------------ rules
    def _rule(self, stmt: Stmt, condition: Condition | None) -> None:
        p, src = stmt.parts, stmt.source
        match stmt.kind:
            case "av_rule":
                kind = p[0]
                if kind == "auditdeny":
                    kind = "dontaudit"  # auditdeny is the inverse spelling of dontaudit
                if condition is not None and kind == "neverallow":
                    raise _err("neverallow is not allowed inside an 'if' block", src)
                if condition is not None:
                    self._check_booleans(condition.expr, src)
                sources = self._type_set(p[1], src, allow_self=False,
                                         allow_complement=kind == "neverallow")
                targets = self._type_set(p[2], src, allow_self=True,
                                         allow_complement=kind == "neverallow")
                perms = self._class_perm_sets(p[3], p[4], src)
                self.rules.append(AVRule(kind, sources, targets, perms, condition, src))
            case "role_allow":
                if p[0] != "allow":
                    raise _err(f"{p[0]} needs 'source target : class perms'", src)
                for a in self._roles(p[1], src):
                    for b in self._roles(p[2], src):
                        self.role_allows.add((a, b))
            case "type_rule":
                classes = tuple(self._classes(p[3], src))
                self.type_rules.append(TypeRule(
                    p[0], self._type_set(p[1], src, False, False),
                    self._type_set(p[2], src, True, False), classes,
                    self._type(str(p[4]), src, attributes=False),
                    str(p[5]).strip('"') if len(p) > 5 else None, condition, src))
            case "constrain" | "mlsconstrain":
                perms = self._class_perm_sets(p[0], p[1], src)
                expr = self._cexpr(p[2], src, mls=stmt.kind == "mlsconstrain")
                self.constraints.append(Constraint(perms, expr, stmt.kind == "mlsconstrain",
                                                   src))
            case "typebounds":
                bound = self._type(str(p[0]), src, attributes=False)
                for child in p[1]:
                    self.typebounds[self._type(child, src, attributes=False)] = bound
            case "permissive":
                self.permissive.add(self._type(str(p[0]), src, attributes=False))
            case "role_types":
                role = str(p[0])
                self.roles[role] |= self._expand_types(self._type_set(p[1], src, False, True))
            case "user_decl":
                self._user(stmt)
            case "sid_context" | "fs_use" | "genfscon" | "portcon" | "netifcon" | "nodecon":
                for part in p:
                    if isinstance(part, RawContext):
                        self._context(part)
            case "type_decl" | "typealias" | "typeattribute" | "attribute" | "bool_decl" \
                    | "tunable_decl" | "class_decl" | "class_perms" | "common_decl" \
                    | "sensitivity" | "category" | "level_decl" | "role_decl" \
                    | "attribute_role" | "roleattribute":
                pass
            case kind if kind in _LABELLING:
                pass
            case kind:
                raise _err(f"{_describe_kind(kind)} is not supported", src)

    def _check_booleans(self, expr: BoolExpr, src: Source) -> None:
        for name in expr.names():
            if name not in self.booleans:
                raise _err(f"unknown boolean {name}", src)

    # ------------------------------------------------------------------ name resolution
    def _type(self, name: str, src, attributes: bool = True) -> str:
        name = self.aliases.get(name, name)
        if name in self.types or (attributes and name in self.attributes):
            return name
        what = "type or attribute" if attributes else "type"
        if name in self.attributes:
            raise _err(f"{name} is an attribute; a type is needed here", src)
        raise _err(f"unknown {what} {name}", src)

    def _attribute(self, name: str, src) -> set[str]:
        if name not in self.attributes:
            raise _err(f"unknown attribute {name}", src)
        return self.attributes[name]

    def _type_set(self, names: Names, src: Source, allow_self: bool,
                  allow_complement: bool) -> TypeSet:
        where = names.position or src.position
        if names.complement and not allow_complement:
            raise _err("~ not allowed in this type of rule", where)
        if names.star:
            return TypeSet(frozenset(self.types))
        self_ = "self" in names.items
        if self_ and not allow_self:
            raise _err("'self' is only allowed as a target", where)
        included = frozenset(self._type(n, where) for n in names.items if n != "self")
        excluded = frozenset(self._type(n, where) for n in names.excluded)
        if names.complement:
            inside = TypeSet(included, excluded)
            rest = {t for t in self.types if not inside.contains(self._probe(), t)}
            return TypeSet(frozenset(rest), self_=self_)
        return TypeSet(included, excluded, self_)

    def _probe(self) -> SELinuxPolicy:
        return SELinuxPolicy(self.file, {}, tuple(self.types),
                             {a: frozenset(m) for a, m in self.attributes.items()}, {}, {}, ())

    def _expand_types(self, type_set: TypeSet) -> set[str]:
        probe = self._probe()
        return {t for t in self.types if type_set.contains(probe, t)}

    def _classes(self, names: Names, src: Source) -> list[str]:
        where = names.position or src.position
        for n in names.items + names.excluded:
            if n not in self.class_order:
                raise _err(f"unknown class {n}", where)
        if names.star:
            return list(self.class_order)
        if names.complement:
            return [c for c in self.class_order if c not in names.items]
        return [c for c in dict.fromkeys(names.items) if c not in names.excluded]

    def _class_perm_sets(self, class_names: Names, perm_names: Names, src: Source):
        classes = self._classes(class_names, src)
        where = perm_names.position or src.position
        listed = set(perm_names.items)
        known = set().union(*(self.classes.get(c, frozenset()) for c in classes))
        for perm in listed - known:
            raise _err(f"permission {perm} is not defined for class "
                       f"{' '.join(classes)}", where)
        out = []
        for c in classes:
            valid = self.classes.get(c, frozenset())
            if perm_names.star:
                perms = valid
            elif perm_names.complement:
                perms = valid - listed
            else:
                perms = valid & listed
            out.append((c, frozenset(perms)))
        return tuple(out)

    def _role(self, name: str, src) -> str:
        if name not in self.roles:
            raise _err(f"unknown role {name}", src)
        return name

    def _roles(self, names: Names, src: Source) -> set[str]:
        where = names.position or src.position
        out: set[str] = set()
        pool = set(self.roles) | set(self.role_attributes)
        if names.star:
            return set(self.roles)
        for n in names.items:
            if n not in pool:
                raise _err(f"unknown role {n}", where)
            out |= self.role_attributes.get(n, {n})
        for n in names.excluded:
            out -= self.role_attributes.get(n, {n})
        if names.complement:
            out = set(self.roles) - out
        return out

    def _sens(self, name: str, where) -> str:
        name = self.sens_aliases.get(name, name)
        if name not in self.sensitivities:
            raise _err(f"unknown sensitivity {name}", where)
        return name

    def _categories(self, level: RawLevel) -> list[str]:
        out: list[str] = []
        for item in level.categories:
            if "." in item:
                first, _, last = item.partition(".")
                a, b = (self._cat(x, level.position) for x in (first, last))
                i, j = self.categories.index(a), self.categories.index(b)
                if i > j:
                    raise _err(f"category range {item} is backwards", level.position)
                out.extend(self.categories[i:j + 1])
            else:
                out.append(self._cat(item, level.position))
        return out

    def _cat(self, name: str, where) -> str:
        name = self.cat_aliases.get(name, name)
        if name not in self.categories:
            raise _err(f"unknown category {name}", where)
        return name

    def level(self, raw: RawLevel) -> Level:
        sens = self._sens(raw.sensitivity, raw.position)
        cats = frozenset(self._categories(raw))
        allowed = self.sens_cats.get(sens)
        if allowed is not None and not cats <= allowed:
            raise _err(f"categories {','.join(sorted(cats - allowed))} are not associated "
                       f"with {sens}", raw.position)
        return Level(sens, cats)

    def mls_range(self, raw: tuple[RawLevel, RawLevel]) -> Range:
        low, high = self.level(raw[0]), self.level(raw[1])
        order = {s: i for i, s in enumerate(self.dominance or self.sensitivities)}
        if not high.dominates(low, order):
            raise _err("the high level of a range must dominate the low level",
                       raw[1].position)
        return Range(low, high)

    def _context(self, raw: RawContext) -> None:
        if raw.user not in self.users:
            raise _err(f"unknown user {raw.user}", raw.position)
        self._role(raw.role, raw.position)
        self._type(raw.type, raw.position, attributes=False)
        if raw.range:
            self.mls_range(raw.range)

    def _user(self, stmt: Stmt) -> None:
        p, src = stmt.parts, stmt.source
        roles = self._roles(p[1], src)
        level = self.level(p[2]) if len(p) > 2 else None
        range_ = self.mls_range(p[3]) if len(p) > 3 else None
        if self.sensitivities and range_ is None:
            raise _err("an MLS policy needs 'level' and 'range' on each user", src)
        self.users[str(p[0])] = User(str(p[0]), frozenset(roles), level, range_)

    # ------------------------------------------------------------------ constraints
    def _cexpr(self, expr: CExpr, src: Source, mls: bool) -> CExpr:
        if expr.op in ("and", "or", "not"):
            return CExpr(expr.op, tuple(self._cexpr(a, src, mls) for a in expr.args))
        op, left, right = expr.args
        if left.endswith("3") or (expr.op == "attr" and right.endswith("3")):
            raise _err(f"{left if left.endswith('3') else right} is only allowed in "
                       "validatetrans", src)
        if left[0] in "lh":
            if expr.op != "attr" or right[0] not in "lh":
                raise _err(f"{left} can only be compared with a level (l1 l2 h1 h2)", src)
            if not mls:
                raise _err("levels can only be compared in mlsconstrain", src)
            return expr
        if op in ("dom", "domby", "incomp") and left[0] != "r":
            raise _err(f"'{op}' compares roles or levels, not {left}", src)
        if expr.op == "attr":
            if right[0] != left[0]:
                raise _err(f"cannot compare {left} with {right}", src)
            return expr
        names: Names = right
        kind = _OPERAND_KIND[left[0]]
        where = names.position or src.position
        if kind == "type":
            resolved = frozenset(self._expand_types(self._type_set(names, src, False, True)))
        elif kind == "role":
            resolved = frozenset(self._roles(names, src))
        else:
            for n in names.items:
                if n not in self.users:
                    raise _err(f"unknown user {n}", where)
            resolved = frozenset(names.items)
            if names.star:
                resolved = frozenset(self.users)
        return CExpr("names", (op, left, resolved))


def _split_else(parts) -> tuple[list, list]:
    body, other = [], []
    for part in parts:
        if isinstance(part, tuple) and part[:1] == ("else",):
            other = list(part[1])
        elif isinstance(part, Stmt):
            body.append(part)
    return body, other


def _aliases(parts) -> tuple[str, ...]:
    for part in parts:
        if isinstance(part, tuple) and part[:1] == ("alias",):
            return part[1]
    return ()


def _describe_kind(kind: str) -> str:
    return {"av_rule": "an access rule", "if_stmt": "an 'if' block",
            "optional": "an 'optional' block"}.get(kind, f"'{kind.split('_')[0]}'")
