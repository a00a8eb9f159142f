"""File permissions and exec transitions decided on automata, as the kernel matches.

One breadth-first search over the product of the child's file DFA, the parent's file
DFA, the canonical-path domain and (where an exec attaches by path) both policies'
attachment DFAs. Each product state the search reaches names the rules that match
there on every side; :mod:`lsmsim.model.decision` says what those rules decide. The
search visits every reachable state where the child still grants something, so
finding no excess is a proof; the first path to a state is its shortest witness.
"""
from __future__ import annotations

from typing import Iterator

from ..automata.product import BudgetExhausted, Component, ProductSearch
from ..automata.profile import TaggedAutomaton, link_automaton
from ..model.link import LinkRule
from ..model.decision import (attachment_pool, exec_applies, exec_deciders, exec_target,
                              granted_letters, matching)
from ..model.rules import ExecKind, Half
from .context import CheckContext
from .exec_check import Target, compare_targets
from .file_check import HALVES, confirm_file_denial
from .result import Undecided

Signature = tuple[frozenset[int], ...]


def _needs_attachments(rules) -> bool:
    return any(not r.deny and r.exec is not None and r.exec.target is None
               and r.exec.kind in (ExecKind.PROFILE, ExecKind.CHILD) for r in rules)


class PathProduct:
    """The product of one pair of profiles, explored once, as signatures: the tags
    each automaton accepts at a reachable canonical path, with the shortest path.

    ``signatures`` are those of the file rules (child file tags, parent file tags,
    then the attachment tags where exec attaches by path). Where the child has link
    rules the same search carries both sides' link automata, and ``link_signatures``
    holds (child link tags, parent link tags, child file tags, parent file tags): the
    file and the link checks read one product rather than exploring two alike.
    """

    def __init__(self, ctx: CheckContext):
        pair, cache = ctx.pair, ctx.automata
        self.child = cache.file(pair.child)
        # A check reads what the parent decides; explain names the rules that did.
        self.parent = cache.file(pair.parent) if ctx.parent_rules \
            else cache.file_decisions(pair.parent)
        components = [Component(self.child.dfa, True, self.child.live, "grants"),
                      Component(self.parent.dfa), Component(cache.domain, True)]
        self.child_pool = self.parent_pool = []
        if _needs_attachments(self.child.items) or _needs_attachments(self.parent.items):
            self.child_pool = attachment_pool(pair.child_policy, pair.child)
            self.parent_pool = attachment_pool(pair.parent_policy, pair.parent)
        self.child_attach = cache.attachment(self.child_pool) if self.child_pool else None
        self.parent_attach = cache.attachment(self.parent_pool) if self.parent_pool else None
        components += [Component(a.dfa) for a in (self.child_attach, self.parent_attach) if a]
        self.child_links = self.parent_links = None
        child_links = pair.child.rules_of(LinkRule)
        if any(not rule.deny for rule in child_links):
            parent_links = pair.parent.rules_of(LinkRule)
            self.child_links = cache.keyed(("links", id(pair.child)), pair.child,
                                           lambda: link_automaton(child_links))
            self.parent_links = cache.keyed(("links", id(pair.parent)), pair.parent,
                                            lambda: link_automaton(parent_links))
            components += [Component(self.child_links.dfa, True, self.child_links.live, "grants"),
                           Component(self.parent_links.dfa)]
        self.search = ProductSearch(components, max(0, ctx.budget.remaining))
        self.domain = cache.domain
        self.signatures: dict[Signature, tuple[int, ...]] = {}
        self.link_signatures: dict[Signature, tuple[int, ...]] = {}
        self.exhausted: BudgetExhausted | None = None
        self.explored = False
        self._granted: dict[tuple, frozenset[str]] = {}

    def explore(self) -> None:
        """Visit every reachable product state (once); raises :class:`BudgetExhausted`."""
        if self.exhausted is not None:
            raise self.exhausted
        if self.explored:
            return
        child, parent, domain = self.child.dfa, self.parent.dfa, self.domain
        extra = [a.dfa for a in (self.child_attach, self.parent_attach) if a]
        files = 3 + len(extra)
        links = [a.dfa for a in (self.child_links, self.parent_links) if a]

        def signature(state: tuple[int, ...]) -> Signature | None:
            if not domain.tags(state[2]):
                return None
            tags = child.tags(state[0])
            link_tags = links[0].tags(state[files]) if links else frozenset()
            if not tags and not link_tags:
                return None
            return (tags, parent.tags(state[1]),
                    *(dfa.tags(s) for dfa, s in zip(extra, state[3:files])),
                    *((link_tags, links[1].tags(state[files + 1])) if links else ()))
        try:
            found = self.search.first_by(signature)
        except BudgetExhausted as exhausted:
            self.exhausted = exhausted
            raise
        self.explored = True
        # ``found`` is in the order the search met the states: the first state of each
        # projection below is its shortest (and most readable) path.
        width = files - 1
        for key, state in found.items():
            if key[0]:
                self.signatures.setdefault(key[:width], state)
            if links and key[width]:
                self.link_signatures.setdefault((key[width], key[width + 1], key[0], key[1]),
                                                state)

    def granted(self, automaton: TaggedAutomaton, tags: frozenset[int], half: Half
                ) -> frozenset[str]:
        """The file letters the rules of ``automaton`` tagged ``tags`` grant on
        ``half`` (many signatures share their tags on one side: decided once)."""
        key = (id(automaton), tags, half)
        found = self._granted.get(key)
        if found is None:
            found = self._granted[key] = frozenset(
                granted_letters([automaton.items[t] for t in sorted(tags)], half))
        return found

    def matched(self, key: Signature) -> tuple[list, list, set, set]:
        """The matching child rules, parent rules and attached profiles (by id)."""
        child = [self.child.items[t] for t in sorted(key[0])]
        parent = [self.parent.items[t] for t in sorted(key[1])]
        rest = list(key[2:])
        child_attached = {id(self.child_pool[t]) for t in rest.pop(0)} if self.child_attach else set()
        parent_attached = {id(self.parent_pool[t]) for t in rest.pop(0)} if self.parent_attach \
            else set()
        return child, parent, child_attached, parent_attached


def path_product(ctx: CheckContext) -> PathProduct:
    """The pair's :class:`PathProduct`, made once for every check of the pair; the
    budget is charged for its states once, when it is first explored."""
    product = ctx.shared.get(PathProduct)
    if product is None:
        product = ctx.shared[PathProduct] = PathProduct(ctx)
        try:
            product.explore()
        finally:
            ctx.budget.spend(product.search.explored)
            ctx.stats.product_states += product.search.explored
    product.explore()  # a product the budget cut short says so to every check
    return product


def check_paths(ctx: CheckContext) -> Iterator[object]:
    """File permissions (every letter but 'l') and exec transitions of one pair."""
    try:
        product = path_product(ctx)
    except BudgetExhausted as exhausted:
        source = ctx.pair.child.source
        yield Undecided(source, f"file and exec rules of {ctx.pair.child.name} against "
                                f"{ctx.pair.parent.name} were not fully explored: {exhausted} "
                                "(raise --budget)")
        return
    yield from _file_denials(ctx, product)
    yield from _exec_pairs(ctx, product)


# What checks read from the path product runs where it was built (lsmsim.verify.spread).
check_paths.shares = PathProduct


def _file_denials(ctx: CheckContext, product: PathProduct) -> Iterator[object]:
    witnessed: dict[int, set[str]] = {}
    for half in HALVES:  # "other" first, as the solver-based check reports
        for key, state in product.signatures.items():
            excess = product.granted(product.child, key[0], half) - \
                product.granted(product.parent, key[1], half) - {"l"}
            if not excess:
                continue
            child = product.child.matched_tags(key[0])
            for rule in child:
                if rule.deny or not rule.qualifier.covers(half):
                    continue
                seen = witnessed.setdefault(id(rule), set())
                letters = (rule.perms & excess) - seen
                if letters:
                    path = product.search.witness(state)
                    yield from confirm_file_denial(ctx, rule, path, half, min(letters), seen)


def _exec_pairs(ctx: CheckContext, product: PathProduct) -> Iterator[object]:
    pair = ctx.pair
    done: set[tuple] = set()
    for half in HALVES:
        for key, state in product.signatures.items():
            if "x" not in product.granted(product.child, key[0], half) or \
                    "x" not in product.granted(product.parent, key[1], half):
                continue
            child, parent, child_attached, parent_attached = product.matched(key)
            mine = [r for r in exec_deciders(child, half) if exec_applies(r, child, half, matching)]
            theirs = [r for r in exec_deciders(parent, half)
                      if exec_applies(r, parent, half, matching)]
            for rule in mine:
                to = exec_target(pair.child_policy, pair.child, rule.exec,
                                 lambda p: id(p) in child_attached)
                for other in theirs:
                    there = exec_target(pair.parent_policy, pair.parent, other.exec,
                                        lambda p: id(p) in parent_attached)
                    seen = (id(rule), id(other), half, id(to), id(there))
                    if seen in done:
                        continue
                    done.add(seen)
                    path = product.search.witness(state)
                    yield from compare_targets(pair, rule, other, half, path, Target(to, None),
                                               Target(there, None))
