"""The domain-transition graph of a SELinux policy, as the kernel allows transitions:
``type_transition`` on exec where the source may execute the entry file and
transition, and the new domain may be entered through it; requested ones
(``setexec`` + ``transition``); dynamic ones (``setcurrent`` + ``dyntransition``)."""
from __future__ import annotations

import networkx as nx

from ..model.selinux import SELinuxPolicy, TypeSet


def _types(policy: SELinuxPolicy, types: TypeSet) -> list[str]:
    return [t for t in policy.types if types.contains(policy, t)]


def _allows(policy: SELinuxPolicy, stype: str, ttype: str, tclass: str, perm: str) -> bool:
    return any(perm in rule.perms_for(tclass) and rule.condition is None
               and rule.matches_types(policy, stype, ttype) for rule in policy.allow_rules())


def _conditionally_allows(policy: SELinuxPolicy, stype: str, ttype: str, tclass: str,
                          perm: str) -> bool:
    return any(perm in rule.perms_for(tclass) and rule.matches_types(policy, stype, ttype)
               for rule in policy.allow_rules())


def selinux_transitions(policy: SELinuxPolicy) -> nx.MultiDiGraph:
    """Nodes are domain types; edges have ``kind`` (``exec``, ``dyntransition``,
    ``setexec``), ``path`` (the entrypoint type for exec edges) and ``conditional``
    (only under some boolean setting)."""
    graph = nx.MultiDiGraph()
    for rule in policy.type_rules:
        if rule.kind != "type_transition" or "process" not in rule.classes:
            continue
        for source in _types(policy, rule.sources):
            for entry in _types(policy, rule.targets):
                new = policy.canonical_type(rule.result)
                needs = [(source, new, "process", "transition"),
                         (new, entry, "file", "entrypoint"), (source, entry, "file", "execute")]
                if not all(_conditionally_allows(policy, *need) for need in needs):
                    continue
                conditional = rule.condition is not None or not all(
                    _allows(policy, *need) for need in needs)
                graph.add_edge(source, new, kind="exec", path=entry, conditional=conditional,
                               rule=str(rule.source or ""))
    for rule in policy.allow_rules():
        perms = rule.perms_for("process")
        for kind in ("dyntransition", "transition"):
            if kind not in perms:
                continue
            # The kernel asks the source for setexec (exec with a requested label) or
            # setcurrent (a dynamic transition) on itself first.
            needed = "setexec" if kind == "transition" else "setcurrent"
            for source in _types(policy, rule.sources):
                if not _conditionally_allows(policy, source, source, "process", needed):
                    continue
                targets = _types(policy, rule.targets) + ([source] if rule.targets.self_ else [])
                for target in targets:
                    if target != source:
                        graph.add_edge(source, target,
                                       kind="setexec" if kind == "transition" else kind,
                                       path="", conditional=rule.condition is not None,
                                       rule=str(rule.source or ""))
    return graph
