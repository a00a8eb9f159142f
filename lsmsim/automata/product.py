"""Breadth-first search over the product of several lazy DFAs.

Each component reads the same bytes through its own byte classes; the search runs
over the joint classes (the common refinement), ordered so that the representative
byte of a class is a readable one where possible: the first path found to a product
state is then the shortest, and among the shortest the most readable. A component
may name ``live`` positions: a product state where it holds none of them is not
expanded (nothing the search looks for can follow). The search stops, marked
exhausted, after ``budget`` product states; the same input always stops at the same
place.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from operator import itemgetter
from typing import Callable, Hashable, Iterator

from .dfa import START, LazyDFA
from .nfa import from_utf8

# Bytes in the order a witness should prefer them.
_READABLE = [*range(ord("a"), ord("z") + 1), *range(ord("0"), ord("9") + 1), ord("-"),
             ord("."), ord("_"), *range(ord("A"), ord("Z") + 1)]
BYTE_ORDER = list(dict.fromkeys([*_READABLE, *range(0x21, 0x7F), *range(1, 256), 0]))


ANY_POSITION = None


@dataclass(frozen=True)
class Component:
    """A DFA in the product. Where ``prune`` is set, a state that holds none of the
    ``live`` positions (:data:`ANY_POSITION`: none at all) is not expanded. Pruning
    components that name the same ``group`` prune together: the state is cut only
    when every one of them holds none of its live positions."""

    dfa: LazyDFA
    prune: bool = False
    live: frozenset[int] | None = ANY_POSITION
    group: str | None = None


class BudgetExhausted(Exception):
    """The product had more states than the budget allowed."""

    def __init__(self, explored: int):
        super().__init__(f"the automaton product has more than {explored:,} states")
        self.explored = explored


class ProductSearch:
    """The reachable states of the product of ``components``, breadth first."""

    def __init__(self, components: list[Component], budget: int):
        self.components = components
        self.budget = budget
        joint: dict[tuple[int, ...], int] = {}
        self.representative: list[int] = []
        for byte in BYTE_ORDER:
            key = tuple(c.dfa.nfa.class_of[byte] for c in components)
            if key not in joint:
                joint[key] = len(joint)
                self.representative.append(byte)
        keys = list(joint)
        self.columns = [[key[k] for key in keys] for k in range(len(components))]
        # Reading a row's successor for every joint class at C speed.
        self._pick = [itemgetter(*column) if len(column) > 1 else
                      (lambda row, c=column[0]: (row[c],)) for column in self.columns]
        self.previous: dict[tuple[int, ...], tuple[tuple[int, ...], int] | None] = {}
        self.explored = 0

    def states(self) -> Iterator[tuple[int, ...]]:
        """Every reachable product state not cut by a ``live`` mask, breadth first.
        Raises :class:`BudgetExhausted` past the budget."""
        start = tuple(START for _ in self.components)
        previous = self.previous
        previous[start] = None
        queue = deque([start])
        alive = self._liveness()
        # Each component state's row read in the joint classes, made once: a component
        # state recurs in many product states (lxc-default's 7,700 within libvirt-qemu
        # hold 4,300 component states).
        spread = [{} for _ in self.components]
        make = [self._spread_row(k, table) for k, table in enumerate(spread)]
        representative = self.representative
        budget, popleft, append = self.budget, queue.popleft, queue.append
        while queue:
            state = popleft()
            self.explored += 1
            if self.explored > budget:
                raise BudgetExhausted(budget)
            yield state
            if alive is not None and not alive(state):
                continue
            # Joint classes come in the order of their most readable byte: the first
            # class that leads to a successor names it, as the witness should. A row
            # has a few distinct successors among many classes: they are told apart
            # at C speed, and only a new one looks for its first class.
            joint = list(zip(*[table.get(s) or new(s)
                               for table, new, s in zip(spread, make, state)]))
            for successor in dict.fromkeys(joint):
                if successor not in previous:
                    previous[successor] = (state, representative[joint.index(successor)])
                    append(successor)

    def _spread_row(self, k: int, table: dict[int, tuple[int, ...]]
                    ) -> Callable[[int], tuple[int, ...]]:
        """The maker of component ``k``'s rows in the joint classes, kept in ``table``."""
        row, pick = self.components[k].dfa.row, self._pick[k]

        def new(state: int) -> tuple[int, ...]:
            spread = table[state] = pick(row(state))
            return spread
        return new

    def _liveness(self) -> Callable[[tuple[int, ...]], bool] | None:
        """The test that a product state is worth expanding (None: every state is):
        each pruning group holds one of its live positions somewhere."""
        groups: dict[object, list] = {}
        for k, c in enumerate(self.components):
            if c.prune:
                groups.setdefault(c.group if c.group is not None else k, []).append(
                    (k, c.dfa, c.live, {}))
        if not groups:
            return None
        members = list(groups.values())

        def alive(state: tuple[int, ...]) -> bool:
            for group in members:
                for k, dfa, mask, known in group:
                    s = state[k]
                    held = known.get(s)
                    if held is None:
                        held = known[s] = dfa.holds_any(s, mask)
                    if held:
                        break
                else:
                    return False
            return True
        return alive

    def first_by(self, key: Callable[[tuple[int, ...]], Hashable | None]
                 ) -> dict[Hashable, tuple[int, ...]]:
        """The first (so shortest) state reached for each value of ``key`` (states
        whose key is None are left out). Raises :class:`BudgetExhausted`."""
        found: dict[Hashable, tuple[int, ...]] = {}
        for state in self.states():
            value = key(state)
            if value is not None and value not in found:
                found[value] = state
        return found

    def witness(self, state: tuple[int, ...]) -> str:
        """The (shortest) text that leads from the start to ``state``."""
        data = []
        step = self.previous[state]
        while step is not None:
            state, byte = step
            data.append(byte)
            step = self.previous[state]
        return from_utf8(bytes(reversed(data)))
