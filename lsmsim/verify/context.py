"""What every per-class check receives, and what it may yield."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..model.policy import Policy, Profile
from ..automata.profile import AutomatonCache
from .prover import Prover
from .result import Step


@dataclass(frozen=True)
class Pair:
    """A child profile checked against the parent profile in force at the same time."""

    child_policy: Policy
    child: Profile
    parent_policy: Policy
    parent: Profile
    via: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Warning:
    message: str


@dataclass(frozen=True)
class FollowPair:
    """An exec leads child and parent into another pair of profiles to check."""

    pair: Pair


DEFAULT_BUDGET = 5_000_000
QUERY_COST = 1_000  # budget units one solver query counts as


@dataclass
class Budget:
    """The work one whole check may do, in deterministic units: one automaton
    product state is one unit, one solver query :data:`QUERY_COST` units."""

    total: int = DEFAULT_BUDGET
    prover: Prover | None = None
    states: int = 0

    def spend(self, states: int) -> None:
        self.states += states

    @property
    def remaining(self) -> int:
        queries = self.prover.queries if self.prover is not None else 0
        return self.total - self.states - queries * QUERY_COST


@dataclass
class Stats:
    """Counters of one check."""

    product_states: int = 0


@dataclass
class CheckContext:
    """What every per-class check of one pair receives."""

    pair: Pair
    prover: Prover
    automata: AutomatonCache = field(default_factory=AutomatonCache)
    budget: Budget = field(default_factory=Budget)
    stats: Stats = field(default_factory=Stats)
    engine: str = "automata"  # how string-matching classes are decided: automata | z3
    # The findings name the parent's rules (explain): its automata tell every rule
    # apart. Otherwise they tell apart only what the rules decide, which is smaller.
    parent_rules: bool = False
    # What several checks of this pair read, computed once (e.g. the path product).
    shared: dict = field(default_factory=dict)

