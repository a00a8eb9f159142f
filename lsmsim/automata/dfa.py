"""Deterministic automata built on demand from a :class:`TaggedNFA`."""
from __future__ import annotations

from .nfa import TaggedNFA

DEAD = 0
START = 1


class LazyDFA:
    """The subset construction of a tagged position automaton, one state at a time.

    State :data:`DEAD` reads nothing, :data:`START` is the start. ``row(s)`` gives the
    successor of ``s`` for every byte class; ``tags(s)`` the expressions that match
    the text read so far. Rows, once built, are kept (and cached with the profile).
    """

    def __init__(self, nfa: TaggedNFA):
        self.nfa = nfa
        self.sets: list[int] = [0, 1]
        self.ids: dict[int, int] = {0: DEAD, 1: START}
        self.rows: list[list[int] | None] = [[DEAD] * len(nfa.class_positions), None]
        self._tags: dict[int, frozenset[int]] = {}

    def row(self, state: int) -> list[int]:
        row = self.rows[state]
        return row if row is not None else self._build(state)

    def _build(self, state: int) -> list[int]:
        follow = self.nfa.follow
        reach, bits = 0, self.sets[state]
        while bits:
            low = bits & -bits
            reach |= follow[low.bit_length() - 1]
            bits ^= low
        ids, sets, rows = self.ids, self.sets, self.rows
        row = []
        for positions in self.nfa.class_positions:
            target = reach & positions
            sid = ids.get(target)
            if sid is None:
                sid = ids[target] = len(sets)
                sets.append(target)
                rows.append(None)
            row.append(sid)
        rows[state] = row
        return row

    def tags(self, state: int) -> frozenset[int]:
        """The indices of the expressions that match exactly the text read."""
        found = self._tags.get(state)
        if found is None:
            bits = self.sets[state] & self.nfa.accepting
            tags: set[int] = set()
            while bits:
                low = bits & -bits
                tags.update(self.nfa.tag_of_last[low.bit_length() - 1])
                bits ^= low
            found = self._tags[state] = frozenset(tags)
        return found

    def holds_any(self, state: int, positions: int) -> bool:
        """Does the state still hold one of ``positions`` (a match may yet come)?"""
        return bool(self.sets[state] & positions)

    @property
    def size(self) -> int:
        return len(self.sets)
