"""The domain-transition graph of a SELinux policy, as the kernel allows transitions:
``type_transition`` on exec where the source may execute the entry file and
transition, and the new domain may be entered through it; requested ones
(``setexec`` + ``transition``); dynamic ones (``setcurrent`` + ``dyntransition``)."""
from __future__ import annotations

from functools import lru_cache

from ..lazy import networkx as nx

from ..model.selinux import SELinuxPolicy, TypeSet


class _PermIndex:
    """Which (source, target) type pairs the allow rules grant one permission to,
    with type sets expanded once; ``conditional`` pairs only under some booleans."""

    def __init__(self, policy: SELinuxPolicy):
        self.policy = policy
        self._pairs: dict[tuple[str, str], list[tuple]] = {}
        self.members = lru_cache(maxsize=None)(self._members)
        for rule in policy.allow_rules():
            for tclass, perms in rule.perms:
                for perm in perms:
                    self._pairs.setdefault((tclass, perm), []).append(
                        (self.members(rule.sources), self.members(rule.targets),
                         rule.targets.self_, rule.condition is not None, rule.source))

    def _members(self, types: TypeSet) -> frozenset[str]:
        return frozenset(t for t in self.policy.types if types.contains(self.policy, t))

    def rules(self, tclass: str, perm: str):
        return self._pairs.get((tclass, perm), ())

    def allows(self, source: str, target: str, tclass: str, perm: str) -> bool | None:
        """True (always), False (only under some booleans), None (never)."""
        found = None
        for sources, targets, self_, conditional, _ in self.rules(tclass, perm):
            if source in sources and (target in targets or (self_ and target == source)):
                if not conditional:
                    return True
                found = False
        return found


def selinux_transitions(policy: SELinuxPolicy) -> nx.MultiDiGraph:
    """Nodes are domain types; edges have ``kind`` (``exec``, ``dyntransition``,
    ``setexec``), ``path`` (the entrypoint type for exec edges) and ``conditional``
    (only under some boolean setting)."""
    graph = nx.MultiDiGraph()
    index = _PermIndex(policy)
    for rule in policy.type_rules:
        if rule.kind != "type_transition" or "process" not in rule.classes:
            continue
        new = policy.canonical_type(rule.result)
        for source in sorted(index.members(rule.sources)):
            for entry in sorted(index.members(rule.targets)):
                needs = [index.allows(source, new, "process", "transition"),
                         index.allows(new, entry, "file", "entrypoint"),
                         index.allows(source, entry, "file", "execute")]
                if None in needs:
                    continue
                graph.add_edge(source, new, kind="exec", path=entry,
                               conditional=rule.condition is not None or not all(needs),
                               rule=str(rule.source or ""))
    # The kernel asks the source for setexec (exec with a requested label) or
    # setcurrent (a dynamic transition) on itself first.
    for kind, needed in (("transition", "setexec"), ("dyntransition", "setcurrent")):
        for sources, targets, self_, conditional, where in index.rules("process", kind):
            for source in sorted(sources):
                ready = index.allows(source, source, "process", needed)
                if ready is None:
                    continue
                for target in sorted(targets | ({source} if self_ else set())):
                    if target != source:
                        graph.add_edge(source, target,
                                       kind="setexec" if kind == "transition" else kind,
                                       path="", conditional=conditional or not ready,
                                       rule=str(where or ""))
    return graph
