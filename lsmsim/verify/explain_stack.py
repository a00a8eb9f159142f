"""Explanations for a stack: one per pair of AppArmor layers the stack check compares."""
from __future__ import annotations

from dataclasses import dataclass

from .check import DEFAULT_ENGINE
from .context import DEFAULT_BUDGET
from .explain import ExplainQuery, Explanation, explain_denials
from .prover import DEFAULT_RLIMIT


@dataclass(frozen=True)
class StackExplanation:
    """The stack check's ``result`` (a :class:`~lsmsim.stack.check.StackResult`) and,
    for each of its layer pairs in order, the :class:`Explanation` of that pair (None
    where the pair was not compared or is not a pair of AppArmor layers)."""

    result: object
    pairs: tuple[Explanation | None, ...]


def explain_stack(stack, rlimit: int = DEFAULT_RLIMIT, engine: str = DEFAULT_ENGINE,
                  budget: int = DEFAULT_BUDGET) -> StackExplanation:
    """Check ``stack`` (as :func:`lsmsim.stack.check_stack`) and explain every pair of
    AppArmor layers: the child layer's rules with the ancestor's rules that cover
    them, and each confirmed denial with the ancestor's closest rules."""
    from ..stack.check import check_stack
    result = check_stack(stack, rlimit, engine, budget)
    explained = []
    for pair in result.pairs:
        child, ancestor = stack.layer(pair.child), stack.layer(pair.ancestor)
        if pair.result is None or child.lsm != "apparmor" or ancestor.lsm != "apparmor":
            explained.append(None)
            continue
        query = ExplainQuery(child.policy, ancestor.policy, child.profile.name,
                             ancestor.profile.name, rlimit, engine, budget)
        own = query.run()
        # The stack's result keeps only the denials its simulator confirms: explain those.
        explained.append(Explanation(pair.result, own.pairs,
                                     explain_denials(ancestor.policy, pair.result.denials)))
    return StackExplanation(result, tuple(explained))
