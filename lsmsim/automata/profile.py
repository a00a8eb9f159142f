"""A profile's path-matching rules compiled into automata, once per profile."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..model.decision import file_decision_key
from ..model.rules import FileRule
from .dfa import LazyDFA
from .domain import canonical_path
from .nfa import MAX_PATH, TaggedNFA


@dataclass
class TaggedAutomaton:
    """A lazy DFA over the globs of ``items`` (tag = index into ``items``).

    ``live`` are the positions of the items that can grant something (allow rules):
    a state that holds none of them matches no allow rule on any longer path.
    """

    items: tuple
    dfa: LazyDFA
    live: frozenset[int] | None

    def matched(self, state: int) -> list:
        return self.matched_tags(self.dfa.tags(state))

    def matched_tags(self, tags: frozenset[int]) -> list:
        """The items tagged ``tags``, in the order of the policy."""
        return [self.items[t] for t in sorted(tags)]


def _live(rules, nfa: TaggedNFA) -> frozenset[int]:
    """The start and the positions of the allow rules."""
    live = {0}
    for rule, span in zip(rules, nfa.spans):
        if not rule.deny:
            live.update(span)
    return frozenset(live)


def file_automaton(rules: tuple[FileRule, ...]) -> TaggedAutomaton:
    """The file rules of a profile as one automaton."""
    nfa = TaggedNFA.of([r.glob.regex for r in rules], MAX_PATH)
    return TaggedAutomaton(rules, LazyDFA(nfa), _live(rules, nfa))


def decision_automaton(rules: tuple[FileRule, ...]) -> TaggedAutomaton:
    """The file rules of a profile as one automaton that tells them apart only by
    what they decide (:func:`~lsmsim.model.decision.file_decision_key`): a tag stands
    for every rule with one key, the first of them in policy order stands in for the
    rest, and rules that end alike share their ending. For the side of a check that
    asks what a profile decides, never which of its rules did."""
    keys: dict[tuple, int] = {}
    tags = [keys.setdefault(file_decision_key(rule), len(keys)) for rule in rules]
    first: dict[int, FileRule] = {}
    for tag, rule in zip(tags, rules):
        first.setdefault(tag, rule)  # tags are numbered in order of first use
    items = tuple(first.values())
    nfa = TaggedNFA.shared([r.glob.regex for r in rules], tags, MAX_PATH)
    return TaggedAutomaton(items, LazyDFA(nfa), _live(items, nfa))


def link_automaton(rules: tuple) -> TaggedAutomaton:
    """Link rules as one automaton: tag ``2 i`` is rule ``i``'s new-name glob,
    ``2 i + 1`` its target glob."""
    nfa = TaggedNFA.of([g.regex for r in rules for g in (r.link, r.target)], MAX_PATH)
    live = {0}
    for i, rule in enumerate(rules):
        if not rule.deny:
            live.update(nfa.spans[2 * i])
            live.update(nfa.spans[2 * i + 1])
    return TaggedAutomaton(tuple(r for r in rules for _ in (0, 1)), LazyDFA(nfa),
                           frozenset(live))


def attachment_automaton(profiles: list) -> TaggedAutomaton:
    """The attachment globs of ``profiles`` as one automaton."""
    nfa = TaggedNFA.of([p.attachment.regex for p in profiles], MAX_PATH)
    return TaggedAutomaton(tuple(profiles), LazyDFA(nfa), None)


def string_automaton(rules: list, expressions, max_length: float = float("inf")
                     ) -> TaggedAutomaton:
    """Rules of a string class as one automaton; a rule with several alternatives
    appears once per alternative (``items`` is indexed by tag)."""
    items, regexes = [], []
    for rule in rules:
        for expression in expressions(rule):
            items.append(rule)
            regexes.append(expression)
    nfa = TaggedNFA.of(regexes, max_length)
    return TaggedAutomaton(tuple(items), LazyDFA(nfa), _live(items, nfa))


@dataclass
class AutomatonCache:
    """Compiled automata of the profiles one check meets, keyed by profile identity
    (hats and children have local names, so names do not tell them apart)."""

    files: dict[int, tuple[object, TaggedAutomaton]] = field(default_factory=dict)
    decisions: dict[int, tuple[object, TaggedAutomaton]] = field(default_factory=dict)
    attachments: dict[tuple[int, ...], tuple[list, TaggedAutomaton]] = field(default_factory=dict)
    _domain: LazyDFA | None = None
    by_class: dict[tuple, tuple[object, TaggedAutomaton]] = field(default_factory=dict)

    @property
    def domain(self) -> LazyDFA:
        """The canonical-path DFA (tag 0 accepts)."""
        if self._domain is None:
            self._domain = LazyDFA(TaggedNFA.of([canonical_path()]))
        return self._domain

    def file(self, profile) -> TaggedAutomaton:
        entry = self.files.get(id(profile))
        if entry is None:
            entry = self.files[id(profile)] = (profile,
                                                file_automaton(profile.rules_of(FileRule)))
        return entry[1]

    def file_decisions(self, profile) -> TaggedAutomaton:
        """The profile's :func:`decision_automaton`."""
        entry = self.decisions.get(id(profile))
        if entry is None:
            entry = self.decisions[id(profile)] = (
                profile, decision_automaton(profile.rules_of(FileRule)))
        return entry[1]

    def attachment(self, profiles: list) -> TaggedAutomaton:
        key = tuple(id(p) for p in profiles)
        entry = self.attachments.get(key)
        if entry is None:
            entry = self.attachments[key] = (profiles, attachment_automaton(profiles))
        return entry[1]

    def strings(self, profile, klass, rules: list) -> TaggedAutomaton:
        """The automaton of ``rules`` (the rules of ``klass`` in ``profile``)."""
        key = (id(profile), klass.name)
        entry = self.by_class.get(key)
        if entry is None:
            entry = self.by_class[key] = (profile, string_automaton(rules, klass.expressions,
                                                                     klass.max_length))
        return entry[1]

    def string_domain(self, klass) -> TaggedAutomaton:
        """The requests of ``klass`` the kernel can make, tagged by part."""
        key = ("domain", klass.name)
        entry = self.by_class.get(key)
        if entry is None:
            parts = list(klass.domain)
            entry = self.by_class[key] = (klass, TaggedAutomaton(
                tuple(range(len(parts))), LazyDFA(TaggedNFA.of(parts)), None))
        return entry[1]

    def seed(self, kind: str, profile, rest: tuple, automaton: TaggedAutomaton) -> None:
        """Take an automaton compiled earlier for ``profile`` (see :meth:`export`)."""
        if kind == "file":
            self.files[id(profile)] = (profile, automaton)
        elif kind == "decisions":
            self.decisions[id(profile)] = (profile, automaton)
        elif kind == "strings":
            self.by_class[(id(profile), rest[0])] = (profile, automaton)
        elif kind == "keyed":
            self.by_class[(rest[0], id(profile))] = (profile, automaton)

    def export(self, names: dict[int, str]) -> dict[tuple, TaggedAutomaton]:
        """The automata of the profiles in ``names`` (profile identity → its path
        ``a//b``), keyed so that :meth:`seed` can take them back."""
        out: dict[tuple, TaggedAutomaton] = {}
        for kind, built in (("file", self.files), ("decisions", self.decisions)):
            for key, (_, automaton) in built.items():
                if key in names:
                    out[(kind, names[key])] = automaton
        for key, (_, automaton) in self.by_class.items():
            if key[0] in names:
                out[("strings", names[key[0]], key[1])] = automaton
            elif isinstance(key[0], str) and key[1] in names:
                out[("keyed", names[key[1]], key[0])] = automaton
        return out

    def keyed(self, key: tuple, profile, build) -> TaggedAutomaton:
        """The automaton stored under ``key`` (its first part a kind, its second the
        profile's identity), built by ``build()`` the first time."""
        entry = self.by_class.get(key)
        if entry is None:
            entry = self.by_class[key] = (profile, build())
        return entry[1]
