"""CIL symbol tables: declared names by table (secilc's symtabs) and their lookup."""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import PolicyError
from .cil_expand import Leaf, Scope, qualify
from .cil_syntax import SList

# secilc's symbol tables: names in one table must be unique; a reference looks in
# the table its position calls for.
TABLES = ("types", "roles", "users", "booleans", "tunables", "sensitivities", "categories",
          "classes", "commons", "classpermissions", "levels", "levelranges", "contexts",
          "sids", "ipaddrs", "permissionx", "policycaps")


class Unresolved(PolicyError):
    """A name no declaration provides (disables the optional it is in)."""


@dataclass(slots=True)
class Decl:
    """One declared name: what it is (``type``, ``attribute``, ``alias``, ...), the
    statement that declared it, and a value where it has one (an alias's actual name
    is filled in when its ``...aliasactual`` statement is read)."""

    kind: str
    leaf: Leaf
    value: object = None


@dataclass(frozen=True)
class Anonymous:
    """A macro argument written in place (a level, a class-permission list, ...),
    with the caller's scope to resolve the names in it."""

    item: SList
    scope: Scope


class Symbols:
    """Every declared name, by table."""

    def __init__(self):
        self.tables: dict[str, dict[str, Decl]] = {t: {} for t in TABLES}

    def declare(self, table: str, kind: str, leaf: Leaf, name: str, value=None) -> str:
        if type(name) is not str:
            raise PolicyError(f"{leaf.node.head}: a name is expected", leaf.node.position)
        if "." in name:
            raise PolicyError(f"declared name {name} may not contain '.'", leaf.node.position)
        qname = qualify(leaf.scope.prefix, name)
        found = self.tables[table].get(qname)
        if found is not None:
            raise PolicyError(f"re-declaration of {qname} (first declared at "
                              f"{found.leaf.node.position})", leaf.node.position)
        self.tables[table][qname] = Decl(kind, leaf, value)
        return qname

    def lookup(self, table: str, name, scope: Scope):
        """The qualified name ``name`` stands for here, an :class:`Anonymous` macro
        argument, or None."""
        while type(name) is str and name in scope.params:
            _kind, arg, caller = scope.params[name]
            if type(arg) is SList:
                return Anonymous(arg, caller)
            name, scope = arg, caller
        if type(name) is SList:
            return Anonymous(name, scope)
        entries = self.tables[table]
        if name.startswith("."):
            return name[1:] if name[1:] in entries else None
        for ns in scope.chain:
            qname = f"{ns}.{name}" if ns else name
            if qname in entries:
                return qname
        return None

    def name(self, table: str, name, scope: Scope, node: SList, what: str) -> str:
        """A qualified name of ``table`` (anonymous values are an error here)."""
        found = self.lookup(table, name, scope)
        if found is None:
            raise Unresolved(f"unknown {what} {name}", node.position)
        if type(found) is Anonymous:
            raise PolicyError(f"a {what} name is expected, not a list", node.position)
        return found

    def get(self, table: str, qname: str) -> Decl:
        return self.tables[table][qname]

    def kind(self, table: str, qname: str) -> str:
        return self.tables[table][qname].kind
