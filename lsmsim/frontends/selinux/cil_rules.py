"""The CIL statement pass: each statement (not a declaration) read into model rules or
into facts the assembly step combines (attribute sets, role types, user levels)."""
from __future__ import annotations

from ...model.selinux import (XPERM_VALUES, AVRule, CExpr, Condition, Constraint,
                              KeptStatement, TypeRule, TypeSet, XpermRule)
from ...model.source import Source
from .cil_declare import Declarations, shape
from .cil_expand import Leaf
from .cil_names import Anonymous, Unresolved
from .cil_syntax import Quoted, SList, source_of
from .cil_values import err, set_expression

_AV = {"allow": "allow", "auditallow": "auditallow", "dontaudit": "dontaudit",
       "neverallow": "neverallow"}
_XPERM_RULES = {"allowx": "allowxperm", "auditallowx": "auditallowxperm",
                "dontauditx": "dontauditxperm", "neverallowx": "neverallowxperm"}
_TYPE_RULES = {"typetransition": "type_transition", "typechange": "type_change",
               "typemember": "type_member"}
_CONSTRAINTS = {"constrain": False, "mlsconstrain": True}
# Statements read elsewhere (declarations) or not part of decisions but checked.
DECLARATIONS = {"type", "typeattribute", "typealias", "role", "roleattribute", "user",
                "sensitivity", "sensitivityalias", "category", "categoryalias", "sid",
                "policycap", "boolean", "tunable", "level", "levelrange", "context",
                "categoryset", "ipaddr", "permissionx", "class", "classmap", "common",
                "classpermission", "typealiasactual", "sensitivityaliasactual",
                "categoryaliasactual", "classcommon", "classorder", "sensitivityorder",
                "categoryorder", "sidorder", "classpermissionset", "classmapping",
                "sensitivitycategory"}
# Kept as written; the contexts in them are checked (index of each context operand).
_LABELLING = {"sidcontext": (1,), "filecon": (2,), "genfscon": (-1,), "portcon": (2,),
              "netifcon": (1, 2), "nodecon": (2,), "fsuse": (2,), "ibpkeycon": (2,),
              "ibendportcon": (2,), "iomemcon": (1,), "ioportcon": (1,),
              "pcidevicecon": (1,), "pirqcon": (1,), "devicetreecon": (1,)}
_SETTINGS = {"mls", "handleunknown", "defaultuser", "defaultrole", "defaulttype",
             "defaultrange", "userprefix", "selinuxuser", "selinuxuserdefault",
             "validatetrans", "mlsvalidatetrans", "rangetransition", "roletransition", "expandtypeattribute",
             "call-missing"}
_OPERANDS = {"u1", "u2", "u3", "r1", "r2", "r3", "t1", "t2", "t3", "l1", "l2", "h1", "h2"}
_C_OPS = {"eq": "eq", "neq": "ne", "dom": "dom", "domby": "domby", "incomp": "incomp"}


class Facts:
    """What the statements said, by kind (``rule``, ``attribute_set``, ...), each fact
    with the ``optional`` it was read in: when a name in an optional turns out to be
    missing, the facts of the whole optional are dropped (:meth:`drop`)."""

    def __init__(self):
        self.values: dict[str, list] = {}
        self.optionals: dict[str, list] = {}

    def get(self, kind: str, default=()) -> list:
        """The facts of one kind, in the order the statements were read."""
        return self.values.get(kind, default)

    def drop(self, is_disabled) -> None:
        """Forget the facts read in optionals ``is_disabled(optional)`` says are off."""
        for kind, values in self.values.items():
            optionals = self.optionals[kind]
            keep = [i for i, optional in enumerate(optionals)
                    if optional is None or not is_disabled(optional)]
            self.values[kind] = [values[i] for i in keep]
            self.optionals[kind] = [optionals[i] for i in keep]


class StatementReader:
    """Reads one statement at a time into :class:`Facts`."""

    def __init__(self, decls: Declarations, facts: Facts):
        self.decls = decls
        self.symbols = decls.symbols
        self.values = decls.values
        self.facts = facts
        self._optional = None
        self._lists: dict[str, tuple[list, list]] = {}
        self._rules = self._lists["rule"] = (facts.values.setdefault("rule", []),
                                             facts.optionals.setdefault("rule", []))
        # Outside macros a name means the same wherever its namespaces are the same:
        # the type set of each name, by the namespaces it is looked up in.
        self._sets_by_chain: dict[tuple[str, ...], dict[str, TypeSet]] = {}
        self._type_sets: dict[str, TypeSet] = {}
        self._type_names: dict[tuple, str] = {}
        self._conditions: dict[tuple[int, int], Condition] = {}

    def source(self, node: SList) -> Source:
        return source_of(node)

    def read(self, leaf: Leaf) -> None:
        """Add what the statement says to the facts (declarations add nothing: the
        declaration pass read them)."""
        head = leaf.node.items[0]  # a keyword, as the expansion checked
        handler = _DISPATCH.get(head, _unknown)
        if handler is not None:
            self._optional = leaf.optional
            handler(self, leaf)

    def _emit(self, kind: str, value) -> None:
        lists = self._lists.get(kind)
        if lists is None:
            lists = self._lists[kind] = (self.facts.values.setdefault(kind, []),
                                         self.facts.optionals.setdefault(kind, []))
        lists[0].append(value)
        lists[1].append(self._optional)

    # --- names ---
    def type_name(self, name, leaf: Leaf, node: SList, attributes: bool = True) -> str:
        scope = leaf.scope
        # Outside macros a name means the same wherever its namespaces are the same.
        key = (name, scope.chain, attributes) if not scope.params and type(name) is str \
            else None
        found = self._type_names.get(key) if key is not None else None
        if found is None:
            found = self._type_name(name, leaf, node, attributes)
            if key is not None:
                self._type_names[key] = found
        return found

    def _type_name(self, name, leaf: Leaf, node: SList, attributes: bool) -> str:
        qname = self.symbols.name("types", name, leaf.scope, node, "type")
        decl = self.symbols.get("types", qname)
        if decl.kind == "alias":
            if decl.value is None:
                raise err(f"type alias {qname} has no typealiasactual", node)
            return decl.value
        if decl.kind == "attribute" and not attributes:
            raise err(f"{qname} is an attribute; a type is needed here", node)
        return qname

    def type_set(self, name, leaf: Leaf, node: SList, allow_self: bool) -> TypeSet:
        scope = leaf.scope
        if not scope.params:
            known = self._sets_by_chain.get(scope.chain)
            found = known.get(name) if known is not None else None
            if found is not None:
                return found
        if name == "self":
            if not allow_self:
                raise err("'self' is only allowed as a target", node)
            return _SELF
        if type(name) is not str:
            found = self.symbols.lookup("types", name, scope)
            raise err("a type, attribute or alias name is expected here"
                      + (" (not a list)" if type(found) is Anonymous else ""), node)
        qname = self.type_name(name, leaf, node)
        found = self._type_sets.get(qname)
        if found is None:
            found = self._type_sets[qname] = TypeSet(frozenset((qname,)))
        if not scope.params:
            self._sets_by_chain.setdefault(scope.chain, {})[name] = found
        return found

    def condition(self, leaf: Leaf) -> Condition | None:
        for branch in leaf.branches:
            if branch.kind != "boolean":
                continue
            key = (id(branch.node), id(branch.scope))
            found = self._conditions.get(key)
            if found is None or found.branch != branch.value:
                expr = self.values.condition(branch.expr, branch.scope, branch.node, "booleans")
                found = Condition(expr, branch.value)
                self._conditions[key] = found
            return found
        return None

    # --- access rules ---
    def _av(self, leaf: Leaf):
        node = leaf.node
        if len(node.items) != 4:
            shape(node, 3, "source target classpermissions")
        head, source, target, classperms = node.items
        kind = _AV[head]
        condition = self.condition(leaf) if leaf.branches else None
        if condition is not None and kind == "neverallow":
            raise err("neverallow is not allowed inside a booleanif", node)
        # Most of a policy's statements are access rules: the names and permission
        # lists already resolved in these namespaces are looked up here directly.
        scope = leaf.scope
        known = None if scope.params else self._sets_by_chain.get(scope.chain)
        sources = known.get(source) if known is not None else None
        if sources is None:
            sources = self.type_set(source, leaf, node, allow_self=False)
        targets = known.get(target) if known is not None else None
        if targets is None:
            targets = self.type_set(target, leaf, node, allow_self=True)
        perms = self.values.class_permissions(classperms, scope, node)
        rules, optionals = self._rules
        rules.append(AVRule(kind, sources, targets, perms, condition, source_of(node)))
        optionals.append(self._optional)

    def _xperm(self, leaf: Leaf):
        node = leaf.node
        source, target, permx = shape(node, 3, "source target permissionx")
        kind = _XPERM_RULES[node.head]
        if self.condition(leaf) is not None:
            raise err(f"{node.head} is not allowed inside a booleanif", node)
        scope = leaf.scope
        found = self.symbols.lookup("permissionx", permx, scope) if type(permx) is str else None
        if type(found) is Anonymous:
            permx, scope = found.item, found.scope
        elif found is not None:
            decl = self.symbols.get("permissionx", found)
            permx, scope = decl.value["raw"], decl.leaf.scope
        elif type(permx) is str:
            raise Unresolved(f"unknown permissionx {permx}", node.position)
        if type(permx) is not SList or len(permx.items) != 3:
            raise err("extended permissions are written (ioctl class (values))", node)
        operation, cls, expr = permx.items
        if operation != "ioctl":
            raise err(f"only ioctl extended permissions are supported, not {operation}", node)
        tclass = self.values.class_name(cls, scope, node)

        def operand(x):
            if type(x) is tuple:
                if x[0] == "all":
                    return set(range(XPERM_VALUES))
                low, high = (_ioctl_number(v, node) for v in x[1])
                return set(range(low, high + 1))
            return {_ioctl_number(x, node)}
        values = 0
        for value in set_expression(expr, node, operand):
            values |= 1 << value
        self._emit("xperm_rule", XpermRule(
            kind, self.type_set(source, leaf, node, allow_self=False),
            self.type_set(target, leaf, node, allow_self=True), tclass, "ioctl", values,
            self.source(node)))

    def _type_rule(self, leaf: Leaf):
        node = leaf.node
        args = node.items[1:]
        if node.head == "typetransition" and len(args) == 5:
            source, target, cls, name, result = args
            filename = self._string(name, leaf, node)
        else:
            source, target, cls, result = shape(node, 4, "source target class result")
            filename = None
        classes = (self.values.class_name(cls, leaf.scope, node),)
        if self.symbols.get("classes", classes[0]).kind == "classmap":
            raise err(f"{classes[0]} is a classmap; a kernel class is needed here", node)
        self._emit("type_rule", TypeRule(
            _TYPE_RULES[node.head], self.type_set(source, leaf, node, False),
            self.type_set(target, leaf, node, True), classes,
            self.type_name(result, leaf, node, attributes=False), filename,
            self.condition(leaf), self.source(node)))

    def _string(self, item, leaf: Leaf, node: SList) -> str:
        while type(item) is str and item in leaf.scope.params:
            _kind, item, _scope = leaf.scope.params[item]
        if type(item) is SList:
            raise err("a file name is expected, not a list", node)
        return str(item)

    # --- attribute and role membership (combined by the assembly step) ---
    def _attribute_set(self, leaf: Leaf):
        node = leaf.node
        name, expr = shape(node, 2, "attribute expression")
        qname = self.symbols.name("types", name, leaf.scope, node, "typeattribute")
        if self.symbols.kind("types", qname) != "attribute":
            raise err(f"{qname} is not a typeattribute", node)
        self._emit("attribute_set", (qname, self._names_expr(expr, leaf, node, "types"), node))

    def _names_expr(self, expr, leaf: Leaf, node: SList, table: str):
        """A set expression with every name qualified (evaluated once membership is
        complete)."""
        if type(expr) is str and expr not in _SET_KEYWORDS:
            return self._set_member(expr, leaf, node, table)  # a name alone: most sets
        if type(expr) is not SList:
            expr = node.with_items((expr,))
        head = expr.head
        if head in ("and", "or", "xor", "not"):
            return (head,) + tuple(self._names_expr(x, leaf, node, table) for x in expr.items[1:])
        if head == "all" and len(expr.items) == 1:
            return ("all",)
        out = [self._names_expr(item, leaf, node, table) if type(item) is SList
               else self._set_member(item, leaf, node, table) for item in expr.items]
        return ("or",) + tuple(out) if len(out) != 1 else out[0]

    def _set_member(self, item, leaf: Leaf, node: SList, table: str):
        """A name in a set expression, qualified (or the expression a macro argument
        stands for)."""
        found = self.symbols.lookup(table, item, leaf.scope)
        if type(found) is Anonymous:
            return self._names_expr(found.item, Leaf(node, found.scope, (), None), node, table)
        if found is None:
            raise Unresolved(f"unknown {'type or attribute' if table == 'types' else 'role'}"
                             f" {item}", node.position)
        if table == "types" and self.symbols.kind("types", found) == "alias":
            found = self.type_name(found, leaf, node)
        return found

    def _role_attribute_set(self, leaf: Leaf):
        node = leaf.node
        name, expr = shape(node, 2, "roleattribute expression")
        qname = self.symbols.name("roles", name, leaf.scope, node, "roleattribute")
        if self.symbols.kind("roles", qname) != "attribute":
            raise err(f"{qname} is not a roleattribute", node)
        self._emit("role_attribute_set",
                   (qname, self._names_expr(expr, leaf, node, "roles"), node))

    def _role_type(self, leaf: Leaf):
        node = leaf.node
        role, type_ = shape(node, 2, "role type")
        qrole = self.symbols.name("roles", role, leaf.scope, node, "role")
        self._emit("role_type", (qrole, self.type_name(type_, leaf, node), node))

    def _role_allow(self, leaf: Leaf):
        node = leaf.node
        a, b = shape(node, 2, "role role")
        self._emit("role_allow", tuple(self.symbols.name("roles", r, leaf.scope, node, "role")
                                       for r in (a, b)))

    # --- users ---
    def _user_role(self, leaf: Leaf):
        node = leaf.node
        user, role = shape(node, 2, "user role")
        self._emit("user_role", (self.symbols.name("users", user, leaf.scope, node, "user"),
                                 self.symbols.name("roles", role, leaf.scope, node, "role")))

    def _user_level(self, leaf: Leaf):
        node = leaf.node
        user, level = shape(node, 2, "user level")
        self._emit("user_level", (self.symbols.name("users", user, leaf.scope, node, "user"),
                                  self.values.level(level, leaf.scope, node)))

    def _user_range(self, leaf: Leaf):
        node = leaf.node
        user, rng = shape(node, 2, "user levelrange")
        self._emit("user_range", (self.symbols.name("users", user, leaf.scope, node, "user"),
                                  self.values.level_range(rng, leaf.scope, node)))

    # --- types ---
    def _typebounds(self, leaf: Leaf):
        node = leaf.node
        bound, child = shape(node, 2, "parent child")
        self._emit("typebounds", (self.type_name(child, leaf, node, attributes=False),
                                  self.type_name(bound, leaf, node, attributes=False)))

    def _permissive(self, leaf: Leaf):
        node = leaf.node
        (name,) = shape(node, 1, "type")
        self._emit("permissive", self.type_name(name, leaf, node, attributes=False))

    # --- constraints ---
    def _constraint(self, leaf: Leaf):
        node = leaf.node
        classperms, expr = shape(node, 2, "classpermissions expression")
        mls = _CONSTRAINTS[node.head]
        perms = self.values.class_permissions(classperms, leaf.scope, node)
        self._emit("constraint", Constraint(perms, self._cexpr(expr, leaf, node, mls), mls,
                                            self.source(node)))

    def _cexpr(self, expr, leaf: Leaf, node: SList, mls: bool) -> CExpr:
        if type(expr) is not SList or not expr.items:
            raise err("a constraint expression is a list", node)
        head = expr.head
        if head in ("and", "or"):
            if len(expr.items) != 3:
                raise err(f"'{head}' takes two operands", expr)
            return CExpr(head, tuple(self._cexpr(x, leaf, expr, mls) for x in expr.items[1:]))
        if head == "not":
            if len(expr.items) != 2:
                raise err("'not' takes one operand", expr)
            return CExpr("not", (self._cexpr(expr.items[1], leaf, expr, mls),))
        if head not in _C_OPS:
            raise err(f"unknown constraint operator {head!r}", expr)
        if len(expr.items) != 3:
            raise err(f"'{head}' takes two operands", expr)
        op, left, right = _C_OPS[head], expr.items[1], expr.items[2]
        if left not in _OPERANDS:
            raise err(f"{left!r} is not a constraint operand (u1 r1 t1 l1 h1 ...)", expr)
        if left.endswith("3") or right in ("u3", "r3", "t3"):
            raise err(f"{left if left.endswith('3') else right} is only allowed in "
                      "validatetrans", expr)
        if left[0] in "lh":
            if right not in _OPERANDS or right[0] not in "lh":
                raise err(f"{left} can only be compared with a level (l1 l2 h1 h2)", expr)
            if not mls:
                raise err("levels can only be compared in mlsconstrain", expr)
            return CExpr("attr", (op, left, right))
        if op in ("dom", "domby", "incomp") and left[0] != "r":
            raise err(f"'{head}' compares roles or levels, not {left}", expr)
        if right in _OPERANDS and op in ("dom", "domby", "incomp") and (left, right) != ("r1", "r2"):
            raise err(f"'{head}' on roles is written ({head} r1 r2)", expr)
        if right in _OPERANDS:
            if right[0] != left[0]:
                raise err(f"cannot compare {left} with {right}", expr)
            return CExpr("attr", (op, left, right))
        if op in ("dom", "domby", "incomp"):
            raise err(f"'{head}' compares r1 with r2, not with names", expr)
        table = {"u": "users", "r": "roles", "t": "types"}[left[0]]
        names = right.items if type(right) is SList else (right,)
        resolved = []
        for name in names:
            if type(name) is not str:
                raise err("constraint names are written as a name or a list of names", expr)
            if table == "types":
                resolved.append(self.type_name(name, leaf, expr))
            else:
                resolved.append(self.symbols.name(table, name, leaf.scope, expr, table[:-1]))
        return CExpr("names", (op, left, frozenset(resolved)))

    # --- kept statements ---
    def _labelling(self, leaf: Leaf):
        node = leaf.node
        args = node.items[1:]
        out = []
        for index in _LABELLING[node.head]:
            if not -len(args) <= index < len(args):
                raise err(f"{node.head}: a context is missing", node)
            context = self._context(args[index], leaf, node)
            if context is not None:
                out.append(context)
        for context in out:
            self._emit("context", context)
        self._emit("kept", KeptStatement(node.head, self.source(node)))

    def _context(self, item, leaf: Leaf, node: SList) -> tuple | None:
        """(user, role, type, range, node) of a labelling context; None for filecon's
        empty one."""
        if type(item) is SList and not item.items:
            return None  # filecon's empty context: "do not label"
        found = self.symbols.lookup("contexts", item, leaf.scope) if type(item) is str else None
        if type(found) is Anonymous:
            item, scope = found.item, found.scope
            leaf = Leaf(node, scope, (), None)
        elif found is not None:
            decl = self.symbols.get("contexts", found)
            item, leaf = decl.value["raw"], decl.leaf
            node = decl.leaf.node
        if type(item) is not SList or len(item.items) != 4:
            if type(item) is str:
                raise Unresolved(f"unknown context {item}", node.position)
            raise err("a context is written (user role type levelrange)", node)
        user, role, type_, rng = item.items
        return (self.symbols.name("users", user, leaf.scope, node, "user"),
                self.symbols.name("roles", role, leaf.scope, node, "role"),
                self.type_name(type_, leaf, node, attributes=False),
                self.values.level_range(rng, leaf.scope, node), node)

    def _setting(self, leaf: Leaf):
        node = leaf.node
        if node.head == "call-missing":
            raise Unresolved(f"call: no macro named {node.items[1]}", node.position)
        if node.head == "mls":
            (value,) = shape(node, 1, "true|false")
            if value not in ("true", "false"):
                raise err("mls: true or false expected", node)
            self._emit("mls", value == "true")
            self._emit("kept", KeptStatement(node.head, self.source(node)))
            return
        if node.head == "rangetransition":
            args = shape(node, 4, "source target class levelrange")
            self.type_set(args[0], leaf, node, False)
            self.type_set(args[1], leaf, node, False)
            self.values.class_name(args[2], leaf.scope, node)
            self.values.level_range(args[3], leaf.scope, node)
        self._emit("kept", KeptStatement(node.head, self.source(node)))


# Words that make a set expression what it is rather than name a member.
_SET_KEYWORDS = frozenset(("and", "or", "xor", "not", "all"))

# ``self`` as a target: the source type (one set for every rule that writes it).
_SELF = TypeSet(frozenset(), self_=True)


def _ioctl_number(text, node: SList) -> int:
    try:
        value = int(text, 0) if type(text) is str else -1
    except ValueError:
        value = -1
    if not 0 <= value < XPERM_VALUES:
        raise err(f"{text!r} is not an ioctl command number (0x0000-0xffff)", node)
    return value


_HANDLERS = {
    **{k: StatementReader._av for k in _AV},
    **{k: StatementReader._xperm for k in _XPERM_RULES},
    **{k: StatementReader._type_rule for k in _TYPE_RULES},
    **{k: StatementReader._constraint for k in _CONSTRAINTS},
    "typeattributeset": StatementReader._attribute_set,
    "roleattributeset": StatementReader._role_attribute_set,
    "roletype": StatementReader._role_type,
    "roleallow": StatementReader._role_allow,
    "userrole": StatementReader._user_role,
    "userlevel": StatementReader._user_level,
    "userrange": StatementReader._user_range,
    "typebounds": StatementReader._typebounds,
    "permissive": StatementReader._permissive,
}


def _unknown(reader: StatementReader, leaf: Leaf) -> None:
    raise err(f"unknown or unsupported CIL statement '{leaf.node.items[0]}'", leaf.node)


# What reads each statement (None: a declaration, read by the declaration pass); where
# a keyword were in two tables, the first below would win.
_DISPATCH = {
    **{k: StatementReader._setting for k in _SETTINGS},
    **{k: StatementReader._labelling for k in _LABELLING},
    **_HANDLERS,
    **{k: None for k in DECLARATIONS},
}

__all__ = ["Facts", "StatementReader", "DECLARATIONS", "Quoted"]
