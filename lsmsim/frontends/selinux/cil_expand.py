"""CIL containers → a flat list of statements, each with the scope it resolves names in.

secilc resolves ``in``, ``blockinherit``, ``blockabstract`` and ``call`` before any
other statement (cil_resolve_ast.c passes). This module does the same, without
touching the statements inside: ``block`` bodies are visited under the block's name,
``blockinherit`` visits the template's body under the inheriting block, ``call``
visits the macro's body with its parameters bound, ``optional``/``booleanif``/
``tunableif`` bodies are visited with the container recorded on each statement.

Name lookup (checked against secilc 3.4): an undotted name is searched in the
current block, then its enclosing blocks, then the global namespace. In a macro's
body the parameters come first, then the caller's blocks (declarations made in the
body land in the caller's block), then the blocks around the macro's definition.
In an inherited body the inheriting block's namespaces come before the template's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ...errors import PolicyError
from .cil_syntax import SList

_MAX_CALL_DEPTH = 64


def qualify(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


@dataclass(frozen=True)
class Scope:
    """Where a statement's declarations go (``prefix``), which namespaces its names
    are searched in (``chain``, innermost first, ``""`` = global, always last) and the
    macro arguments bound here (parameter name → (parameter kind, argument, the
    caller's scope))."""

    prefix: str
    chain: tuple[str, ...]
    params: Mapping[str, tuple[str, object, "Scope"]] = field(default_factory=dict)

    def enter(self, name: str) -> "Scope":
        """The scope of a block named ``name`` declared here."""
        inner = qualify(self.prefix, name)
        return Scope(inner, (inner,) + self.chain)


ROOT = Scope("", ("",))


def _join_chains(*chains: tuple[str, ...]) -> tuple[str, ...]:
    """Namespaces in order, each once, the global one last."""
    out = [ns for chain in chains for ns in chain if ns]
    return tuple(dict.fromkeys(out)) + ("",)


class Optional:
    """One ``optional`` block (compared by identity): disabled when a name in it, or
    in a statement it holds, is missing."""

    __slots__ = ("name", "parent", "node")

    def __init__(self, name: str, parent: "Optional | None", node: SList):
        self.name, self.parent, self.node = name, parent, node

    def chain(self):
        current = self
        while current is not None:
            yield current
            current = current.parent


@dataclass(frozen=True)
class Branch:
    """A ``booleanif``/``tunableif`` branch a statement sits in."""

    kind: str  # "boolean" or "tunable"
    expr: object
    scope: Scope
    value: bool
    node: SList


class Leaf:
    """A statement with its scope, the branches and the optional it sits in (a plain
    class: a policy has a leaf per statement, and a frozen dataclass costs several
    times as much to build)."""

    __slots__ = ("node", "scope", "branches", "optional")

    def __init__(self, node: SList, scope: Scope, branches: tuple[Branch, ...],
                 optional: Optional | None):
        self.node, self.scope, self.branches, self.optional = node, scope, branches, optional

    def __repr__(self) -> str:
        return f"Leaf({self.node!r}, {self.scope!r})"


@dataclass
class _Block:
    node: SList
    scope: Scope           # the block's own scope
    body: list
    abstract: bool = False


@dataclass(frozen=True)
class _Macro:
    node: SList
    params: tuple[tuple[str, str], ...]   # (kind, name)
    body: tuple
    scope: Scope                          # the scope the macro was defined in


# The statements that hold or stand for others; the rest are leaves as written.
_CONTAINERS = frozenset(("block", "blockinherit", "macro", "in", "blockabstract", "optional",
                         "booleanif", "tunableif", "call"))
# The statements the first pass looks at (or into).
_REGISTERED = frozenset(("block", "macro", "in", "optional", "booleanif", "tunableif", "true",
                         "false"))


def _err(message: str, node) -> PolicyError:
    return PolicyError(message, node.position)


def _name_at(node: SList, index: int, what: str) -> str:
    if len(node.items) <= index or type(node.items[index]) is not str:
        raise _err(f"{node.head}: {what} expected", node)
    return node.items[index]


class Expander:
    """Visits every file's statements; :meth:`leaves` returns the flat result."""

    def __init__(self):
        self.blocks: dict[str, _Block] = {}
        self.macros: dict[str, _Macro] = {}
        self._pending_in: list[tuple[SList, Scope]] = []
        self._calls: list[tuple[Leaf, tuple[str, ...]]] = []
        self._stack: tuple[str, ...] = ()  # the macros being expanded, outermost first

    def leaves(self, files: list[tuple]) -> list[Leaf]:
        for items in files:
            self._register(items, ROOT)
        self._apply_in()
        out: list[Leaf] = []
        for items in files:
            self._walk(items, ROOT, (), None, out, ())
        while self._calls:
            pending, self._calls = self._calls, []
            for leaf, stack in pending:
                self._call(leaf, stack, out)
        return out

    # --- pass 1: blocks, macros and 'in' as written ---
    def _register(self, items, scope: Scope) -> None:
        for node in items:
            if type(node) is not SList or not node.items or node.items[0] not in _REGISTERED:
                continue
            head = node.head
            if head == "block":
                self._declare_block(node, scope)
            elif head == "macro":
                self._declare_macro(node, scope)
            elif head == "in":
                self._pending_in.append((node, scope))
            elif head in ("optional", "booleanif", "tunableif", "true", "false"):
                self._register(node.items[1:], scope)

    def _declare_block(self, node: SList, scope: Scope) -> _Block:
        name = _name_at(node, 1, "a block name")
        if "." in name:
            raise _err(f"block name {name} may not contain '.'", node)
        inner = scope.enter(name)
        if inner.prefix in self.blocks:
            raise _err(f"re-declaration of block {inner.prefix}", node)
        block = _Block(node, inner, list(node.items[2:]))
        self.blocks[inner.prefix] = block
        for item in block.body:
            if type(item) is SList and item.head == "blockabstract":
                target = _name_at(item, 1, "a block name")
                if target != name:
                    raise _err(f"blockabstract {target} is not the block it is in ({name})", item)
                block.abstract = True
        self._register(block.body, inner)
        return block

    def _declare_macro(self, node: SList, scope: Scope) -> None:
        name = _name_at(node, 1, "a macro name")
        qname = qualify(scope.prefix, name)
        if qname in self.macros:
            if self.macros[qname].node is node:
                return
            raise _err(f"re-declaration of macro {qname}", node)
        if len(node.items) < 3 or type(node.items[2]) is not SList:
            raise _err("macro: a parameter list is expected", node)
        params = []
        for param in node.items[2].items:
            if type(param) is not SList or len(param.items) != 2 or \
                    not all(type(x) is str for x in param.items):
                raise _err("macro parameters are written (kind name)", node.items[2])
            params.append((param.items[0], param.items[1]))
        self.macros[qname] = _Macro(node, tuple(params), node.items[3:], scope)

    def _apply_in(self) -> None:
        for node, scope in self._pending_in:
            target = _name_at(node, 1, "a block name")
            if target in ("before", "after"):
                raise _err("'in before'/'in after' is not supported", node)
            block = self._find(self.blocks, target, scope)
            if block is None:
                raise _err(f"in: no block named {target}", node)
            body = node.items[2:]
            block.body.extend(body)
            self._register(body, block.scope)

    @staticmethod
    def _find(table, name: str, scope: Scope):
        if name.startswith("."):
            return table.get(name[1:])
        for ns in scope.chain:
            found = table.get(qualify(ns, name))
            if found is not None:
                return found
        return None

    # --- pass 2: every statement with its scope ---
    def _walk(self, items, scope: Scope, branches, optional, out, inherit_stack,
              within: SList | None = None) -> None:
        """``within``: the statement whose body ``items`` is; a word in its body (words
        carry no position) is reported where that statement starts."""
        for node in items:
            if type(node) is not SList:
                where = within.position if within is not None else None
                raise PolicyError(f"a statement is expected in the body of this "
                                  f"'{within.head if within else ''}', not {node!r}", where)
            head = node.items[0] if node.items else None
            if type(head) is not str:
                raise _err("a statement must start with a keyword", node)
            if head not in _CONTAINERS:
                out.append(Leaf(node, scope, branches, optional))
            elif head == "block":
                block = self.blocks.get(scope.enter(node.items[1]).prefix)
                if block is None:  # a block inside an inherited body: a new block
                    block = self._declare_block(node, scope)
                if not block.abstract:
                    self._walk(block.body, block.scope, branches, optional, out, inherit_stack,
                               block.node)
            elif head == "blockinherit":
                self._inherit(node, scope, branches, optional, out, inherit_stack)
            elif head == "macro":
                self._declare_macro(node, scope)
            elif head in ("in", "blockabstract"):
                continue
            elif head == "optional":
                name = _name_at(node, 1, "an optional name")
                self._walk(node.items[2:], scope, branches, Optional(name, optional, node), out,
                           inherit_stack, node)
            elif head in ("booleanif", "tunableif"):
                self._conditional(node, scope, branches, optional, out, inherit_stack)
            else:  # call
                self._calls.append((Leaf(node, scope, branches, optional), self._stack))

    def _conditional(self, node, scope, branches, optional, out, inherit_stack) -> None:
        kind = "boolean" if node.head == "booleanif" else "tunable"
        if len(node.items) < 3:
            raise _err(f"{node.head}: a condition and a (true ...) or (false ...) branch "
                       "are expected", node)
        if kind == "boolean" and any(b.kind == "boolean" for b in branches):
            raise _err("booleanif cannot nest inside another booleanif", node)
        seen = set()
        for branch in node.items[2:]:
            if type(branch) is not SList or branch.head not in ("true", "false"):
                raise _err(f"{node.head}: only (true ...) and (false ...) branches may follow "
                           "the condition", branch if type(branch) is SList else node)
            if branch.head in seen:
                raise _err(f"{node.head}: two ({branch.head} ...) branches", branch)
            seen.add(branch.head)
            inner = branches + (Branch(kind, node.items[1], scope, branch.head == "true", node),)
            self._walk(branch.items[1:], scope, inner, optional, out, inherit_stack, branch)

    def _inherit(self, node, scope, branches, optional, out, inherit_stack) -> None:
        name = _name_at(node, 1, "a block name")
        if not scope.prefix:
            raise _err("blockinherit must be inside a block", node)
        template = self._find(self.blocks, name, scope)
        if template is None:
            raise _err(f"blockinherit: no block named {name}", node)
        if template.scope.prefix in inherit_stack or template.scope.prefix == scope.prefix:
            raise _err(f"blockinherit {name} inherits itself", node)
        # Names in the copy: the inheriting block's namespaces, then those around the
        # template (not the template's own), then global.
        inherited = Scope(scope.prefix, _join_chains(scope.chain, template.scope.chain[1:]),
                          scope.params)
        self._walk(template.body, inherited, branches, optional, out,
                   inherit_stack + (template.scope.prefix,), template.node)

    def _call(self, leaf: Leaf, stack: tuple[str, ...], out: list[Leaf]) -> None:
        node, scope = leaf.node, leaf.scope
        name = _name_at(node, 1, "a macro name")
        if name in scope.params:
            raise _err(f"call: {name} is a macro parameter, not a macro", node)
        macro = self._find(self.macros, name, scope)
        if macro is None:
            if leaf.optional is not None:
                # A missing macro disables the optional, as a missing name does.
                out.append(Leaf(node.with_items(("call-missing", name)), scope, leaf.branches,
                                leaf.optional))
                return
            raise _err(f"call: no macro named {name}", node)
        qname = next(q for q, m in self.macros.items() if m is macro)
        if qname in stack or len(stack) >= _MAX_CALL_DEPTH:
            raise _err(f"recursive call of macro {qname}", node)
        args = ()
        if len(node.items) > 2:
            if type(node.items[2]) is not SList:
                raise _err("call: arguments are written as a list", node)
            args = node.items[2].items
        if len(node.items) > 3:
            raise _err("call: too many items (macro name and one argument list expected)", node)
        if len(args) != len(macro.params):
            raise _err(f"call: macro {qname} takes {len(macro.params)} arguments, "
                       f"{len(args)} given", node)
        params = {pname: (kind, arg, scope) for (kind, pname), arg in zip(macro.params, args)}
        body_scope = Scope(scope.prefix, _join_chains(scope.chain, macro.scope.chain), params)
        self._stack = stack + (qname,)
        try:
            self._walk(macro.body, body_scope, leaf.branches, leaf.optional, out, (), macro.node)
        finally:
            self._stack = ()
