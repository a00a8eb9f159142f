"""Graphs: domain transitions of one policy and the namespace tree of a stack, as
networkx graphs, DOT text or JSON."""
from .apparmor_transitions import apparmor_transitions
from .render import graph_to_dot, graph_to_json, stack_graph, transitions
from .selinux_transitions import selinux_transitions

__all__ = ["apparmor_transitions", "graph_to_dot", "graph_to_json", "selinux_transitions", "stack_graph",
           "transitions"]
