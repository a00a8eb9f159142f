"""A few strings a regular-expression tree (:mod:`lsmsim.model.regex`) matches:
samples to try against a profile before asking a solver."""
from __future__ import annotations

import random
from itertools import islice

from .regex import Alt, CharSet, Lit, Regex, Seq, Star

# Characters tried for a character class, best first: ones that read well in a path.
_PREFERRED = "a0zb.-_A"


def _chars(charset: CharSet) -> list[str]:
    found = [c for c in _PREFERRED if charset.contains(c)]
    if not found:
        found = [chr(lo) for lo, _ in charset.ranges[:2] if chr(lo) != "/"] or \
            [chr(lo) for lo, _ in charset.ranges[:1]]
    return found[:2]


def examples(node: Regex, limit: int = 8) -> list[str]:
    """Up to ``limit`` distinct strings ``node`` matches (fewer when it matches fewer)."""
    return list(dict.fromkeys(islice(_examples(node, limit), limit * 4)))[:limit]


def _examples(node: Regex, limit: int):
    match node:
        case Lit(text):
            yield text
        case CharSet():
            yield from _chars(node)
        case Seq(items):
            parts = [examples(item, limit) or [] for item in items]
            if all(parts):
                yield "".join(part[0] for part in parts)
                pick = random.Random(len(items))  # varied but the same on every run
                for _ in range(limit * 2):
                    yield "".join(pick.choice(part) for part in parts)
        case Alt(items):  # round robin, so that every branch shows early
            branches = [examples(item, limit) for item in items]
            for index in range(limit):
                yield from (found[index] for found in branches if index < len(found))
        case Star(item):
            inner = examples(item, limit)
            yield from inner[:1]
            yield ""
            yield from inner[1:]
            yield from (a + b for a in inner[:2] for b in inner[:2])
