"""How large each expansion of a check is.

For every denial of the file and exec classes, the exact number of canonical paths
(:func:`lsmsim.automata.domain.canonical_path`) of at most ``length`` bytes on which
the child rule grants what the denial names and the parent does not, and, given a
:class:`~lsmsim.verify.measure_listing.PathListing`, the listed paths among them.
Paths are attributed as the check attributes its witnesses: a path counts for a
denial when the denial's rule is among the child's rules granting one of the
denial's letters on that half and the parent lacks that letter (for an exec that
leaves confinement: the rule's transition applies, it leads out of confinement and
the parent's transition keeps the task confined). Counting runs on the product the
check explores (:class:`~lsmsim.verify.path_check.PathProduct`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..automata.count import ALL_BYTES, WeightedProduct
from ..automata.product import BudgetExhausted, Component
from ..model.decision import (UNCONFINED, exec_applies, exec_deciders, exec_target,
                              granted_letters, matching)
from ..model.policy import Policy, Profile
from ..model.requests import ExecRequest, FileRequest
from ..model.rules import FileRule, Half
from ..model.source import Source
from ..automata.profile import AutomatonCache
from ..simulate.decide import file_permissions
from .check import select_profile
from .context import Budget, CheckContext, Pair
from .file_check import HALVES
from .measure_listing import PathListing, walk
from .path_check import PathProduct
from .prover import Prover
from .result import CheckResult, Denial

DEFAULT_LENGTH = 255  # bytes: NAME_MAX, the longest name one path component may have
DEFAULT_BUDGET = 1_000_000  # product states per pair of profiles
EXAMPLES = 5
EXEC = "exec"  # the label of an exec that leaves confinement


@dataclass(frozen=True)
class ListingExposure:
    """The paths of a listing an expansion exposes: how many, and the first few."""

    listing: str
    listed: int
    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class DenialMeasure:
    """The size of one denial's expansion. ``paths`` is None where it was not
    counted (``reason`` says why); ``by_perm`` splits it by letter."""

    length: int
    paths: int | None
    by_perm: tuple[tuple[str, int], ...] = ()
    listing: ListingExposure | None = None
    reason: str = ""


@dataclass(frozen=True)
class _Query:
    """What one denial asks of the product: its index, the source of its child rule
    (rules are told by where they were written: a profile that enforces nothing
    makes its rules anew each time they are asked for), its half and letters
    (:data:`EXEC` for a transition)."""

    index: int
    source: Source
    half: Half
    letters: frozenset[str]


def _profiles(policy: Policy) -> Iterator[Profile]:
    pending = list(policy.profiles)
    while pending:
        profile = pending.pop(0)
        yield profile
        pending.extend(profile.children)


class ExpansionMeasure:
    """Measures the denials of ``result``, the check of ``child_policy`` within
    ``parent_policy`` (``child_profile``/``parent_profile`` as the check was given).

    ``length`` bounds the paths counted (bytes); ``listing`` adds the listed paths
    each expansion exposes, ``examples`` of them named. ``alphabet`` restricts the
    bytes paths are made of (every byte by default); ``budget`` bounds the product
    states of each pair of profiles; ``automata`` are automata compiled earlier for
    these policies (the check's).
    """

    def __init__(self, result: CheckResult, child_policy: Policy, parent_policy: Policy,
                 child_profile: str | None = None, parent_profile: str | None = None,
                 length: int = DEFAULT_LENGTH, listing: PathListing | None = None,
                 alphabet: bytes = ALL_BYTES, budget: int = DEFAULT_BUDGET,
                 examples: int = EXAMPLES, automata: AutomatonCache | None = None):
        self.result = result
        self.child_policy = child_policy
        self.parent_policy = parent_policy
        self.child = select_profile(child_policy, child_profile)
        self.parent = select_profile(parent_policy, parent_profile)
        self.length = length
        self.listing = listing
        self.alphabet = alphabet
        self.budget = budget
        self.examples = examples
        self.automata = automata if automata is not None else AutomatonCache()

    def results(self) -> Iterator[tuple[Denial, DenialMeasure | None]]:
        """Each denial of the result with its measure (None: not a path class)."""
        by_pair: dict[tuple[int, int], tuple[Pair, list[_Query]]] = {}
        for index, denial in enumerate(self.result.denials):
            found = self._query(index, denial)
            if found is not None:
                pair, query = found
                key = (id(pair.child), id(pair.parent))
                by_pair.setdefault(key, (pair, []))[1].append(query)
        measures: dict[int, DenialMeasure] = {}
        for pair, queries in by_pair.values():
            measures.update(self._measure_pair(pair, queries))
        for index, denial in enumerate(self.result.denials):
            yield denial, measures.get(index)

    def measures(self) -> tuple[DenialMeasure | None, ...]:
        """The measures in the order of the result's denials."""
        return tuple(measure for _, measure in self.results())

    # -- which product question each denial is -----------------------------------

    def _query(self, index: int, denial: Denial) -> tuple[Pair, _Query] | None:
        access = denial.access
        if not isinstance(access, (FileRequest, ExecRequest)) or denial.rule is None:
            return None
        pair = self._pair(denial)
        if pair is None:
            return None
        half = Half.OWNER if access.owner else Half.OTHER
        if isinstance(access, FileRequest):
            letters = access.perms
        elif "x" in file_permissions(pair.parent, access.path, access.owner):
            letters = frozenset({EXEC})  # the parent executes it too: the transition
        else:
            letters = frozenset("x")
        return pair, _Query(index, denial.rule, half, letters)

    def _pair(self, denial: Denial) -> Pair | None:
        """The pair of profiles the denial was found on."""
        for child in [self.child, *_profiles(self.child_policy)]:
            if child.name != denial.child_profile:
                continue
            if not any(r.source == denial.rule and not r.deny
                       for r in child.rules_of(FileRule)):
                continue
            for parent in [self.parent, *_profiles(self.parent_policy)]:
                if parent.name == denial.denied_by:
                    return Pair(self.child_policy, child, self.parent_policy, parent)
        return None

    # -- counting and the listing -----------------------------------------------

    def _measure_pair(self, pair: Pair, queries: list[_Query]) -> dict[int, DenialMeasure]:
        ctx = CheckContext(pair, Prover(), self.automata, Budget(self.budget))
        product = PathProduct(ctx)
        labels = _Labels(pair, product, queries)
        # The file side of the check's product: its link automata change no count.
        components = [Component(product.child.dfa, True, product.child.live),
                      Component(product.parent.dfa), Component(product.domain, True),
                      *(Component(a.dfa) for a in (product.child_attach, product.parent_attach)
                        if a)]
        try:
            weighted = WeightedProduct.build(components, self.budget, self.alphabet)
        except BudgetExhausted as exhausted:
            return {q.index: DenialMeasure(self.length, None, reason=str(exhausted))
                    for q in queries}
        counts = weighted.count(labels.of_state, self.length)
        exposures = self._exposures(components, labels) if self.listing is not None else {}
        out = {}
        for q in queries:
            listing = None
            if self.listing is not None:
                listing = exposures.get(q.index, ListingExposure(
                    self.listing.name, len(self.listing.paths), 0, ()))
            by_perm = tuple((letter, counts.get((q.index, letter), 0))
                            for letter in sorted(q.letters) if letter != EXEC)
            out[q.index] = DenialMeasure(self.length, counts.get((q.index, None), 0),
                                         by_perm if len(by_perm) > 1 else (), listing)
        return out


    def _exposures(self, components: list[Component], labels: "_Labels"
                   ) -> dict[int, ListingExposure]:
        """The listed paths each query's denial holds on, by query index."""
        listing = self.listing
        by_state: dict[tuple[int, ...], list[str]] = {}
        for path, state in walk(components, listing.paths):
            by_state.setdefault(state, []).append(path)
        groups: dict[int, list[list[str]]] = {}
        for state, paths in by_state.items():
            for index, letter in labels.of_state(state):
                if letter is None:
                    groups.setdefault(index, []).append(paths)
        out = {}
        for index, found in groups.items():
            # Each group is sorted: the first few of all are among their first few.
            first = sorted(p for group in found for p in group[:self.examples])
            out[index] = ListingExposure(listing.name, len(listing.paths),
                                         sum(map(len, found)), tuple(first[:self.examples]))
        return out


class _Labels:
    """The labels of a product state: ``(index, None)`` for each query whose denial
    holds on the paths ending there, and ``(index, letter)`` per letter."""

    def __init__(self, pair: Pair, product: PathProduct, queries: list[_Query]):
        self.pair = pair
        self.product = product
        self.queries = queries
        self.extra = [a.dfa for a in (product.child_attach, product.parent_attach) if a]
        self._memo: dict[tuple, tuple] = {}

    def of_state(self, state: tuple[int, ...]) -> tuple:
        product = self.product
        tags = product.child.dfa.tags(state[0])
        if not tags or not product.domain.tags(state[2]):
            return ()
        key = (tags, product.parent.dfa.tags(state[1]),
               *(dfa.tags(s) for dfa, s in zip(self.extra, state[3:])))
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._of_signature(key)
        return found

    def _of_signature(self, key: tuple) -> tuple:
        child, parent, child_attached, parent_attached = self.product.matched(key)
        present = {r.source for r in child if not r.deny}
        out: list[tuple[int, str | None]] = []
        for half in HALVES:
            mine = [q for q in self.queries if q.half is half and q.source in present]
            if not mine:
                continue
            excess = granted_letters(child, half) - granted_letters(parent, half) - {"l"}
            leaves = self._leaves_confinement(child, parent, half, child_attached,
                                              parent_attached)
            for q in mine:
                granting = set()
                for rule in child:
                    if rule.source == q.source and not rule.deny and rule.qualifier.covers(half):
                        granting |= rule.perms
                letters = set(q.letters & granting & excess)
                if EXEC in q.letters and q.source in leaves:
                    letters.add(EXEC)
                if letters:
                    out.append((q.index, None))
                    out.extend((q.index, letter) for letter in sorted(letters))
        return tuple(out)

    def _leaves_confinement(self, child: list, parent: list, half: Half,
                            child_attached: set, parent_attached: set) -> set[Source]:
        """The child exec rules whose transition applies here and leaves confinement
        while the parent's keeps the task confined (as the check compares them)."""
        if "x" not in granted_letters(child, half) or "x" not in granted_letters(parent, half):
            return set()
        pair = self.pair
        confined = any(
            not isinstance(exec_target(pair.parent_policy, pair.parent, rule.exec,
                                       lambda p: id(p) in parent_attached), str)
            for rule in exec_deciders(parent, half) if exec_applies(rule, parent, half, matching))
        if not confined:
            return set()
        return {rule.source for rule in exec_deciders(child, half)
                if exec_applies(rule, child, half, matching)
                and exec_target(pair.child_policy, pair.child, rule.exec,
                                lambda p: id(p) in child_attached) == UNCONFINED}
