"""How many strings lead into each state of a product of DFAs, by length.

The product is the one :class:`~lsmsim.automata.product.ProductSearch` explores (the
same components, pruned the same way), kept here as a graph whose edges say how many
bytes take them. Counting is dynamic programming over that graph by length, exact in
Python integers: the number of strings of at most ``n`` bytes that end in a state is
the sum, over lengths up to ``n``, of the walks of that length from the start.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Hashable, Iterable, Sequence

from .dfa import START
from .product import BudgetExhausted, Component

ALL_BYTES = bytes(range(256))


def is_alive(components: Sequence[Component], state: tuple[int, ...]) -> bool:
    """No pruning group of ``state`` (:class:`~lsmsim.automata.product.Component`)
    has lost all its live positions. Where one has, nothing the pruning keeps is
    matched there or on any longer string."""
    alive: dict[object, bool] = {}
    for k, (component, s) in enumerate(zip(components, state)):
        if component.prune:
            group = component.group if component.group is not None else k
            alive[group] = alive.get(group, False) or component.dfa.holds_any(s, component.live)
    return all(alive.values())


@dataclass(frozen=True)
class WeightedProduct:
    """The reachable, live part of a product of DFAs over ``alphabet``.

    ``states[0]`` is the start; ``edges[i]`` lists ``(j, n)``: ``n`` bytes of the
    alphabet lead from state ``i`` to state ``j``. States where a pruned component
    has nothing live left are left out (no string counted reaches through them).
    """

    states: tuple[tuple[int, ...], ...]
    edges: tuple[tuple[tuple[int, int], ...], ...]

    @staticmethod
    def build(components: Sequence[Component], budget: int,
              alphabet: bytes = ALL_BYTES) -> "WeightedProduct":
        """Explore the product breadth first; raises :class:`BudgetExhausted` past
        ``budget`` states. ``alphabet`` restricts the bytes read (every byte by
        default)."""
        # The joint byte classes of the components, with how many bytes each holds.
        sizes: dict[tuple[int, ...], int] = {}
        for byte in dict.fromkeys(alphabet):
            key = tuple(c.dfa.nfa.class_of[byte] for c in components)
            sizes[key] = sizes.get(key, 0) + 1
        joint = list(sizes)
        weights = [sizes[key] for key in joint]
        columns = [[key[k] for key in joint] for k in range(len(components))]
        dfas = [c.dfa for c in components]
        start = tuple(START for _ in components)
        index = {start: 0}
        states = [start]
        edges: list[tuple[tuple[int, int], ...]] = []
        moves: dict[tuple[int, ...], tuple[tuple[tuple[int, ...], int], ...]] = {}
        while len(edges) < len(states):
            if len(states) > budget:
                raise BudgetExhausted(budget)
            state = states[len(edges)]
            rows = [dfa.row(s) for dfa, s in zip(dfas, state)]
            # The successors depend on the rows alone, and states share rows.
            key = tuple(map(id, rows))
            successors = moves.get(key)
            if successors is None:
                merged: dict[tuple[int, ...], int] = {}
                lists = [[row[c] for c in column] for row, column in zip(rows, columns)]
                for weight, successor in zip(weights, zip(*lists)):
                    merged[successor] = merged.get(successor, 0) + weight
                successors = moves[key] = tuple(
                    (s, n) for s, n in merged.items() if is_alive(components, s))
            out = []
            for successor, weight in successors:
                target = index.get(successor)
                if target is None:
                    target = index[successor] = len(states)
                    states.append(successor)
                out.append((target, weight))
            edges.append(tuple(out))
        return WeightedProduct(tuple(states), tuple(edges))

    def lumped(self, keys: list[Hashable]) -> tuple[list[int], list[dict[int, int]]]:
        """The coarsest partition of the states that keeps ``keys`` apart and in which
        the states of a block send the same number of bytes into every block: each
        state's block, and the edges between blocks. Counting on the blocks gives
        the counts of the states they hold, summed (ordinary lumpability), on a
        graph a fraction of the size."""
        ids: dict[Hashable, int] = {}
        block = [ids.setdefault(key, len(ids)) for key in keys]
        count = len(ids)
        while True:
            signatures: dict[tuple, int] = {}
            refined = []
            for state, out in enumerate(self.edges):
                if len(out) == 1:
                    target, weight = out[0]
                    signature = (block[state], (block[target], weight))
                else:
                    into: dict[int, int] = {}
                    for target, weight in out:
                        b = block[target]
                        into[b] = into.get(b, 0) + weight
                    signature = (block[state], *sorted(into.items()))
                refined.append(signatures.setdefault(signature, len(signatures)))
            block = refined
            if len(signatures) == count:
                break
            count = len(signatures)
        edges: list[dict[int, int]] = [{} for _ in range(count)]
        done = set()
        for state, out in enumerate(self.edges):
            b = block[state]
            if b in done:
                continue
            done.add(b)
            for target, weight in out:
                edges[b][block[target]] = edges[b].get(block[target], 0) + weight
        return block, edges

    def count(self, labels: Callable[[tuple[int, ...]], Iterable[Hashable]],
              length: int) -> dict[Hashable, int]:
        """The number of strings of at most ``length`` bytes that end in a state
        carrying each label (``labels(state)`` names a state's labels)."""
        keys = [tuple(labels(state)) for state in self.states]
        block, edges = self.lumped(keys)
        totals = _totals([list(e.items()) for e in edges], block[0], length)
        key_of = {b: key for b, key in zip(block, keys)}
        found: dict[Hashable, int] = {}
        for b, total in enumerate(totals):
            for label in key_of[b]:
                found[label] = found.get(label, 0) + total
        return found


def _totals(edges: list[list[tuple[int, int]]], start: int, length: int) -> list[int]:
    """For every node of a weighted graph, the number of weighted walks of at most
    ``length`` edges from ``start`` that end there."""
    current = [0] * len(edges)
    current[start] = 1
    total = list(current)
    for _ in range(length):
        following = [0] * len(current)
        for node, count in enumerate(current):
            if count:
                for target, weight in edges[node]:
                    following[target] += count * weight
        current = following
        for node, count in enumerate(current):
            if count:
                total[node] += count
    return total
