"""The parent rules that come closest to granting a denied access: those that match
the witness in the denying profile (e.g. the rule that grants ``r`` where the child
asks for ``w``), so a report can point at them beside the child's rule."""
from __future__ import annotations

from ..model.policy import Policy
from ..model.source import Source
from ..simulate.decide import decide
from ..verify.result import CheckResult, Denial

MAX_RELATED = 3


def closest_parent_rules(parent: object, denial: Denial) -> tuple[Source, ...]:
    """Where the denying profile of ``parent`` has rules that match the witness; empty
    where none does, or where the parent is not an AppArmor policy."""
    if not isinstance(parent, Policy):
        return ()
    profile = parent.find(denial.denied_by)
    if profile is None:
        return ()
    try:
        rules = decide(profile, denial.access).rules
    except TypeError:  # an access class the simulator does not decide
        return ()
    sources = [rule.source for rule in rules if getattr(rule, "source", None) is not None]
    return tuple(dict.fromkeys(sources))[:MAX_RELATED]


def related_for(result: CheckResult, parent: object) -> tuple[tuple[Source, ...], ...]:
    """:func:`closest_parent_rules` for each denial of ``result``, in order."""
    return tuple(closest_parent_rules(parent, denial) for denial in result.denials)
