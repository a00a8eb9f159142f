"""Syntax nodes of the AppArmor language, as the transformer reads them.

Paths and names are still unexpanded text here; :mod:`.build` expands variables
and includes and turns these nodes into model rules.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...model.source import Source


@dataclass(frozen=True)
class Prefix:
    """``[priority=N] [audit] [allow|deny] [owner|other]``."""

    audit: bool = False
    deny: bool = False
    owner: bool = False
    other: bool = False
    priority: int | None = None

    def merged(self, inner: "Prefix") -> "Prefix":
        """A rule's prefix inside a prefixed block."""
        return Prefix(self.audit or inner.audit, self.deny or inner.deny,
                      self.owner or inner.owner, self.other or inner.other,
                      inner.priority if inner.priority is not None else self.priority)


@dataclass(frozen=True)
class Assignment:
    name: str
    values: tuple[str, ...]
    append: bool
    source: Source


@dataclass(frozen=True)
class BoolAssignment:
    name: str
    value: bool
    source: Source


@dataclass(frozen=True)
class Include:
    target: str
    angle: bool
    if_exists: bool
    source: Source


@dataclass(frozen=True)
class Alias:
    original: str
    replacement: str
    source: Source


@dataclass(frozen=True)
class Abi:
    target: str
    source: Source


@dataclass(frozen=True)
class ProfileDecl:
    name: str
    attachment: str | None
    flags: tuple[tuple[str, Source], ...]
    items: tuple
    hat: bool
    source: Source
    bare: bool = False  # written without the ``profile`` keyword


@dataclass(frozen=True)
class Block:
    prefix: Prefix
    items: tuple
    source: Source


@dataclass(frozen=True)
class Conditional:
    """``if [not]... ($b | defined @{v} | defined $b) {items} else otherwise``; the
    ``otherwise`` items hold a nested Conditional for ``else if``."""

    negations: int
    test: str  # "bool" or "defined"
    name: str  # "$b" or "@v"
    items: tuple
    otherwise: tuple
    source: Source


@dataclass(frozen=True)
class FileDecl:
    prefix: Prefix
    path: str | None  # None: the bare ``file,`` rule
    mode: str
    target: str | None
    source: Source
    safety: str | None = None  # "safe"/"unsafe" written before the mode
    leading: bool = False  # the mode was written before the path
    subset: bool = False  # "l subset NEW -> TARGET"


@dataclass(frozen=True)
class CapabilityDecl:
    prefix: Prefix
    names: tuple[str, ...]
    source: Source


@dataclass(frozen=True)
class NetworkDecl:
    prefix: Prefix
    names: tuple[str, ...]  # permission words, family, type/protocol, "(...)" lists
    conditions: tuple[tuple[str, str], ...]
    source: Source


@dataclass(frozen=True)
class AccessDecl:
    """``signal``/``ptrace``: permission words and ``key=value`` conditions."""

    prefix: Prefix
    kind: str
    perms: tuple[str, ...]
    conditions: tuple[tuple[str, str], ...]
    source: Source


@dataclass(frozen=True)
class OtherDecl:
    """A rule of a class lsmsim does not yet reason about (kept with its text)."""

    prefix: Prefix
    kind: str
    body: str
    source: Source
