"""What a containment check returns."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ..model.requests import Request
from ..model.source import Source


class Verdict(str, Enum):
    CONTAINED = "contained"
    EXPANSIONS = "expansions"
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class Step:
    """One exec transition on the way from the checked pair to a target pair."""

    path: str
    child_mode: str
    parent_mode: str

    def to_json(self) -> dict:
        return {"path": self.path, "child_mode": self.child_mode, "parent_mode": self.parent_mode}


@dataclass(frozen=True)
class Denial:
    """A child rule that reaches beyond the parent, with an access that proves it:
    the child allows ``access`` and ``denied_by`` (a parent profile) denies it."""

    rule: Source | None
    access: Request
    child_profile: str
    denied_by: str
    reason: str
    via: tuple[Step, ...] = ()
    # What the denying layer logs, where it sees the access under other labels (a
    # SELinux ancestor in a stack); empty means the access as the child sees it.
    logged: tuple[str, ...] = ()


@dataclass(frozen=True)
class Undecided:
    """A part of the check that was neither proven nor refuted."""

    rule: Source | None
    reason: str


@dataclass(frozen=True)
class Subject:
    """Which file and profile a side of the check is."""

    file: str
    profile: str

    def to_json(self) -> dict:
        return {"file": self.file, "profile": self.profile}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of ``child ⊆ parent``: contained only when every query was unsat."""

    child: Subject
    parent: Subject
    denials: tuple[Denial, ...]
    undecided: tuple[Undecided, ...]
    warnings: tuple[str, ...] = ()
    queries: int = 0
    seconds: float = 0.0  # in the solver
    pairs: tuple[tuple[str, str], ...] = field(default=())
    product_states: int = 0  # automaton product states explored
    elapsed: float = 0.0  # the whole check
    cached: bool = False  # the stored result of an earlier check of the same files

    @property
    def verdict(self) -> Verdict:
        if self.denials:
            return Verdict.EXPANSIONS
        if self.undecided:
            return Verdict.UNDECIDED
        return Verdict.CONTAINED

    @property
    def exit_code(self) -> int:
        return {Verdict.CONTAINED: 0, Verdict.EXPANSIONS: 1, Verdict.UNDECIDED: 3}[self.verdict]
