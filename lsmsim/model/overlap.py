"""Do two regular-expression trees (:mod:`lsmsim.model.regex`) match a common
string? Answered on the product of their Thompson automata, without a solver."""
from __future__ import annotations

from .regex import Alt, CharSet, Lit, Regex, Seq, Star

Ranges = tuple[tuple[int, int], ...]


class _Automaton:
    """A Thompson automaton: per state, edges on character ranges and empty edges."""

    def __init__(self, node: Regex):
        self.edges: list[list[tuple[Ranges, int]]] = []
        self.empty: list[list[int]] = []
        self.start = self._state()
        self.accept = self._build(node, self.start)

    def _state(self) -> int:
        self.edges.append([])
        self.empty.append([])
        return len(self.edges) - 1

    def _build(self, node: Regex, start: int) -> int:
        """Add ``node`` from ``start``; return the state its matches end in."""
        match node:
            case Lit(text):
                state = start
                for char in text:  # raw ranges: a NUL separator stays a character
                    nxt = self._state()
                    self.edges[state].append((((ord(char), ord(char)),), nxt))
                    state = nxt
                return state
            case CharSet(ranges):
                end = self._state()
                self.edges[start].append((ranges, end))
                return end
            case Seq(items):
                state = start
                for item in items:
                    state = self._build(item, state)
                return state
            case Alt(items):
                end = self._state()
                for item in items:
                    branch = self._state()
                    self.empty[start].append(branch)
                    self.empty[self._build(item, branch)].append(end)
                return end
            case Star(item):
                loop = self._state()
                self.empty[start].append(loop)
                self.empty[self._build(item, loop)].append(loop)
                return loop
        raise TypeError(node)


def _meet(a: Ranges, b: Ranges) -> bool:
    return any(max(lo1, lo2) <= min(hi1, hi2) for lo1, hi1 in a for lo2, hi2 in b)


def intersects(a: Regex, b: Regex) -> bool:
    """Is some string matched by both ``a`` and ``b``?"""
    left, right = _Automaton(a), _Automaton(b)
    start = (left.start, right.start)
    seen, todo = {start}, [start]
    while todo:
        s, t = todo.pop()
        if s == left.accept and t == right.accept:
            return True
        moves = [(s2, t) for s2 in left.empty[s]] + [(s, t2) for t2 in right.empty[t]]
        moves += [(s2, t2) for r1, s2 in left.edges[s] for r2, t2 in right.edges[t]
                  if _meet(r1, r2)]
        for pair in moves:
            if pair not in seen:
                seen.add(pair)
                todo.append(pair)
    return False
