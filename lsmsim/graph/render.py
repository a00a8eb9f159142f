"""Writing graphs out: DOT for Graphviz and JSON (networkx node-link form)."""
from __future__ import annotations

import json

from ..lazy import networkx as nx

from ..model.policy import Policy
from ..model.selinux import SELinuxPolicy
from .apparmor_transitions import apparmor_transitions
from .selinux_transitions import selinux_transitions


def transitions(policy: Policy | SELinuxPolicy) -> nx.MultiDiGraph:
    """The domain-transition graph of either kind of policy."""
    if isinstance(policy, SELinuxPolicy):
        return selinux_transitions(policy)
    return apparmor_transitions(policy)


def stack_graph(stack) -> nx.MultiDiGraph:
    """One graph for a whole stack: each layer's transitions from its subject (nodes
    ``LAYER:DOMAIN`` with a ``layer`` attribute), plus a ``namespace`` edge from each
    parent layer's subject to its child layer's subject."""
    graph = nx.MultiDiGraph(name=stack.name)
    for name, layer in stack.layers.items():
        inner = transitions(layer.policy)
        start = layer.profile.name if layer.profile is not None else layer.context.type
        inner.add_node(start)
        keep = {start} | nx.descendants(inner, start)
        for node in keep:
            graph.add_node(f"{name}:{node}", layer=name, domain=node, lsm=layer.lsm,
                           subject=node == start, **{k: v for k, v in inner.nodes[node].items()
                                                    if k not in ("layer", "domain")})
        for source, target, data in inner.edges(data=True):
            if source in keep:
                graph.add_edge(f"{name}:{source}", f"{name}:{target}", **data)
    for parent, child in stack.edges():
        graph.add_edge(f"{parent.name}:{_subject(parent)}", f"{child.name}:{_subject(child)}",
                       kind="namespace", path="", mode="")
    return graph


def _subject(layer) -> str:
    return layer.profile.name if layer.profile is not None else layer.context.type


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _edge_label(data: dict) -> str:
    parts = [data.get("mode") or data.get("kind", ""), data.get("path", "")]
    return " ".join(p for p in parts if p)


def graph_to_dot(graph: nx.MultiDiGraph, name: str = "transitions") -> str:
    """Graphviz text; nodes of a stack graph are grouped in one cluster per layer."""
    lines = [f"digraph {_quote(name)} {{", "  rankdir=LR;", "  node [shape=box];"]
    layers: dict[str | None, list] = {}
    for node, data in graph.nodes(data=True):
        layers.setdefault(data.get("layer"), []).append((node, data))
    for layer, nodes in layers.items():
        indent = "  "
        if layer is not None:
            lines.append(f"  subgraph {_quote('cluster_' + layer)} {{")
            lines.append(f"    label={_quote(layer)};")
            indent = "    "
        for node, data in nodes:
            attrs = [f"label={_quote(data.get('domain', node))}"]
            if data.get("subject"):
                attrs.append("style=bold")
            if data.get("kind") in ("unconfined", "missing"):
                attrs.append("color=red")
            lines.append(f"{indent}{_quote(node)} [{', '.join(attrs)}];")
        if layer is not None:
            lines.append("  }")
    # One arrow per (source, target, mode): a profile's many ix paths make one edge.
    merged: dict[tuple, list[dict]] = {}
    for source, target, data in graph.edges(data=True):
        merged.setdefault((source, target, data.get("mode") or data.get("kind")), []).append(data)
    for (source, target, _), group in merged.items():
        label = _edge_label(group[0]) + (f" (+{len(group) - 1} more)" if len(group) > 1 else "")
        attrs = [f"label={_quote(label)}"]
        if group[0].get("kind") == "namespace":
            attrs.append("style=dashed")
        lines.append(f"  {_quote(source)} -> {_quote(target)} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def graph_to_json(graph: nx.MultiDiGraph) -> str:
    """networkx node-link JSON."""
    return json.dumps(nx.node_link_data(graph, edges="edges"), indent=2, default=str) + "\n"
