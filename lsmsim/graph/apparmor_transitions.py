"""The domain-transition graph of an AppArmor policy: which profile a task can move to
from which, and how (exec with ``ix``/``px``/``cx``/``ux``, change_hat, change_profile)."""
from __future__ import annotations

from ..lazy import networkx as nx

from ..automata.attach import attachments_reached
from ..model.change_profile import ChangeProfileRule
from ..model.decision import AMBIGUOUS
from ..model.policy import Policy, Profile
from ..model.rules import ExecKind, FileRule

UNCONFINED = "unconfined"


def _all_profiles(policy: Policy) -> list[tuple[str, Profile]]:
    out = []

    def walk(prefix: str, profile: Profile) -> None:
        name = f"{prefix}{profile.name}"
        out.append((name, profile))
        for child in profile.children:
            walk(f"{name}//", child)
    for profile in policy.profiles:
        walk("", profile)
    return out


def _exec_targets(policy: Policy, name: str, profile: Profile, rule: FileRule) -> list[str]:
    mode = rule.exec
    if mode.kind is ExecKind.INHERIT:
        return [name]
    if mode.kind is ExecKind.UNCONFINED:
        return [UNCONFINED]
    if mode.kind is ExecKind.CHILD:
        pool = [(f"{name}//{c.name}", c) for c in profile.children]
    else:
        pool = [(p.name, p) for p in policy.profiles]
    if mode.target:
        wanted = mode.target if mode.kind is ExecKind.PROFILE else \
            f"{name}//{mode.target.removeprefix(profile.name + '//')}"
        found = [n for n, _ in pool if n == wanted]
    else:
        # The kernel picks one attachment per path (lsmsim.model.decision); an edge
        # goes to each profile it picks for some path of the rule.
        reached = attachments_reached(rule.glob, [p for _, p in pool if p.attachment])
        found = [n for n, p in pool if any(p is r for r in reached)]
        if not any(r is None or r is AMBIGUOUS for r in reached):
            return found
    fallback = {ExecKind.INHERIT: [name], ExecKind.UNCONFINED: [UNCONFINED]}.get(
        mode.fallback, [])
    if mode.target and not found:
        return fallback or [f"{mode.target} (missing)"]
    return found + fallback


def apparmor_transitions(policy: Policy) -> nx.MultiDiGraph:
    """Nodes are profiles (``parent//child`` for children and hats) plus
    ``unconfined``; each edge has ``kind`` (``exec``, ``change_hat``,
    ``change_profile``), ``mode`` and ``path`` (the exec glob) and ``rule`` (source)."""
    graph = nx.MultiDiGraph()
    profiles = _all_profiles(policy)
    names = [n for n, _ in profiles]
    for name, profile in profiles:
        graph.add_node(name, kind="hat" if profile.hat else "profile", mode=profile.mode.value)
    for name, profile in profiles:
        for rule in profile.rules:
            if isinstance(rule, FileRule) and rule.exec is not None and not rule.deny:
                for target in _exec_targets(policy, name, profile, rule):
                    graph.add_edge(name, target, kind="exec", mode=str(rule.exec),
                                   path=rule.glob.text, rule=str(rule.source or ""))
            elif isinstance(rule, ChangeProfileRule) and not rule.deny:
                for target in [n for n in names if rule.target.matches(n)] or [rule.target.text]:
                    graph.add_edge(name, target, kind="change_profile", mode="change_profile",
                                   path=rule.exec.text if rule.exec else "",
                                   rule=str(rule.source or ""))
        for child in profile.children:
            if child.hat:
                graph.add_edge(name, f"{name}//{child.name}", kind="change_hat",
                               mode="change_hat", path="", rule="")
    for node in graph:
        graph.nodes[node].setdefault("kind", "unconfined" if node == UNCONFINED else "missing")
    return graph
