"""The domain-transition graph of a SELinux policy: ``type_transition`` on exec that
the policy also allows (``process transition`` and the entrypoint), dynamic
transitions (``dyntransition``) and requested ones (``setexec`` + ``transition``)."""
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
                if not (_conditionally_allows(policy, source, new, "process", "transition")
                        and _conditionally_allows(policy, new, entry, "file", "entrypoint")):
                    continue
                conditional = not (_allows(policy, source, new, "process", "transition")
                                   and _allows(policy, new, entry, "file", "entrypoint")
                                   and rule.condition is None)
                graph.add_edge(source, new, kind="exec", path=entry, conditional=conditional,
                               rule=str(rule.source or ""))
    for rule in policy.allow_rules():
        perms = rule.perms_for("process")
        for kind in ("dyntransition", "transition"):
            if kind not in perms:
                continue
            for source in _types(policy, rule.sources):
                if kind == "transition" and not _conditionally_allows(
                        policy, source, source, "process", "setexec"):
                    continue
                targets = _types(policy, rule.targets) + ([source] if rule.targets.self_ else [])
                for target in targets:
                    if target != source:
                        graph.add_edge(source, target,
                                       kind="setexec" if kind == "transition" else kind,
                                       path="", conditional=rule.condition is not None,
                                       rule=str(rule.source or ""))
    return graph
