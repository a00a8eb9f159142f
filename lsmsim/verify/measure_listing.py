"""A listing of real paths (``find / -xdev`` output, a distribution's file lists) and
the product states its paths lead to."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..automata.count import is_alive
from ..automata.dfa import START
from ..automata.nfa import utf8
from ..automata.product import Component
from ..errors import UsageError


@dataclass(frozen=True)
class PathListing:
    """Absolute paths, sorted and without repeats; ``name`` says where they came from.
    A directory is matched as AppArmor sees it only when its line ends in ``/``."""

    name: str
    paths: tuple[str, ...]

    @staticmethod
    def of(paths: Iterable[str], name: str = "") -> "PathListing":
        """The absolute paths of ``paths`` (other lines are not paths: left out)."""
        return PathListing(name, tuple(sorted({p for p in paths if p.startswith("/")})))

    @staticmethod
    def read(file: str | Path) -> "PathListing":
        """One path per line; blank lines and lines not starting with ``/`` are skipped."""
        try:
            text = Path(file).read_bytes().decode("utf-8", "surrogateescape")
        except OSError as error:
            raise UsageError(f"cannot read the path listing {file}: {error.strerror}") from None
        return PathListing.of(text.splitlines(), str(file))


def walk(components: Sequence[Component], paths: Sequence[str]
         ) -> Iterator[tuple[str, tuple[int, ...]]]:
    """Each path of ``paths`` (sorted) with the product state it ends in; paths on
    which a pruned component dies on the way are left out. Sorted paths share their
    prefixes, so each shared prefix is read once, and the product's moves are kept:
    a listing visits few product states many times."""
    dfas = [c.dfa for c in components]
    classes = [c.dfa.nfa.class_of for c in components]
    known: list[tuple[int, ...]] = [tuple(START for _ in components)]
    number = {known[0]: 0}
    moves: dict[int, int] = {}  # state number * 256 + byte -> state number, -1: dead

    def move(state: int, byte: int) -> int:
        current = known[state]
        following = tuple(dfa.row(s)[column[byte]]
                          for dfa, column, s in zip(dfas, classes, current))
        if not is_alive(components, following):
            return -1
        found = number.get(following)
        if found is None:
            found = number[following] = len(known)
            known.append(following)
        return found

    # trail[i]: the state after the first i bytes of the previous path.
    trail = [0]
    previous = b""
    for path in paths:
        data = utf8(path)
        shared = 0
        limit = min(len(previous), len(data), len(trail) - 1)
        while shared < limit and previous[shared] == data[shared]:
            shared += 1
        del trail[shared + 1:]
        previous = data
        state = trail[-1]
        for byte in data[shared:]:
            key = state * 256 + byte
            following = moves.get(key)
            if following is None:
                following = moves[key] = move(state, byte)
            if following < 0:
                break
            state = following
            trail.append(state)
        else:
            yield path, known[state]
