"""The CIL declaration pass: every declared name into the symbol tables, then the
statements that complete declarations (alias actuals, class commons, orders, named
class-permission sets, sensitivity categories), as secilc resolves them first."""
from __future__ import annotations

from dataclasses import dataclass, field

from ...errors import PolicyError
from .cil_expand import Leaf
from .cil_names import Decl, Symbols, Unresolved
from .cil_syntax import SList
from .cil_values import Values, err

# keyword → (table, kind, has a value list after the name)
_NAMES = {
    "type": ("types", "type"), "typeattribute": ("types", "attribute"),
    "typealias": ("types", "alias"), "role": ("roles", "role"),
    "roleattribute": ("roles", "attribute"), "user": ("users", "user"),
    "sensitivity": ("sensitivities", "sensitivity"),
    "sensitivityalias": ("sensitivities", "alias"), "category": ("categories", "category"),
    "categoryalias": ("categories", "alias"), "sid": ("sids", "sid"),
    "policycap": ("policycaps", "policycap"),
}
_NAMED_VALUES = {"level": "levels", "levelrange": "levelranges", "context": "contexts",
                 "categoryset": "categories", "ipaddr": "ipaddrs", "permissionx": "permissionx"}
_ALIAS_ACTUALS = {"typealiasactual": ("types", "type"),
                  "sensitivityaliasactual": ("sensitivities", "sensitivity"),
                  "categoryaliasactual": ("categories", "category")}
_ORDERS = {"classorder": "classes", "sensitivityorder": "sensitivities",
           "categoryorder": "categories", "sidorder": "sids"}
# Statements secilc knows that lsmsim refuses rather than misread.
_UNSUPPORTED = {"userattribute", "userattributeset", "userbounds", "rolebounds", "deny"}

# The statements of the first pass (names) and of the second (what completes them).
_DECLARING = frozenset(_NAMES) | frozenset(_NAMED_VALUES) | _UNSUPPORTED | {
    "boolean", "tunable", "class", "classmap", "common", "classpermission"}
_COMPLETING = frozenset(_ALIAS_ACTUALS) | frozenset(_ORDERS) | {
    "classcommon", "classpermissionset", "classmapping", "sensitivitycategory"}


def shape(node: SList, count: int, what: str, at_least: bool = False) -> tuple:
    """The statement's operands, checked for number (``what`` describes them)."""
    args = node.items[1:]
    if len(args) < count or (not at_least and len(args) != count):
        raise err(f"{node.head}: expected ({node.head} {what})", node)
    return args


@dataclass
class Declarations:
    """What the declaration pass learnt besides the names themselves."""

    symbols: Symbols
    class_perms: dict[str, frozenset[str]] = field(default_factory=dict)
    orders: dict[str, list[str]] = field(default_factory=dict)
    sens_categories: dict[str, frozenset[str]] = field(default_factory=dict)
    values: Values | None = None


def declare(leaves: list[Leaf]) -> Declarations:
    """Run the declaration pass over ``leaves`` (missing names raise
    :class:`Unresolved` with the leaf in ``error.leaf``)."""
    decls = Declarations(Symbols())
    symbols = decls.symbols
    commons: dict[str, frozenset[str]] = {}
    # Most statements are rules: only the few that declare or complete names are
    # looked at (a statement's first item is its keyword, as the expansion checked).
    declaring, completing = [], []
    for leaf in leaves:
        head = leaf.node.items[0]
        if head in _DECLARING:
            declaring.append(leaf)
        elif head in _COMPLETING:
            completing.append(leaf)
    for leaf in declaring:
        _guard(leaf, lambda: _declare_name(leaf, symbols, commons, decls))
    order_lists: dict[str, list[tuple[list[str], SList]]] = {t: [] for t in _ORDERS.values()}
    senscats: list[Leaf] = []
    for leaf in completing:
        node = leaf.node
        head = node.head
        if head in _ALIAS_ACTUALS:
            _guard(leaf, lambda: _alias_actual(leaf, symbols))
        elif head == "classcommon":
            _guard(leaf, lambda: _class_common(leaf, symbols, decls, commons))
        elif head in _ORDERS:
            _guard(leaf, lambda: order_lists[_ORDERS[head]].append(_order(leaf, symbols)))
        elif head == "classpermissionset":
            _guard(leaf, lambda: _classpermissionset(leaf, symbols))
        elif head == "classmapping":
            _guard(leaf, lambda: _classmapping(leaf, symbols))
        elif head == "sensitivitycategory":
            senscats.append(leaf)
    for table, lists in order_lists.items():
        decls.orders[table] = _merge_orders(lists)
    decls.values = Values(symbols, decls.orders["categories"], decls.orders["sensitivities"],
                          decls.class_perms, decls.sens_categories)
    for leaf in senscats:
        _guard(leaf, lambda: _sensitivity_categories(leaf, decls))
    return decls


def _guard(leaf: Leaf, action) -> None:
    try:
        action()
    except Unresolved as error:
        error.leaf = leaf
        raise


def _declare_name(leaf: Leaf, symbols: Symbols, commons, decls: Declarations) -> None:
    node = leaf.node
    head = node.head
    if head in _NAMES:
        table, kind = _NAMES[head]
        name = shape(node, 1, "name")[0]
        symbols.declare(table, kind, leaf, name)
    elif head in ("boolean", "tunable"):
        name, value = shape(node, 2, "name true|false")
        if value not in ("true", "false"):
            raise err(f"{head}: the default must be true or false, not {value!r}", node)
        symbols.declare(head + "s", head, leaf, name, value == "true")
    elif head in _NAMED_VALUES:
        name, raw = shape(node, 2, "name value")
        symbols.declare(_NAMED_VALUES[head], head, leaf, name, {"raw": raw})
    elif head == "class":
        name, perms = shape(node, 2, "name (permissions)")
        qname = symbols.declare("classes", "class", leaf, name)
        decls.class_perms[qname] = frozenset(_perm_names(perms, node))
    elif head == "classmap":
        name, perms = shape(node, 2, "name (permissions)")
        symbols.declare("classes", "classmap", leaf, name,
                        {"perms": frozenset(_perm_names(perms, node)), "mappings": {}})
    elif head == "common":
        name, perms = shape(node, 2, "name (permissions)")
        qname = symbols.declare("commons", "common", leaf, name)
        commons[qname] = frozenset(_perm_names(perms, node))
    elif head == "classpermission":
        name = shape(node, 1, "name")[0]
        symbols.declare("classpermissions", "classpermission", leaf, name, {"sets": []})
    elif head in _UNSUPPORTED:
        raise err(f"'{head}' is not supported by lsmsim", node)


def _perm_names(perms, node: SList) -> list[str]:
    if type(perms) is not SList or not all(type(p) is str for p in perms.items):
        raise err(f"{node.head}: permissions are written as a list of names", node)
    return list(perms.items)


def _alias_actual(leaf: Leaf, symbols: Symbols) -> None:
    node = leaf.node
    table, kind = _ALIAS_ACTUALS[node.head]
    alias, actual = shape(node, 2, "alias actual")
    qalias = symbols.name(table, alias, leaf.scope, node, f"{kind} alias")
    decl = symbols.get(table, qalias)
    if decl.kind != "alias":
        raise err(f"{qalias} is not an alias", node)
    qactual = symbols.name(table, actual, leaf.scope, node, kind)
    target = symbols.get(table, qactual)
    if target.kind == "alias":
        raise err(f"an alias ({qactual}) cannot be the actual of an alias", node)
    if target.kind != kind:
        raise err(f"{qactual} is a {target.kind}; an alias needs a {kind}", node)
    if decl.value is not None and decl.value != qactual:
        raise err(f"alias {qalias} already stands for {decl.value}", node)
    decl.value = qactual


def _class_common(leaf, symbols, decls, commons) -> None:
    node = leaf.node
    cls, common = shape(node, 2, "class common")
    qclass = symbols.name("classes", cls, leaf.scope, node, "class")
    qcommon = symbols.name("commons", common, leaf.scope, node, "common")
    own = decls.class_perms.get(qclass)
    if own is None:
        raise err(f"{qclass} is a classmap; only a class takes a common", node)
    if getattr(symbols.get("classes", qclass), "value", None) == "has-common":
        raise err(f"class {qclass} already has a common", node)
    symbols.get("classes", qclass).value = "has-common"
    decls.class_perms[qclass] = own | commons[qcommon]


def _order(leaf: Leaf, symbols: Symbols) -> tuple[list[str], SList]:
    node = leaf.node
    table = _ORDERS[node.head]
    (items,) = shape(node, 1, "(names)")
    if type(items) is not SList:
        raise err(f"{node.head}: the order is written as a list", node)
    names = []
    for item in items.items:
        if item == "unordered" and table == "classes":
            names.append(None)
            continue
        qname = symbols.name(table, item, leaf.scope, node, table[:-1].replace("ie", "y"))
        decl = symbols.get(table, qname)
        if decl.kind == "alias":
            raise err(f"{qname} is an alias; {node.head} takes declared names", node)
        names.append(qname)
    return names, node


def _merge_orders(lists: list[tuple[list[str], SList]]) -> list[str]:
    """Several partial orders merged into one (a name's first list fixes its place
    among names no list orders against it); a contradiction is an error."""
    edges: dict[str, set[str]] = {}
    seen: dict[str, int] = {}
    unordered: list[str] = []
    for names, node in lists:
        if names and names[0] is None:  # (classorder (unordered ...)): any order
            unordered += [n for n in names[1:] if n is not None]
            continue
        for n in names:
            if n is None:
                raise err("'unordered' must come first", node)
            seen.setdefault(n, len(seen))
            edges.setdefault(n, set())
        for a, b in zip(names, names[1:]):
            edges[a].add(b)
    indegree = {n: 0 for n in edges}
    for n, outs in edges.items():
        for m in outs:
            indegree[m] += 1
    ready = sorted((n for n, d in indegree.items() if d == 0), key=seen.get)
    out: list[str] = []
    while ready:
        n = ready.pop(0)
        out.append(n)
        for m in sorted(edges[n], key=seen.get):
            indegree[m] -= 1
            if indegree[m] == 0:
                ready.append(m)
        ready.sort(key=seen.get)
    if len(out) != len(edges):
        raise err("the order statements contradict each other", lists[-1][1])
    return out + [n for n in dict.fromkeys(unordered) if n not in edges]


def _classpermissionset(leaf: Leaf, symbols: Symbols) -> None:
    node = leaf.node
    name, raw = shape(node, 2, "name (class (permissions))")
    qname = symbols.name("classpermissions", name, leaf.scope, node, "classpermission")
    symbols.get("classpermissions", qname).value["sets"].append((raw, leaf.scope, node))


def _classmapping(leaf: Leaf, symbols: Symbols) -> None:
    node = leaf.node
    mapname, perm, raw = shape(node, 3, "classmap permission classpermissions")
    qname = symbols.name("classes", mapname, leaf.scope, node, "classmap")
    decl: Decl = symbols.get("classes", qname)
    if decl.kind != "classmap":
        raise err(f"{qname} is not a classmap", node)
    if perm not in decl.value["perms"]:
        raise err(f"{perm} is not a permission of classmap {qname}", node)
    decl.value["mappings"].setdefault(perm, []).append((raw, leaf.scope, node))


def _sensitivity_categories(leaf: Leaf, decls: Declarations) -> None:
    node = leaf.node
    sens, cats = shape(node, 2, "sensitivity categories")
    values = decls.values
    qsens = values.sensitivity(sens, leaf.scope, node)
    found = values.categories(cats, leaf.scope, node)
    decls.sens_categories[qsens] = decls.sens_categories.get(qsens, frozenset()) | found


__all__ = ["Declarations", "declare", "shape", "PolicyError"]
