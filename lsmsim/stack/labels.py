"""A ``file_contexts`` file as an automaton over paths: which specification labels a
path, and which labels the directory that holds it, the way libselinux's lookup
decides, for a whole region of paths at once."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..automata.dfa import LazyDFA
from ..automata.nfa import MAX_PATH, TaggedNFA
from ..model.regex import ANY_CHAR, NOT_SLASH, Alt, Lit, Seq, Star
from .file_contexts import FileContexts


@dataclass(frozen=True)
class Label:
    """Who labels a region of paths: the object class of its paths and the index of the
    winning file_contexts entry (None: no entry matches), for the paths themselves and
    for the directory that holds them (None: the region is ``/``)."""

    tclass: str
    entry: int | None
    holder: int | None | bool = False  # False: ``/`` has no directory above it


@dataclass(frozen=True)
class LabelAutomaton:
    """The specifications of a file_contexts file as one DFA over canonical paths.
    Entry ``i`` has three tags: ``3i`` matches the paths it labels as files, ``3i+1``
    those it labels as directories (written with their trailing ``/``), ``3i+2`` the
    paths whose directory it labels (not ``/``). The last three tags mark ``/`` itself,
    the paths directly under ``/`` and every path ending in ``/``."""

    contexts: FileContexts
    dfa: LazyDFA
    # Entry index -> its place in libselinux's order (lower wins), and the label of each
    # DFA state once computed: the product visits a state of this DFA many times.
    rank: dict[int, int] = field(default_factory=dict, compare=False)
    _labels: dict[int, Label] = field(default_factory=dict, compare=False)

    @staticmethod
    def of(contexts: FileContexts) -> "LabelAutomaton":
        name = Seq((NOT_SLASH, Star(NOT_SLASH), Alt((Lit("/"), Lit("")))))
        expressions = []
        for entry in contexts.entries:
            expressions += [entry.tree, Seq((entry.tree, Lit("/"))),
                            Seq((entry.tree, Lit("/"), name))]
        expressions += [Lit("/"), Seq((Lit("/"), name)), Seq((Star(ANY_CHAR), Lit("/")))]
        rank = {index: place for place, index in enumerate(contexts.precedence)}
        return LabelAutomaton(contexts, LazyDFA(TaggedNFA.of(expressions, MAX_PATH)), rank)

    @property
    def root(self) -> int:
        return 3 * len(self.contexts.entries)

    def _root_entry(self) -> int | None:
        entry = self.contexts.lookup("/")[2]
        return self.contexts.entries.index(entry) if entry is not None else None

    def _winner(self, tags: frozenset[int], variant: int, tclass: str) -> int | None:
        entries = self.contexts.entries
        matching = [t // 3 for t in tags if t < self.root and t % 3 == variant
                    and entries[t // 3].applies_to(tclass)]
        return min(matching, key=self.rank.__getitem__, default=None)

    def label(self, state: int) -> Label:
        """Who labels the paths that reach ``state``."""
        found = self._labels.get(state)
        if found is None:
            found = self._labels[state] = self._label(self.dfa.tags(state))
        return found

    def _label(self, tags: frozenset[int]) -> Label:
        if self.root in tags:
            return Label("dir", self._root_entry())
        is_dir = self.root + 2 in tags
        tclass = "dir" if is_dir else "file"
        if self.root + 1 in tags:  # the directory above is /
            holder = self._root_entry()
        else:
            holder = self._winner(tags, 2, "dir")
        return Label(tclass, self._winner(tags, 1 if is_dir else 0, tclass), holder)
