"""Hard links decided on automata.

A link request names two paths, the new name and the target, and the kernel's
decision depends on each path only through what matches it: the link rules whose
new-name glob and whose target glob match, and the file rules that match (for the
subset test). So one breadth-first search over single paths (the child's and the
parent's file DFAs, their link-glob DFAs and the canonical-path domain) collects the
signatures a new name or a target can have, each with its shortest path; every pair
of a new-name signature and a target signature is then decided with
:func:`lsmsim.model.decision.link_allowed` on both sides. Visiting every reachable
signature makes an empty result a proof. The search is the one the file check makes
(:func:`lsmsim.verify.path_check.path_product`), which carries the link automata."""
from __future__ import annotations

from typing import Callable, Iterator

from ..automata.product import BudgetExhausted
from ..model.decision import (exec_applies, exec_deciders, link_allowed,
                              matching)
from ..model.exec_type import exec_subset
from ..model.link import LinkRequest, LinkRule
from ..model.rules import Half
from ..simulate.decide import decide
from .context import CheckContext
from .file_check import HALVES
from .link_check import link_denial_reason
from .path_check import PathProduct, path_product
from .result import Denial, Undecided

NEW, TARGET = 0, 1


class PathFacts:
    """What one side knows about one path: the link rules matching it in each role,
    and per half the file permissions ('l' aside) and the exec transition."""

    def __init__(self, links: frozenset[int], link_rules: tuple, files: list,
                 letters: Callable[[Half], frozenset[str]]):
        self.as_new = {id(link_rules[2 * (t // 2)]) for t in links if t % 2 == NEW}
        self.as_target = {id(link_rules[2 * (t // 2)]) for t in links if t % 2 == TARGET}
        self.by_id = {id(link_rules[t]): link_rules[t] for t in links}  # both roles
        self.perms, self.modes = {}, {}
        for half in HALVES:
            perms = letters(half) - {"l"}
            applying = [r for r in exec_deciders(files, half)
                        if exec_applies(r, files, half, matching)]
            self.perms[half] = perms
            self.modes[half] = applying[0].exec if "x" in perms and applying else None


def path_facts(product: PathProduct) -> Iterator[tuple[tuple[int, ...], PathFacts, PathFacts]]:
    """Each link signature of ``product``: its state, the child's facts and the
    parent's. Many signatures share one side's tags: each side's facts are worked out
    once, the file letters read off the product's own decisions."""
    memo: dict[tuple, PathFacts] = {}

    def facts(links, link_automaton, tags, files) -> PathFacts:
        key = (id(link_automaton), links, tags)
        found = memo.get(key)
        if found is None:
            found = memo[key] = PathFacts(links, link_automaton.items, files.matched_tags(tags),
                                          lambda half: product.granted(files, tags, half))
        return found
    for (ctags, ptags, cfiles, pfiles), state in product.link_signatures.items():
        yield (state, facts(ctags, product.child_links, cfiles, product.child),
               facts(ptags, product.parent_links, pfiles, product.parent))


Roles = dict[tuple, tuple[tuple[int, ...], PathFacts, PathFacts]]


def link_roles(product: PathProduct) -> tuple[Roles, Roles]:
    """The paths of ``product`` that can be a new name and those that can be a target,
    one per set of facts the link decision reads in that role (the first met, so the
    shortest): (state, the child's facts, the parent's facts)."""
    news: Roles = {}
    targets: Roles = {}
    for state, mine, theirs in path_facts(product):
        facts = tuple((side.perms[h], side.modes[h]) for side in (mine, theirs) for h in HALVES)
        if mine.as_new:
            news.setdefault((frozenset(mine.as_new), frozenset(theirs.as_new), facts),
                            (state, mine, theirs))
        if mine.as_target:
            targets.setdefault((frozenset(mine.as_target), frozenset(theirs.as_target), facts),
                               (state, mine, theirs))
    return news, targets


def link_decides(new: PathFacts, target: PathFacts, half, memo: dict) -> bool:
    """What one side's link rules decide for a link from the path ``new`` describes to
    the path ``target`` describes (both facts of the same side). Many pairs of paths
    match the same rules with the same subset outcome: ``memo`` (one per side) keeps
    each decision."""
    keys = frozenset(new.as_new & target.as_target)
    on_new, on_target = new.perms[half], target.perms[half]
    subset = on_new <= on_target and ("x" not in on_new
                                      or exec_subset(new.modes[half], target.modes[half]))
    found = memo.get((keys, half, subset))
    if found is None:
        found = memo[(keys, half, subset)] = link_allowed(
            [new.by_id[k] for k in keys], half, lambda: subset, matching)
    return found


def granted_links(news: list[tuple], targets: list[tuple], child_links: tuple
                  ) -> Iterator[tuple[Half, tuple, tuple, set[int], bool]]:
    """Per half, each pair of a new name in ``news`` and a target in ``targets`` (entries
    of :func:`link_roles`, ending in the child's and the parent's facts) that the
    child's link rules allow: (half, the new name's entry, the target's entry, the
    child allow rules matching the pair by identity, whether the parent allows it)."""
    mine_decided: dict = {}
    theirs_decided: dict = {}
    for half in HALVES:
        allow = {id(r) for r in child_links if not r.deny and r.qualifier.covers(half)}
        for new in news:
            new_mine, new_theirs = new[-2:]
            as_new = new_mine.as_new & allow
            if not as_new:
                continue
            for target in targets:
                target_mine, target_theirs = target[-2:]
                granting = as_new & target_mine.as_target
                if granting and link_decides(new_mine, target_mine, half, mine_decided):
                    yield half, new, target, granting, link_decides(
                        new_theirs, target_theirs, half, theirs_decided)


def check_link_paths(ctx: CheckContext) -> Iterator[object]:
    pair = ctx.pair
    child_links = pair.child.rules_of(LinkRule)
    if all(rule.deny for rule in child_links):
        return
    try:
        product = path_product(ctx)
    except BudgetExhausted as exhausted:
        yield Undecided(pair.child.source, f"link rules of {pair.child.name} were not fully "
                                           f"explored: {exhausted} (raise --budget)")
        return
    # Paths that decide alike in either role are one: the first (shortest) stands.
    news, targets = (sorted(((product.search.witness(state), mine, theirs)
                             for state, mine, theirs in roles.values()), key=lambda p: len(p[0]))
                     for roles in link_roles(product))
    done: set[tuple] = set()
    for half, new, target, granting, allowed_above in granted_links(news, targets, child_links):
        if allowed_above:
            continue
        new_path, target_path = new[0], target[0]
        request = LinkRequest(new_path, target_path, half.value == "owner")
        for rule in child_links:  # in policy order
            if id(rule) not in granting or (id(rule), half) in done:
                continue
            done.add((id(rule), half))
            if decide(pair.child, request).allowed and not decide(pair.parent, request).allowed:
                yield Denial(rule.source, request, pair.child.name, pair.parent.name,
                             link_denial_reason(pair.parent, request), pair.via)
            else:
                yield Undecided(rule.source, f"link witness {new_path!r} -> {target_path!r} "
                                             "was not confirmed by the simulator")


check_link_paths.shares = PathProduct  # it reads the file check's product
