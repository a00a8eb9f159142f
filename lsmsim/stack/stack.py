"""A loaded stack: every layer's policy and subject, held as a networkx tree."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

from ..lazy import networkx as nx

from ..errors import PolicyError, UsageError
from ..model.policy import Policy, Profile
from ..model.selinux import Context, SELinuxPolicy, parse_context
from .file_contexts import FileContexts, read_file_contexts
from .manifest import LayerSpec, Manifest, read_manifest
from .mapping import level_problem


def lsm_family(policy: Policy | SELinuxPolicy) -> str:
    """``apparmor`` or ``selinux`` (CIL and policy.conf are one LSM)."""
    return "selinux" if isinstance(policy, SELinuxPolicy) else "apparmor"


@dataclass(frozen=True, eq=False)
class Layer:
    """One namespace of the stack: its policy and what the tasks of this layer and of
    every layer below it carry here (an AppArmor profile or a SELinux context)."""

    spec: LayerSpec
    policy: Policy | SELinuxPolicy
    profile: Profile | None = None
    context: Context | None = None
    object_labels: Mapping[str, Context] | None = None
    default_label: Context | None = None
    file_contexts: FileContexts | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def lsm(self) -> str:
        return lsm_family(self.policy)

    @property
    def booleans(self) -> tuple[tuple[str, bool], ...]:
        """The SELinux booleans this layer runs with (others at the policy's defaults)."""
        return self.spec.booleans

    @property
    def subject(self) -> str:
        """The subject as reports name it."""
        return self.profile.name if self.profile is not None else str(self.context)

    def object_label(self, type_name: str) -> Context | None:
        """How an object of this layer labelled ``type_name`` appears in the parent."""
        return (self.object_labels or {}).get(type_name, self.default_label)


class Stack:
    """A tree of layers, root first. ``graph`` has an edge parent → child per layer
    with a parent, and the :class:`Layer` as each node's ``layer`` attribute."""

    def __init__(self, manifest: Manifest, layers: Mapping[str, Layer], graph: nx.DiGraph):
        self.manifest = manifest
        self.layers = dict(layers)
        self.graph = graph
        self.root = next(n for n in graph if graph.in_degree(n) == 0)

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def file(self) -> str:
        return str(self.manifest.file)

    def layer(self, name: str) -> Layer:
        if name not in self.layers:
            raise UsageError(f"{self.file}: no layer named {name!r}; layers: "
                             f"{', '.join(self.layers)}")
        return self.layers[name]

    def parent(self, name: str) -> Layer | None:
        found = list(self.graph.predecessors(name))
        return self.layers[found[0]] if found else None

    def ancestors(self, name: str) -> list[Layer]:
        """The layers above ``name``, nearest first."""
        path = nx.shortest_path(self.graph, self.root, name)
        return [self.layers[n] for n in reversed(path[:-1])]

    def chain(self, name: str) -> list[Layer]:
        """The layer ``name`` and every layer above it, nearest first."""
        return [self.layer(name), *self.ancestors(name)]

    def edges(self) -> Iterator[tuple[Layer, Layer]]:
        """Every (parent, child) pair, top-down."""
        for parent, child in nx.bfs_edges(self.graph, self.root):
            yield self.layers[parent], self.layers[child]

    def leaves(self) -> list[Layer]:
        return [self.layers[n] for n in nx.dfs_preorder_nodes(self.graph, self.root)
                if self.graph.out_degree(n) == 0]


def _graph(manifest: Manifest) -> nx.DiGraph:
    graph = nx.DiGraph()
    specs = {spec.name: spec for spec in manifest.layers}
    for spec in manifest.layers:
        graph.add_node(spec.name)
    for spec in manifest.layers:
        if spec.parent is None:
            continue
        if spec.parent not in specs:
            raise PolicyError(f"layer {spec.name!r}: parent {spec.parent!r} is not a layer of "
                              f"this stack; layers: {', '.join(specs)}", spec.position)
        if spec.parent == spec.name:
            raise PolicyError(f"layer {spec.name!r} is its own parent", spec.position)
        graph.add_edge(spec.parent, spec.name)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        names = " -> ".join([cycle[0][0], *(edge[1] for edge in cycle)])
        raise PolicyError(f"layers form a cycle: {names}", specs[cycle[0][1]].position)
    roots = [n for n in graph if graph.in_degree(n) == 0]
    if len(roots) != 1:
        raise PolicyError(f"a stack has one root layer (without parent); found "
                          f"{', '.join(roots)}", specs[roots[-1]].position)
    return graph


def _context(spec: LayerSpec, text: str, what: str) -> Context:
    try:
        return parse_context(text)
    except ValueError as error:
        raise PolicyError(f"layer {spec.name!r}: {what}: {error}", spec.position) from None


def _selinux_type(spec: LayerSpec, policy: SELinuxPolicy, context: Context, what: str) -> None:
    if policy.canonical_type(context.type) not in policy.types:
        raise PolicyError(f"layer {spec.name!r}: {what} {context}: no type "
                          f"{context.type!r} in {policy.file}", spec.position)
    problem = level_problem(policy, context)
    if problem:
        raise PolicyError(f"layer {spec.name!r}: {what} {context}: {problem}", spec.position)


def _load_layer(spec: LayerSpec) -> Layer:
    from ..api import load  # the API module imports this package; load on use

    policy = load(spec.policy[0], list(spec.include), spec.lsm)
    if isinstance(policy, Policy):
        if spec.object_labels or spec.default_label or spec.file_contexts or spec.booleans:
            raise PolicyError(f"layer {spec.name!r}: object_labels, default_label, "
                              "file_contexts and booleans apply to SELinux layers", spec.position)
        from ..verify.check import select_profile
        try:
            profile = select_profile(policy, spec.subject)
        except UsageError as error:
            raise PolicyError(f"layer {spec.name!r}: {error}", spec.position) from None
        return Layer(spec, policy, profile=profile)
    if not spec.subject:
        raise PolicyError(f"layer {spec.name!r}: a SELinux layer needs subject = "
                          "\"user:role:type:level\" (the context its tasks run in)",
                          spec.position)
    context = _context(spec, spec.subject, "subject")
    _selinux_type(spec, policy, context, "subject")
    unknown = sorted(name for name, _ in spec.booleans if name not in policy.booleans)
    if unknown:
        raise PolicyError(f"layer {spec.name!r}: no boolean {', '.join(unknown)} in "
                          f"{policy.file}", spec.position)
    labels = {name: _context(spec, text, f"object_labels.{name}")
              for name, text in spec.object_labels}
    default = _context(spec, spec.default_label, "default_label") if spec.default_label else None
    contexts = read_file_contexts(spec.file_contexts) if spec.file_contexts else None
    if contexts is not None:
        for entry in contexts.entries:
            if entry.context is not None:
                _selinux_type(spec, policy, entry.context, f"file_contexts line {entry.line}")
    return Layer(spec, policy, context=context, object_labels=labels, default_label=default,
                 file_contexts=contexts)


def _check_labels(stack: Stack) -> None:
    """Every object label a SELinux child maps into its parent must exist there, and
    every type of the child must have a label in the parent."""
    for parent, child in stack.edges():
        if parent.lsm != "selinux" or child.lsm != "selinux":
            continue
        for type_name, context in (child.object_labels or {}).items():
            if type_name not in child.policy.types and type_name not in child.policy.aliases:
                raise PolicyError(f"layer {child.name!r}: object_labels names {type_name!r}, "
                                  f"which is not a type of {child.policy.file}",
                                  child.spec.position)
            _selinux_type(child.spec, parent.policy, context, f"object_labels.{type_name}")
        if child.default_label is not None:
            _selinux_type(child.spec, parent.policy, child.default_label, "default_label")
        elif unmapped := [t for t in child.policy.types if child.object_label(t) is None]:
            raise PolicyError(
                f"layer {child.name!r}: types without a label in layer {parent.name!r}: "
                f"{', '.join(unmapped[:8])}{' ...' if len(unmapped) > 8 else ''}; list them "
                "under object_labels or set default_label", child.spec.position)


def load_stack(path: str | Path) -> Stack:
    """Read a stack manifest and every policy it names (DESIGN §4)."""
    manifest = read_manifest(path)
    graph = _graph(manifest)
    layers = {spec.name: _load_layer(spec) for spec in manifest.layers}
    for name, layer in layers.items():
        graph.nodes[name]["layer"] = layer
    stack = Stack(manifest, layers, graph)
    _check_labels(stack)
    return stack
