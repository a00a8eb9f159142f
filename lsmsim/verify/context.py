"""What every per-class check receives, and what it may yield."""
from __future__ import annotations

from dataclasses import dataclass

from ..model.policy import Policy, Profile
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


@dataclass
class CheckContext:
    pair: Pair
    prover: Prover

