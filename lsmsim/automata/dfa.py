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
        self._by_reach: dict[int, list[int]] = {}

    def __getstate__(self) -> dict:
        # The index of sets and the rows by reach are rebuilt on demand: smaller files.
        return {"nfa": self.nfa, "sets": self.sets, "rows": self.rows, "_tags": self._tags}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.ids = None
        self._by_reach = {}

    def row(self, state: int) -> list[int]:
        row = self.rows[state]
        return row if row is not None else self._build(state)

    def _build(self, state: int) -> list[int]:
        if self.ids is None:
            self.ids = {positions: sid for sid, positions in enumerate(self.sets)}
        nfa = self.nfa
        follow, charset_of = nfa.follow, nfa.charset_of
        reach, bits = 0, self.sets[state]
        while bits:
            low = bits & -bits
            reach |= follow[low.bit_length() - 1]
            bits ^= low
        # States that can read the same positions next share their row.
        shared = self._by_reach.get(reach)
        if shared is not None:
            self.rows[state] = shared
            return shared
        # Group the reachable positions by their character set: few sets, few classes.
        by_charset: dict[int, int] = {}
        bits = reach
        while bits:
            low = bits & -bits
            index = charset_of[low.bit_length() - 1]
            by_charset[index] = by_charset.get(index, 0) | low
            bits ^= low
        everywhere, targets = 0, {}
        for index, positions in by_charset.items():
            classes = nfa.charset_classes[index]
            if classes is None:
                everywhere |= positions
                continue
            for cls in classes:
                targets[cls] = targets.get(cls, 0) | positions
        rows = self.rows
        default = self._id(everywhere)
        row = [default] * len(nfa.class_positions)
        for cls, positions in targets.items():
            row[cls] = self._id(positions | everywhere)
        rows[state] = self._by_reach[reach] = row
        return row

    def _id(self, positions: int) -> int:
        sid = self.ids.get(positions)
        if sid is None:
            sid = self.ids[positions] = len(self.sets)
            self.sets.append(positions)
            self.rows.append(None)
        return sid

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
