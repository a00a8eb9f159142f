"""Deterministic automata built on demand from a :class:`TaggedNFA`."""
from __future__ import annotations

import pickle
from array import array

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
        self.sets: list[frozenset[int]] = [frozenset(), frozenset({0})]
        self.ids: dict[frozenset[int], int] | None = {self.sets[0]: DEAD, self.sets[1]: START}
        self.rows: list[list[int] | None] = [[DEAD] * nfa.classes, None]
        self._tags: dict[int, frozenset[int]] = {}
        self._by_reach: dict[frozenset[int], list[int]] = {}
        self._index_charsets()

    def _index_charsets(self) -> None:
        # Each character set as a bit mask of byte classes.
        nfa = self.nfa
        self._all = (1 << nfa.classes) - 1
        self._masks = [self._all if classes is None else sum(1 << c for c in set(classes))
                       for classes in nfa.charset_classes]
        self._members: dict[int, list[int]] = {}

    def __getstate__(self) -> dict:
        # The tables travel as one string, opened on first use: a cached policy whose
        # automata a run does not read (its result is cached too) costs only their
        # bytes. The index of sets and the rows by reach are rebuilt on demand.
        packed = self.__dict__.get("_packed")
        if packed is None:
            packed = pickle.dumps((self.nfa, self.sets, _compact(self.rows, len(self.sets)),
                                   self._tags), protocol=pickle.HIGHEST_PROTOCOL)
        return {"packed": packed}

    def __setstate__(self, state: dict) -> None:
        self.__dict__["_packed"] = state["packed"]

    def __getattr__(self, name: str):
        # Only called for what the instance lacks: the tables of a packed automaton.
        packed = self.__dict__.pop("_packed", None)
        if packed is None:
            raise AttributeError(name)
        self.nfa, self.sets, self.rows, self._tags = pickle.loads(packed)
        self.ids = None
        self._by_reach = {}
        self._index_charsets()
        return getattr(self, name)

    def row(self, state: int) -> list[int]:
        row = self.rows[state]
        return row if row is not None else self._build(state)

    def _build(self, state: int) -> list[int]:
        if self.ids is None:
            self.ids = {positions: sid for sid, positions in enumerate(self.sets)}
        nfa = self.nfa
        follow = nfa.follow
        reach: set[int] = set()
        for position in self.sets[state]:
            reach.update(follow[position])
        key = frozenset(reach)
        # States that can read the same positions next share their row.
        shared = self._by_reach.get(key)
        if shared is not None:
            self.rows[state] = shared
            return shared
        # Group the reachable positions by their character set, then split the byte
        # classes into blocks that no character set tells apart: a row has a handful
        # of distinct successors (three on average in a large profile) among tens of
        # classes, and each successor's set is made and looked up once.
        charset_of = nfa.charset_of
        by_charset: dict[int, list[int]] = {}
        for position in reach:
            by_charset.setdefault(charset_of[position], []).append(position)
        masks = self._masks
        blocks: list[tuple[int, list[int]]] = [(self._all, [])]
        for index, positions in by_charset.items():
            mask = masks[index]
            split: list[tuple[int, list[int]]] = []
            for block, held in blocks:
                inside = block & mask
                if inside == block:
                    split.append((block, held + positions))
                elif not inside:
                    split.append((block, held))
                else:
                    split.append((inside, held + positions))
                    split.append((block & ~mask, held))
            blocks = split
        # The widest block fills the row; the others overwrite their classes.
        blocks.sort(key=lambda item: -item[0].bit_count())
        row = [self._id(frozenset(blocks[0][1]))] * nfa.classes
        members = self._members
        for block, held in blocks[1:]:
            sid = self._id(frozenset(held))
            classes = members.get(block)
            if classes is None:
                classes = members[block] = [c for c in range(nfa.classes) if block >> c & 1]
            for cls in classes:
                row[cls] = sid
        self.rows[state] = self._by_reach[key] = row
        return row

    def _id(self, positions: frozenset[int]) -> int:
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
            tags_of = self.nfa.tags_of
            found = self._tags[state] = frozenset(
                t for p in self.sets[state] if p in tags_of for t in tags_of[p])
        return found

    def holds_any(self, state: int, positions: frozenset[int] | None) -> bool:
        """Does the state still hold one of ``positions`` (None: any position at all)?
        A state without them matches none of their expressions on any longer text."""
        held = self.sets[state]
        return bool(held) if positions is None else not held.isdisjoint(positions)


def _compact(rows: list, states: int) -> list:
    """``rows`` as arrays, a row shared by several states still one object: an array
    is read back as one block of bytes, where a list is read back an int at a time
    (libvirt-qemu's decision rows: 2.7 ms against 16 ms)."""
    code = "H" if states <= 1 << 16 else "I"
    made: dict[int, array] = {}
    return [None if row is None else made.get(id(row)) or
            made.setdefault(id(row), array(code, row)) for row in rows]
