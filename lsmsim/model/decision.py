"""What the matching rules of a profile decide, written once.

Which rules match a request is the business of each engine: the simulator matches
globs against a concrete string, the automaton engine reads the rules a DFA state
accepts, the Z3 encoder writes a regular-expression membership. What the matching
rules then *decide* is a function of "does rule r match" only, and it lives here.
Every function takes ``match`` (rule → truth value) and a :class:`Logic` that says
how truth values combine, so the same text yields a Python ``bool`` for the
simulator and the automata and a Z3 formula for the encoder.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Protocol, Sequence, TypeVar

from .rules import FILE_PERMS, FileRule, Half

B = TypeVar("B")
Match = Callable[[Any], Any]


class Logic(Protocol):
    """A Boolean algebra: concrete truth values or symbolic formulas."""

    def any(self, items: Iterable[Any]) -> Any: ...

    def all(self, items: Iterable[Any]) -> Any: ...

    def not_(self, item: Any) -> Any: ...


class ConcreteLogic:
    """Python truth values."""

    @staticmethod
    def any(items: Iterable[bool]) -> bool:
        return any(items)

    @staticmethod
    def all(items: Iterable[bool]) -> bool:
        return all(items)

    @staticmethod
    def not_(item: bool) -> bool:
        return not item


CONCRETE = ConcreteLogic()


def matching(rule) -> bool:
    """``match`` for a list that holds the matching rules only (a DFA state's tags,
    the rules a concrete request matched): every rule in it matches."""
    return True


def allowed(rules: Iterable, match: Match, logic: Logic = CONCRETE):
    """The decision of every rule kind without halves or precedence: some allow rule
    matches and no deny rule does (AppArmor's deny wins regardless of order)."""
    rules = list(rules)
    return logic.all((logic.any(match(r) for r in rules if not r.deny),
                      logic.not_(logic.any(match(r) for r in rules if r.deny))))


def file_allows(rules: Iterable[FileRule], letter: str, half: Half, match: Match,
                logic: Logic = CONCRETE):
    """``letter`` is granted on ``half``: the matching allow rules of that half grant
    it and no matching deny rule of that half removes it (``deny w`` also removes
    ``a``: the front end normalises ``w`` to imply ``a``)."""
    return allowed((r for r in rules if letter in r.perms and r.qualifier.covers(half)),
                   match, logic)


def granted_letters(rules: Sequence[FileRule], half: Half) -> set[str]:
    """The file letters ``rules`` (the matching ones only) grant on ``half``."""
    return {letter for letter in FILE_PERMS if file_allows(rules, letter, half, matching)}


def exec_applies(rule: FileRule, rules: Sequence[FileRule], half: Half, match: Match,
                 logic: Logic = CONCRETE):
    """``rule``'s exec transition is the one taken: it matches, and unless its glob is
    exact (no wildcard), no exact exec rule of the same half matches, since an exact
    path beats a glob (the parser's ExactMatchFlag)."""
    if rule.glob.is_exact:
        return match(rule)
    exact = [r for r in rules if not r.deny and r.exec is not None and r.glob.is_exact
             and r.qualifier.covers(half)]
    return logic.all((match(rule), logic.not_(logic.any(match(r) for r in exact))))


def file_decision_key(rule: FileRule) -> tuple:
    """What the decisions above read of a file rule besides whether its glob matches:
    two rules with equal keys decide alike wherever they match, so one can stand in
    for the other (an automaton that tells them apart only by this key is smaller).
    The exactness of a glob counts only where the rule carries an exec transition."""
    return (rule.perms, rule.qualifier, rule.deny, rule.exec,
            rule.exec is not None and rule.glob.is_exact)


def exec_deciders(rules: Sequence[FileRule], half: Half) -> list[FileRule]:
    """The allow rules of ``half`` that carry an exec transition."""
    return [r for r in rules if not r.deny and r.exec is not None and r.qualifier.covers(half)]


# -- attachments: which profile a px/cx without a named target enters -------------

def xmatch_len(profile) -> int:
    """The attachment's literal length before its first wildcard (the compiled
    profile's ``xmatch_len``): a longer literal match is the more specific."""
    text = profile.attachment.text
    length, escaped = 0, False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
            continue
        elif ch in "*?[{":
            break
        length += 1
    return length


def attachment_rank(profile) -> tuple[bool, int]:
    """How specific an attachment is: an exact path beats every glob; among globs the
    longer literal match wins (the kernel's ``find_attach``)."""
    return (profile.attachment.is_literal, xmatch_len(profile))


def attachment_chosen(profile, candidates: Sequence, match: Match, logic: Logic = CONCRETE):
    """The exec enters ``profile``: its attachment matches and no candidate that ranks
    as high or higher matches too (an equal rank is a tie the kernel refuses)."""
    rank = attachment_rank(profile)
    rivals = [p for p in candidates if p is not profile and attachment_rank(p) >= rank]
    return logic.all((match(profile), logic.not_(logic.any(match(p) for p in rivals))))


def attachment_conflict(candidates: Sequence, match: Match, logic: Logic = CONCRETE):
    """Two attachments of the same, highest matching rank: the kernel cannot decide
    between them and the exec fails."""
    by_rank: dict[tuple[bool, int], list] = {}
    for p in candidates:
        by_rank.setdefault(attachment_rank(p), []).append(p)
    ties = []
    for rank, tied in by_rank.items():
        if len(tied) < 2:
            continue
        higher = [p for p in candidates if attachment_rank(p) > rank]
        both = logic.any(logic.all((match(a), match(b)))
                         for i, a in enumerate(tied) for b in tied[i + 1:])
        ties.append(logic.all((both, logic.not_(logic.any(match(p) for p in higher)))))
    return logic.any(ties)


def pick_attachment(candidates: Sequence, matched: Callable[[Any], bool]):
    """The profile the kernel attaches (concretely), or None when no attachment
    matches or two tie."""
    for profile in candidates:
        if attachment_chosen(profile, candidates, matched):
            return profile
    return None


# -- exec targets: where an exec transition leads -----------------------------------

UNCONFINED = "unconfined"
FAILED = "failed"          # a px/cx target that does not exist, and no fallback
AMBIGUOUS = "ambiguous"    # two attachments tie, and no fallback


def exec_target(policy, profile, mode, attached: Callable[[Any], bool]):
    """The domain ``profile`` enters through ``mode``: a profile, :data:`UNCONFINED`,
    or :data:`FAILED`/:data:`AMBIGUOUS` when the exec fails. ``attached(p)`` says
    whether profile ``p``'s attachment matches the executed file."""
    kind = mode.kind.value
    if kind == "i":
        return profile
    if kind == "u":
        return UNCONFINED
    pool = profile.children if kind == "c" else policy.profiles
    failure = FAILED
    if mode.target:
        name = mode.target.removeprefix(profile.name + "//") if kind == "c" else mode.target
        found = next((p for p in pool if p.name == name), None)
    else:
        candidates = [p for p in pool if p.attachment is not None]
        found = pick_attachment(candidates, attached)
        if found is None and attachment_conflict(candidates, attached):
            failure = AMBIGUOUS
    return found if found is not None else exec_fallback(profile, mode, failure)


def exec_fallback(profile, mode, failure: str):
    """Where ``mode`` leads when its target cannot be found: the fallback of ``pix``
    or ``pux``, else ``failure`` (the exec fails)."""
    fallback = mode.fallback.value if mode.fallback is not None else None
    return {"i": profile, "u": UNCONFINED}.get(fallback, failure)


def attachment_pool(policy, profile) -> list:
    """Every profile an exec of ``profile`` may attach to without a named target."""
    return [p for p in (*policy.profiles, *profile.children) if p.attachment is not None]


# -- hard links ------------------------------------------------------------------------

def link_allowed(pair_rules: Sequence, half: Half, subset_holds: Callable[[], Any],
                 match: Match, logic: Logic = CONCRETE):
    """The kernel's link decision: an allow rule of ``half`` matches the (new name,
    target) pair and no deny rule does, and where a matching allow rule asks for the
    subset test, ``subset_holds()`` (every permission on the new name is held on the
    target, with the same exec transition)."""
    rules = [r for r in pair_rules if r.qualifier.covers(half)]
    needs = logic.any(match(r) for r in rules if not r.deny and r.requires_subset(half))
    return logic.all((allowed(rules, match, logic),
                      logic.any((logic.not_(needs), subset_holds()))))
