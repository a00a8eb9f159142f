"""CIL values written in place or by name: category sets, levels, ranges, contexts,
class permissions and boolean conditions, resolved against the symbol tables."""
from __future__ import annotations

from typing import Mapping

from ...errors import PolicyError
from ...model.selinux import BoolExpr, Level, Range
from .cil_expand import Scope
from .cil_names import Anonymous, Symbols, Unresolved
from .cil_syntax import SList

SET_OPERATORS = ("and", "or", "xor", "not", "all", "range")
_BOOL_OPERATORS = {"and": "and", "or": "or", "xor": "xor", "eq": "eq", "neq": "ne", "not": "not"}


def err(message: str, node) -> PolicyError:
    return PolicyError(message, node.position)


def as_list(item, node: SList, what: str) -> SList:
    if type(item) is not SList:
        raise err(f"{node.head}: {what} must be a list, not {item!r}", node)
    return item


def set_expression(item, leaf_node: SList, operand) -> set:
    """A CIL set expression (``(a b)``, ``(and X Y)``, ``(not X)``, ``(all)``,
    ``(range a b)``) evaluated with ``operand(name or list) -> set``; ``operand`` is
    also called with the keywords ``all`` and ``range`` as ``(keyword, args)``."""
    if type(item) is not SList:
        return operand(item)
    items = item.items
    head = item.head
    if head in ("and", "or", "xor"):
        if len(items) != 3:
            raise err(f"'{head}' takes two operands", item)
        a = set_expression(items[1], leaf_node, operand)
        b = set_expression(items[2], leaf_node, operand)
        return a & b if head == "and" else a | b if head == "or" else a ^ b
    if head == "not":
        if len(items) != 2:
            raise err("'not' takes one operand", item)
        return operand(("all", ())) - set_expression(items[1], leaf_node, operand)
    if head == "all":
        if len(items) != 1:
            raise err("'all' takes no operand", item)
        return operand(("all", ()))
    if head == "range":
        if len(items) != 3:
            raise err("'range' takes two operands", item)
        return operand(("range", items[1:]))
    out: set = set()
    for sub in items:
        out |= set_expression(sub, leaf_node, operand)
    return out


class Values:
    """Resolves values once the declarations and orders are known."""

    def __init__(self, symbols: Symbols, category_order: list[str],
                 sensitivity_order: list[str], class_perms: Mapping[str, frozenset[str]],
                 sens_categories: Mapping[str, frozenset[str]]):
        self.symbols = symbols
        self.category_order = category_order
        self.category_index = {c: i for i, c in enumerate(category_order)}
        self.sensitivity_rank = {s: i for i, s in enumerate(sensitivity_order)}
        self.class_perms = class_perms
        self.sens_categories = sens_categories
        self._resolving: set[str] = set()
        self._written_perms: dict[tuple, tuple[tuple[str, frozenset[str]], ...]] = {}

    # --- categories, levels, ranges ---
    def category(self, name, scope: Scope, node: SList) -> str:
        qname = self.symbols.name("categories", name, scope, node, "category")
        decl = self.symbols.get("categories", qname)
        if decl.kind == "categoryset":
            raise err(f"{name} is a category set; a category is needed here", node)
        if decl.kind == "alias":
            if decl.value is None:
                raise err(f"category alias {qname} has no categoryaliasactual", node)
            return decl.value
        return qname

    def categories(self, item, scope: Scope, node: SList) -> frozenset[str]:
        def operand(x):
            if type(x) is tuple:
                keyword, args = x
                if keyword == "all":
                    return set(self.category_order)
                first, last = (self.category(a, scope, node) for a in args)
                for name in (first, last):
                    if name not in self.category_index:
                        raise err(f"category {name} is not in categoryorder", node)
                i, j = self.category_index[first], self.category_index[last]
                if i > j:
                    raise err(f"category range {first} {last} is backwards", node)
                return set(self.category_order[i:j + 1])
            found = self.symbols.lookup("categories", x, scope)
            if type(found) is Anonymous:
                return set(self.categories(found.item, found.scope, node))
            if found is None:
                raise Unresolved(f"unknown category {x}", node.position)
            decl = self.symbols.get("categories", found)
            if decl.kind == "categoryset":
                return set(self._named(decl, "categoryset", found,
                                       lambda raw, sc: self.categories(raw, sc, node)))
            return {self.category(x, scope, node)}
        out = frozenset(set_expression(item, node, operand))
        for cat in out:
            if cat not in self.category_index:
                raise err(f"category {cat} is not in the categoryorder", node)
        return out

    def _named(self, decl, what: str, qname: str, resolve):
        """A named value (level, range, category set, context) resolved once."""
        cached = decl.value.get("resolved") if isinstance(decl.value, dict) else None
        if cached is not None:
            return cached
        if qname in self._resolving:
            raise err(f"{what} {qname} refers to itself", decl.leaf.node)
        self._resolving.add(qname)
        try:
            value = resolve(decl.value["raw"], decl.leaf.scope)
        finally:
            self._resolving.discard(qname)
        decl.value["resolved"] = value
        return value

    def sensitivity(self, name, scope: Scope, node: SList) -> str:
        qname = self.symbols.name("sensitivities", name, scope, node, "sensitivity")
        decl = self.symbols.get("sensitivities", qname)
        if decl.kind == "alias":
            if decl.value is None:
                raise err(f"sensitivity alias {qname} has no sensitivityaliasactual", node)
            return decl.value
        return qname

    def level(self, item, scope: Scope, node: SList) -> Level:
        found = self.symbols.lookup("levels", item, scope) if type(item) is str else None
        if type(found) is Anonymous:
            return self.level(found.item, found.scope, node)
        if found is not None:
            decl = self.symbols.get("levels", found)
            return self._named(decl, "level", found, lambda raw, sc: self.level(raw, sc, node))
        if type(item) is not SList:
            raise Unresolved(f"unknown level {item}", node.position)
        if not 1 <= len(item.items) <= 2:
            raise err("a level is written (sensitivity) or (sensitivity categories)", item)
        sens = self.sensitivity(item.items[0], scope, item)
        if sens not in self.sensitivity_rank:
            raise err(f"sensitivity {sens} is not in the sensitivityorder", item)
        cats = self.categories(item.items[1], scope, item) if len(item.items) > 1 else frozenset()
        allowed = self.sens_categories.get(sens, frozenset())
        if not cats <= allowed:
            raise err(f"categories {','.join(sorted(cats - allowed))} are not associated "
                      f"with {sens}", item)
        return Level(sens, cats)

    def level_range(self, item, scope: Scope, node: SList) -> Range:
        found = self.symbols.lookup("levelranges", item, scope) if type(item) is str else None
        if type(found) is Anonymous:
            return self.level_range(found.item, found.scope, node)
        if found is not None:
            decl = self.symbols.get("levelranges", found)
            return self._named(decl, "levelrange", found,
                               lambda raw, sc: self.level_range(raw, sc, node))
        if type(item) is not SList:
            raise Unresolved(f"unknown levelrange {item}", node.position)
        if len(item.items) != 2:
            raise err("a level range is written (low high)", item)
        low, high = (self.level(x, scope, item) for x in item.items)
        if not high.dominates(low, self.sensitivity_rank):
            raise err("the high level of a range must dominate the low level", item)
        return Range(low, high)

    # --- classes and permissions ---
    def class_name(self, name, scope: Scope, node: SList) -> str:
        qname = self.symbols.name("classes", name, scope, node, "class")
        return qname

    def class_permissions(self, item, scope: Scope, node: SList,
                          mapping: Mapping[str, Mapping[str, list]] | None = None
                          ) -> tuple[tuple[str, frozenset[str]], ...]:
        """``(class (perms))``, a named classpermission, or a classmap's permissions."""
        # A policy writes the same few hundred (class (perms)) lists over and over:
        # outside macros (where arguments could change a name) each is resolved once.
        if (mapping is None and type(item) is SList and len(item.items) == 2
                and not scope.params and type(item.items[1]) is SList):
            key = (scope.chain, item.items[0], item.items[1].items)
            found = self._written_perms.get(key)
            if found is None:
                found = self._written_perms[key] = self._class_permissions(item, scope, node,
                                                                           None)
            return found
        return self._class_permissions(item, scope, node, mapping)

    def _class_permissions(self, item, scope: Scope, node: SList,
                           mapping: Mapping[str, Mapping[str, list]] | None
                           ) -> tuple[tuple[str, frozenset[str]], ...]:
        found = self.symbols.lookup("classpermissions", item, scope) if type(item) is str \
            else None
        if type(found) is Anonymous:
            return self.class_permissions(found.item, found.scope, node, mapping)
        if found is not None:
            decl = self.symbols.get("classpermissions", found)
            out: dict[str, frozenset[str]] = {}
            for raw, raw_scope, raw_node in decl.value["sets"]:
                for cls, perms in self.class_permissions(raw, raw_scope, raw_node, mapping):
                    out[cls] = out.get(cls, frozenset()) | perms
            return tuple(out.items())
        if type(item) is not SList:
            raise Unresolved(f"unknown classpermission {item}", node.position)
        if len(item.items) != 2:
            raise err("class permissions are written (class (permissions))", item)
        cls = self.class_name(item.items[0], scope, item)
        decl = self.symbols.get("classes", cls)
        if decl.kind == "classmap":
            return self._classmap(cls, decl, item, scope, mapping)
        valid = self.class_perms[cls]

        def operand(x):
            if type(x) is tuple:
                if x[0] == "all":
                    return set(valid)
                raise err("'range' is not a permission expression", item)
            if x not in valid:
                raise Unresolved(f"permission {x} is not defined for class {cls}", item.position)
            return {x}
        perms = item.items[1]
        if type(perms) is not SList:
            raise err("permissions must be a list", item)
        return ((cls, frozenset(set_expression(perms, item, operand))),)

    def _classmap(self, cls, decl, item, scope, mapping):
        valid = decl.value["perms"]
        names = item.items[1]
        if type(names) is not SList:
            raise err("classmap permissions must be a list", item)
        out: dict[str, frozenset[str]] = {}
        for perm in names.items:
            if type(perm) is not str or perm not in valid:
                raise Unresolved(f"{perm} is not a permission of classmap {cls}", item.position)
            for raw, raw_scope, raw_node in decl.value["mappings"].get(perm, ()):
                for c, p in self.class_permissions(raw, raw_scope, raw_node, mapping):
                    out[c] = out.get(c, frozenset()) | p
        return tuple(out.items())

    # --- boolean conditions ---
    def condition(self, item, scope: Scope, node: SList, table: str) -> BoolExpr:
        if type(item) is str:
            found = self.symbols.lookup(table, item, scope)
            if type(found) is Anonymous:
                return self.condition(found.item, found.scope, node, table)
            if found is None:
                raise Unresolved(f"unknown {table[:-1]} {item}", node.position)
            return BoolExpr("name", (found,))
        if type(item) is not SList or not item.items:
            raise err("a condition is expected", node)
        head = item.head
        if head in _BOOL_OPERATORS:
            arity = 1 if head == "not" else 2
            if len(item.items) != arity + 1:
                raise err(f"'{head}' takes {arity} operand{'s' if arity > 1 else ''}", item)
            args = tuple(self.condition(x, scope, item, table) for x in item.items[1:])
            return BoolExpr(_BOOL_OPERATORS[head], args)
        if len(item.items) == 1:
            return self.condition(item.items[0], scope, item, table)
        raise err(f"unknown condition operator {head!r}", item)
