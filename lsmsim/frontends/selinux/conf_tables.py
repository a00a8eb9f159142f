"""The policy.conf builder's symbol tables and every name lookup against them
(types, attributes, classes and permissions, roles, users, levels, contexts)."""
from __future__ import annotations

from ...model.selinux import (OBJECT_R, AVRule, BoolExpr, Constraint, KeptStatement, Level,
                              Range, SELinuxPolicy, TypeRule, TypeSet, User, XpermRule)
from ...model.source import Source
from .conf_common import _err
from .parser import Names, RawContext, RawLevel, Stmt


class ConfTables:
    """What has been declared so far, and how a written name resolves against it."""

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
        self.role_dominance: dict[str, set[str]] = {}
        self.categories: list[str] = []
        self.cat_aliases: dict[str, str] = {}
        self.sens_cats: dict[str, frozenset[str]] = {}
        self.roles: dict[str, set[str]] = {OBJECT_R: set()}
        self.role_attributes: dict[str, set[str]] = {}
        self.policycaps: set[str] = set()
        self.rules: list[AVRule] = []
        self.type_rules: list[TypeRule] = []
        self.xperm_rules: list[XpermRule] = []
        self.constraints: list[Constraint] = []
        self.typebounds: dict[str, str] = {}
        self.permissive: set[str] = set()
        self.role_allows: set[tuple[str, str]] = set()
        self.users: dict[str, User] = {}
        self.kept: list[KeptStatement] = []


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
