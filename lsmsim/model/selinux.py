"""The SELinux model: a kernel policy as the decision procedure sees it.

Names are resolved (aliases to their types, ``*`` and ``~`` to sets) but attributes
stay attributes: a rule written over ``virt_domain`` holds the name ``virt_domain``
and the policy holds each attribute's members. Every rule keeps its source position.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Mapping

from .source import Source

OBJECT_R = "object_r"


# --- MLS levels and contexts ------------------------------------------------------------

@dataclass(frozen=True)
class Level:
    """A sensitivity and a set of categories (``s0:c1,c2``)."""

    sensitivity: str
    categories: frozenset[str] = frozenset()

    def dominates(self, other: "Level", order: Mapping[str, int]) -> bool:
        """``self dom other``: sensitivity at least as high and a superset of categories."""
        return (order[self.sensitivity] >= order[other.sensitivity]
                and self.categories >= other.categories)

    def format(self, category_order: Mapping[str, int] | None = None) -> str:
        if not self.categories:
            return self.sensitivity
        key = (lambda c: category_order.get(c, 1 << 30)) if category_order else _category_key
        return f"{self.sensitivity}:{format_categories(sorted(self.categories, key=key))}"


def _category_key(name: str):
    digits = name.lstrip("abcdefghijklmnopqrstuvwxyz_")
    return (int(digits) if digits.isdigit() else 1 << 30, name)


def format_categories(cats: list[str]) -> str:
    """``c0,c2`` with runs of three or more written ``c4.c7``, as the kernel prints them."""
    def number(c):
        digits = c[1:]
        return int(digits) if c.startswith("c") and digits.isdigit() else None

    out, i = [], 0
    while i < len(cats):
        j = i
        while (j + 1 < len(cats) and number(cats[j]) is not None
               and number(cats[j + 1]) == number(cats[j]) + 1):
            j += 1
        out.append(f"{cats[i]}.{cats[j]}" if j - i >= 2 else ",".join(cats[i:j + 1]))
        i = j + 1
    return ",".join(out)


@dataclass(frozen=True)
class Range:
    """``low - high`` (``high`` dominates ``low``)."""

    low: Level
    high: Level

    def format(self, category_order=None) -> str:
        low, high = self.low.format(category_order), self.high.format(category_order)
        return low if low == high else f"{low}-{high}"


@dataclass(frozen=True)
class Context:
    """``user:role:type[:range]``."""

    user: str
    role: str
    type: str
    range: Range | None = None

    def __str__(self) -> str:
        base = f"{self.user}:{self.role}:{self.type}"
        return f"{base}:{self.range.format()}" if self.range else base


# --- type sets and conditions --------------------------------------------------------------

@dataclass(frozen=True)
class TypeSet:
    """A set of types as a rule writes it: ``names`` (types or attributes) minus
    ``excluded`` ones; ``self_`` adds the source type (targets only)."""

    names: frozenset[str]
    excluded: frozenset[str] = frozenset()
    self_: bool = False

    def contains(self, policy: "SELinuxPolicy", type_name: str) -> bool:
        return (any(policy.is_member(type_name, n) for n in self.names)
                and not any(policy.is_member(type_name, n) for n in self.excluded))


@dataclass(frozen=True)
class BoolExpr:
    """A conditional expression over booleans: ``op`` is ``name`` (``args`` = the
    boolean's name), ``not``, ``and``, ``or``, ``xor``, ``eq`` or ``ne``."""

    op: str
    args: tuple

    def evaluate(self, values: Mapping[str, bool]) -> bool:
        if self.op == "name":
            return values[self.args[0]]
        vals = [a.evaluate(values) for a in self.args]
        match self.op:
            case "not":
                return not vals[0]
            case "and":
                return vals[0] and vals[1]
            case "or":
                return vals[0] or vals[1]
            case "xor" | "ne":
                return vals[0] != vals[1]
            case "eq":
                return vals[0] == vals[1]
        raise ValueError(self.op)

    def names(self) -> frozenset[str]:
        if self.op == "name":
            return frozenset(self.args)
        return frozenset().union(*(a.names() for a in self.args))

    def __str__(self) -> str:
        if self.op == "name":
            return self.args[0]
        if self.op == "not":
            return f"!{self.args[0]}"
        symbol = {"and": "&&", "or": "||", "xor": "^", "eq": "==", "ne": "!="}[self.op]
        return f"({self.args[0]} {symbol} {self.args[1]})"


@dataclass(frozen=True)
class Condition:
    """Where a conditional rule sits: the ``if`` expression and the branch it is in."""

    expr: BoolExpr
    branch: bool

    def active(self, values: Mapping[str, bool]) -> bool:
        return self.expr.evaluate(values) == self.branch


# --- rules --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AVRule:
    """``allow``/``auditallow``/``dontaudit``/``neverallow`` over type sets, with the
    permissions it names for each class (``*`` and ``~`` already resolved)."""

    kind: str
    sources: TypeSet
    targets: TypeSet
    perms: tuple[tuple[str, frozenset[str]], ...]
    condition: Condition | None = None
    source: Source | None = None

    def perms_for(self, tclass: str) -> frozenset[str]:
        return next((p for c, p in self.perms if c == tclass), frozenset())

    def matches_types(self, policy: "SELinuxPolicy", stype: str, ttype: str) -> bool:
        if not self.sources.contains(policy, stype):
            return False
        return self.targets.contains(policy, ttype) or (self.targets.self_ and ttype == stype)

    def active(self, booleans: Mapping[str, bool]) -> bool:
        return self.condition is None or self.condition.active(booleans)


XPERM_VALUES = 1 << 16  # ioctl command numbers are 16 bits


@dataclass(frozen=True, slots=True)
class XpermRule:
    """``allowxperm``/``auditallowxperm``/``dontauditxperm``/``neverallowxperm`` (CIL
    ``allowx`` ...): the ioctl commands of one class, as a bitmask (bit ``n`` =
    command ``n``)."""

    kind: str
    sources: TypeSet
    targets: TypeSet
    tclass: str
    operation: str
    values: int
    source: Source | None = None


@dataclass(frozen=True)
class CExpr:
    """A constraint expression node. ``op`` is ``and``/``or``/``not`` (``args`` are
    nodes), ``attr`` (``args`` = (operator, left, right), e.g. ``("dom", "h1", "h2")``)
    or ``names`` (``args`` = (operator, left, frozenset of names))."""

    op: str
    args: tuple

    def __str__(self) -> str:
        match self.op:
            case "and" | "or":
                return f"({self.args[0]} {self.op} {self.args[1]})"
            case "not":
                return f"not {self.args[0]}"
            case "attr":
                return f"({self.args[1]} {_OP_TEXT[self.args[0]]} {self.args[2]})"
        names = sorted(self.args[2])
        right = names[0] if len(names) == 1 else "{ " + " ".join(names) + " }"
        return f"({self.args[1]} {_OP_TEXT[self.args[0]]} {right})"


_OP_TEXT = {"eq": "==", "ne": "!=", "dom": "dom", "domby": "domby", "incomp": "incomp"}


@dataclass(frozen=True)
class Constraint:
    """``constrain``/``mlsconstrain``: on the listed classes and permissions, the
    expression must hold or those permissions are removed."""

    perms: tuple[tuple[str, frozenset[str]], ...]
    expr: CExpr
    mls: bool
    source: Source | None = None

    def perms_for(self, tclass: str) -> frozenset[str]:
        return next((p for c, p in self.perms if c == tclass), frozenset())


@dataclass(frozen=True, slots=True)
class TypeRule:
    """``type_transition``/``type_change``/``type_member`` (labels of new objects)."""

    kind: str
    sources: TypeSet
    targets: TypeSet
    classes: tuple[str, ...]
    result: str
    filename: str | None = None
    condition: Condition | None = None
    source: Source | None = None


@dataclass(frozen=True, slots=True)
class KeptStatement:
    """A statement access decisions do not use (object labelling, compiler settings,
    extended permissions, range and role transitions): kept with its source text so
    nothing written is silently dropped."""

    kind: str
    source: Source | None = None


@dataclass(frozen=True)
class User:
    name: str
    roles: frozenset[str]
    level: Level | None = None
    range: Range | None = None


# --- the policy ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SELinuxPolicy:
    """One compiled-to-be kernel policy."""

    file: str
    classes: Mapping[str, frozenset[str]]
    types: tuple[str, ...]
    attributes: Mapping[str, frozenset[str]]
    aliases: Mapping[str, str]
    booleans: Mapping[str, bool]
    rules: tuple[AVRule, ...]
    constraints: tuple[Constraint, ...] = ()
    typebounds: Mapping[str, str] = field(default_factory=dict)
    permissive: frozenset[str] = frozenset()
    roles: Mapping[str, frozenset[str]] = field(default_factory=dict)
    role_allows: frozenset[tuple[str, str]] = frozenset()
    role_dominance: Mapping[str, frozenset[str]] = field(default_factory=dict)
    users: Mapping[str, User] = field(default_factory=dict)
    sensitivities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    sensitivity_categories: Mapping[str, frozenset[str]] = field(default_factory=dict)
    type_rules: tuple[TypeRule, ...] = ()
    xperm_rules: tuple[XpermRule, ...] = ()
    type_sources: Mapping[str, Source] = field(default_factory=dict)
    policycaps: frozenset[str] = frozenset()
    kept: tuple[KeptStatement, ...] = ()
    mls: bool = False
    lsm: str = "selinux"
    files_read: tuple[str, ...] = ()

    # Type membership: a name is a type (equal) or an attribute (member).
    def is_member(self, type_name: str, name: str) -> bool:
        members = self.attributes.get(name)
        if members is not None:
            return type_name in members
        return name == type_name

    def role_dominates(self, a: str, b: str) -> bool:
        """``a dom b`` between roles: the same role, or ``b`` nested under ``a`` in a
        role dominance tree (policy.conf's deprecated ``dominance { role ... }``)."""
        return a == b or b in self.role_dominance.get(a, ())

    def roles_satisfying(self, op: str, names) -> frozenset[str]:
        """The roles ``r`` for which ``r OP n`` holds for some ``n`` of ``names``
        (``op`` is ``dom``, ``domby`` or ``incomp``)."""
        roles = set(self.roles) | set(names)
        if op == "dom":
            return frozenset(r for r in roles if any(self.role_dominates(r, n) for n in names))
        if op == "domby":
            return frozenset(r for r in roles if any(self.role_dominates(n, r) for n in names))
        return frozenset(r for r in roles if any(not self.role_dominates(r, n)
                                                 and not self.role_dominates(n, r)
                                                 for n in names))

    def canonical_type(self, name: str) -> str:
        """The type an alias stands for (other names unchanged)."""
        return self.aliases.get(name, name)

    def allow_rules(self) -> tuple[AVRule, ...]:
        return self._allow_rules

    @cached_property
    def _allow_rules(self) -> tuple[AVRule, ...]:
        return tuple(r for r in self.rules if r.kind == "allow")

    @cached_property
    def names_of(self) -> dict[str, frozenset[str]]:
        """For each type, the names a rule may reach it by: itself and every
        attribute holding it (built once per policy)."""
        out: dict[str, set[str]] = {t: {t} for t in self.types}
        for attribute, members in self.attributes.items():
            for member in members:
                out.setdefault(member, {member}).add(attribute)
        return {t: frozenset(names) for t, names in out.items()}

    @cached_property
    def allow_index(self) -> dict[tuple[str, str], tuple[tuple[int, AVRule], ...]]:
        """The allow rules by (class, a name among their sources), each with its
        place in the policy: the candidates for a request, found without a scan."""
        out: dict[tuple[str, str], list[tuple[int, AVRule]]] = {}
        for index, rule in enumerate(self.allow_rules()):
            for tclass, _perms in rule.perms:
                for name in rule.sources.names:
                    out.setdefault((tclass, name), []).append((index, rule))
        return {key: tuple(rules) for key, rules in out.items()}

    def allow_candidates(self, stype: str, tclass: str) -> list[AVRule]:
        """The allow rules of ``tclass`` whose sources name ``stype`` or one of its
        attributes, in policy order (exclusions, targets and conditions unchecked)."""
        index = self.allow_index
        found: dict[int, AVRule] = {}
        for name in self.names_of.get(stype, (stype,)):
            for i, rule in index.get((tclass, name), ()):
                found[i] = rule
        return [found[i] for i in sorted(found)]

    def constraints_for(self, tclass: str) -> tuple[Constraint, ...]:
        return self._constraints_by_class.get(tclass, ())

    @cached_property
    def _constraints_by_class(self) -> dict[str, tuple[Constraint, ...]]:
        out: dict[str, list[Constraint]] = {}
        for constraint in self.constraints:
            for tclass, perms in constraint.perms:
                if perms:
                    out.setdefault(tclass, []).append(constraint)
        return {tclass: tuple(dict.fromkeys(found)) for tclass, found in out.items()}

    @property
    def sensitivity_order(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.sensitivities)}

    @property
    def name(self) -> str:
        """How reports name this policy (its file's base name)."""
        return self.file.rsplit("/", 1)[-1]

    def profile_names(self) -> list[str]:
        return [self.name]

    def default_booleans(self) -> dict[str, bool]:
        return dict(self.booleans)


# --- type sets as integer bitsets ---------------------------------------------------------

class TypeBits:
    """A policy's type sets as integer bitsets, each expanded once.

    ``ids`` gives the bit numbers of each type name (its own index in ``policy.types``
    unless given: a check over two policies numbers the types of both)."""

    def __init__(self, policy: SELinuxPolicy, ids: Mapping[str, list[int]] | None = None):
        self.policy = policy
        self.ids = ids if ids is not None else {n: [i] for i, n in enumerate(policy.types)}
        self.names = {i: n for n, found in self.ids.items() for i in found}
        self._names: dict[str, int] = {}
        self._sets: dict[int, tuple[TypeSet, int]] = {}

    def name(self, name: str) -> int:
        """The bits of a type (or an alias of one) or of an attribute's members."""
        found = self._names.get(name)
        if found is None:
            members = self.policy.attributes.get(name)
            if members is None:
                members = (self.policy.canonical_type(name),)
            found = 0
            for member in members:
                for i in self.ids.get(member, ()):
                    found |= 1 << i
            self._names[name] = found
        return found

    def of(self, types: TypeSet) -> int:
        """The types a set names (``self`` is left to the caller)."""
        # Keyed by identity (rules share their sets; hashing a set's names on every
        # lookup costs more than expanding it): the set is kept so its id stays its own.
        found = self._sets.get(id(types))
        if found is None:
            bits = 0
            for n in types.names:
                bits |= self.name(n)
            for n in types.excluded:
                bits &= ~self.name(n)
            found = self._sets[id(types)] = (types, bits)
        return found[1]

    def first(self, bits: int) -> str:
        """The name of the lowest type in ``bits`` (which is not empty)."""
        return self.names[(bits & -bits).bit_length() - 1]


# --- requests -----------------------------------------------------------------------------

@dataclass(frozen=True)
class SELinuxRequest:
    """``scontext`` asks for ``perm`` on an object of class ``tclass`` labelled
    ``tcontext``, with the booleans set as in ``booleans`` (others at their defaults).
    ``parent_booleans`` holds the parent layer's values when child and parent are
    separate namespaces, each with booleans of its own."""

    scontext: Context
    tcontext: Context
    tclass: str
    perm: str
    booleans: tuple[tuple[str, bool], ...] = ()
    parent_booleans: tuple[tuple[str, bool], ...] | None = None
    access_class = "selinux"

    def for_parent(self) -> "SELinuxRequest":
        """The same access as the parent layer sees it: with the parent's booleans
        where the two layers have booleans of their own."""
        if self.parent_booleans is None:
            return self
        return replace(self, booleans=self.parent_booleans, parent_booleans=None)

    def to_json(self) -> dict:
        out = {"class": "selinux", "scontext": str(self.scontext),
               "tcontext": str(self.tcontext), "tclass": self.tclass, "perms": [self.perm],
               "booleans": dict(self.booleans)}
        if self.parent_booleans is not None:
            out["parent_booleans"] = dict(self.parent_booleans)
        return out


def parse_context(text: str) -> Context:
    """``user:role:type[:low[-high]]`` with categories written ``c0,c2`` or ``c0.c3``
    (numbered ``cN`` categories only)."""
    parts = text.strip().split(":", 3)
    if len(parts) < 3:
        raise ValueError(f"not a context: {text!r}")
    user, role, type_ = parts[:3]
    if len(parts) == 3:
        return Context(user, role, type_)
    low_text, _, high_text = parts[3].partition("-")
    low = parse_level(low_text)
    return Context(user, role, type_, Range(low, parse_level(high_text) if high_text else low))


def parse_level(text: str) -> Level:
    sens, _, cats = text.strip().partition(":")
    names: list[str] = []
    for item in filter(None, cats.split(",")):
        first, dot, last = item.partition(".")
        if dot:
            names.extend(f"c{i}" for i in range(int(first[1:]), int(last[1:]) + 1))
        else:
            names.append(item)
    return Level(sens, frozenset(names))
