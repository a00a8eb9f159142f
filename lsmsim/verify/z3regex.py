"""Regular-expression trees (:mod:`lsmsim.model.regex`) as Z3 regular expressions."""
from __future__ import annotations

from functools import lru_cache

from ..lazy import z3

from ..automata.nfa import from_utf8, utf8
from ..model.regex import MAX_CHAR, Alt, CharSet, Lit, Regex, Seq, Star


def z3_text(text: str) -> z3.SeqRef:
    """``text`` as the solver sees it: the UTF-8 bytes the kernel matches, one
    character per byte (so a path the model writes as "ж" is the two bytes the
    kernel compares, and the byte domain 1..255 holds every path)."""
    return z3.StringVal(utf8(text).decode("latin-1"))


def model_text(value: z3.SeqRef) -> str:
    """A string of a model back as lsmsim writes it (the inverse of :func:`z3_text`)."""
    raw = value.as_string()
    try:
        return from_utf8(raw.encode("latin-1"))
    except UnicodeEncodeError:
        return raw


def to_z3(node: Regex) -> z3.ReRef:
    """The Z3 regular expression for ``node``, over bytes as :func:`z3_text` writes them."""
    return _to_z3(node)


@lru_cache(maxsize=None)
def _to_z3(node: Regex) -> z3.ReRef:
    match node:
        case Lit(text):
            return z3.Re(z3_text(text))
        case CharSet(ranges) if ranges and ranges[-1][1] > MAX_CHAR:
            # Characters past one byte are matched as their UTF-8 bytes, as the DFA does.
            low = CharSet(tuple((lo, min(hi, MAX_CHAR)) for lo, hi in ranges if lo <= MAX_CHAR))
            high = [Lit(chr(c)) for lo, hi in ranges if hi > MAX_CHAR
                    for c in range(max(lo, MAX_CHAR + 1), hi + 1)]
            return _to_z3(Alt((low, *high) if low.ranges else tuple(high)))
        case CharSet(ranges):
            parts = [z3.Range(chr(lo), chr(hi)) for lo, hi in ranges]
            if not parts:
                return z3.Empty(z3.ReSort(z3.StringSort()))
            return parts[0] if len(parts) == 1 else z3.Union(*parts)
        case Seq(items):
            if not items:
                return z3.Re(z3.StringVal(""))
            parts = [_to_z3(i) for i in items]
            return parts[0] if len(parts) == 1 else z3.Concat(*parts)
        case Alt(items):
            if not items:
                return z3.Empty(z3.ReSort(z3.StringSort()))
            return _to_z3(items[0]) if len(items) == 1 else z3.Union(*[_to_z3(i) for i in items])
        case Star(item):
            return z3.Star(_to_z3(item))
    raise TypeError(node)


PRINTABLE = CharSet.of([(0x21, 0x7E)])
READABLE = CharSet.of([(ord("a"), ord("z")), (ord("0"), ord("9")), (ord("-"), ord("."))])


def _chars_except(alphabet: CharSet | None, *excluded: str) -> z3.ReRef:
    """Characters of ``alphabet`` (all of 1..255 when None) other than ``excluded``."""
    allowed = CharSet.of([(ord(c), ord(c)) for c in excluded], negate=True)
    if alphabet is not None:
        allowed = CharSet.of([(max(lo, a), min(hi, b)) for lo, hi in allowed.ranges
                              for a, b in alphabet.ranges])
    return to_z3(allowed)


@lru_cache(maxsize=None)
def canonical_path(alphabet: CharSet | None = None) -> z3.ReRef:
    """Paths ``/([^/]+/)*[^/]*`` whose components are never ``.`` or ``..``.

    With an ``alphabet`` (such as :data:`READABLE` or :data:`PRINTABLE`) the
    component characters are limited to it, which gives witnesses a person can
    read and paste.
    """
    any_char = _chars_except(alphabet, "/")
    no_dot = _chars_except(alphabet, "/", ".")
    dot = z3.Re(".")
    component = z3.Union(
        z3.Concat(no_dot, z3.Star(any_char)),
        z3.Concat(dot, no_dot, z3.Star(any_char)),
        z3.Concat(dot, dot, z3.Plus(any_char)),
    )
    slash = z3.Re("/")
    return z3.Concat(slash, z3.Star(z3.Concat(component, slash)), z3.Option(component))
