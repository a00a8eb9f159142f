"""Profiles and policies: subjects with their rules."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from .glob import Glob
from .rules import OtherRule, Rule
from .source import Source


class Mode(str, Enum):
    """How a profile is enforced (``flags=(complain)`` etc.)."""

    ENFORCE = "enforce"
    COMPLAIN = "complain"
    KILL = "kill"
    UNCONFINED = "unconfined"
    DEFAULT_ALLOW = "default_allow"

    @property
    def enforcing(self) -> bool:
        return self in (Mode.ENFORCE, Mode.KILL)


ALL_PATHS = Glob.parse("/{**,}")


@dataclass(frozen=True)
class Profile:
    """An AppArmor profile: a name, an optional attachment glob, a mode, rules and
    nested child profiles and hats (addressed as ``parent//child``)."""

    name: str
    rules: tuple[Rule, ...]
    attachment: Glob | None = None
    mode: Mode = Mode.ENFORCE
    flags: tuple[str, ...] = ()
    children: tuple["Profile", ...] = ()
    hat: bool = False
    source: Source | None = None

    def effective_rules(self) -> tuple[Rule, ...]:
        """The rules that decide accesses: a profile that enforces nothing acts as
        if it allowed every access of every class."""
        if self.mode.enforcing:
            return self.rules
        memo = self._memo()
        if "effective" not in memo:
            memo["effective"] = allow_everything(self.source)
        return memo["effective"]

    def rules_of(self, kind: type) -> tuple:
        """The effective rules of ``kind``, in policy order."""
        memo = self._memo()
        found = memo.get(kind)
        if found is None:
            found = memo[kind] = tuple(r for r in self.effective_rules() if isinstance(r, kind))
        return found

    def _memo(self) -> dict:
        # Every check and every simulated request asks for a kind's rules: each is
        # picked out once, and keeps its identity from one call to the next (checks
        # key what they found by rule identity). The memo is no field: equality and
        # hashing ignore it.
        memo = self.__dict__.get("_memo_")
        if memo is None:
            memo = {}
            object.__setattr__(self, "_memo_", memo)
        return memo

    def __getstate__(self) -> dict:
        # A pickle keeps the rules made for a profile that enforces nothing: automata
        # pickled beside it name those very rules, and a check matches them by
        # identity. The rest of the memo is picked out again.
        state = {k: v for k, v in self.__dict__.items() if k != "_memo_"}
        made = self.__dict__.get("_memo_", {}).get("effective")
        if made is not None:
            state["_memo_"] = {"effective": made}
        return state

    def child(self, name: str) -> "Profile | None":
        return next((c for c in self.children if c.name == name), None)


def allow_everything(source: Source | None) -> tuple[Rule, ...]:
    """Rules equivalent to no confinement at all: each class's rules that allow all
    of it, and the classes not modelled yet granted too."""
    from ..classes import CLASSES  # the classes are built on this module
    return (*(rule for rule_class in CLASSES for rule in rule_class.allow_all(source)),
            OtherRule("all", "every class not modelled yet", source=source))


@dataclass(frozen=True)
class Policy:
    """What one policy file (with its includes) defines."""

    file: str
    lsm: str
    profiles: tuple[Profile, ...]
    files_read: tuple[str, ...] = field(default=())
    # Folders whose contents decided where includes were found: with the files read,
    # everything the policy depends on (a compiled-policy cache checks both).
    folders_consulted: tuple[str, ...] = field(default=(), compare=False)

    def profile_names(self) -> list[str]:
        return [p.name for p in self.profiles]

    def find(self, name: str) -> Profile | None:
        """Look a profile up by name; ``a//b`` descends into children and hats."""
        head, _, rest = name.partition("//")
        found = next((p for p in self.profiles if p.name == head), None)
        while found is not None and rest:
            head, _, rest = rest.partition("//")
            found = found.child(head)
        return found
