"""The declaration pass of the policy.conf builder: classes, commons, MLS names,
types, attributes, aliases, booleans, roles; then attribute and role memberships."""
from __future__ import annotations

from ...model.source import Source
from .conf_common import _aliases, _err, _tpos
from .parser import Names, Stmt


class DeclarationPass:
    """Declares every name before any rule is read (checkpolicy's first pass)."""

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
            case "role_dominance":
                for node in p:
                    self._declare_role_tree(node, src)
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

    def _declare_role_tree(self, node, src: Source) -> set[str]:
        """Roles named in a role dominance tree are declared; each dominates every
        role nested in it. Returns the roles of the tree (its root included)."""
        name, children = str(node[0]), node[1]
        self.roles.setdefault(name, set())
        below: set[str] = set()
        for child in children:
            below |= self._declare_role_tree(child, src)
        self.role_dominance.setdefault(name, set()).update(below)
        return below | {name}
