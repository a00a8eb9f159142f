"""Hard links: every link a child rule allows (new name, target, owner or other)
must be allowed by the parent too, subset test included."""
from __future__ import annotations

from typing import Iterator

from ..lazy import z3

from ..model.examples import examples
from ..model.exec_type import exec_subset
from ..model.link import LinkRequest, LinkRule
from ..model.rules import FileRule, Half
from ..simulate.decide import decide, exec_mode_at, file_permissions
from .context import CheckContext
from .file_check import HALVES
from .link_space import LinkSpace
from .prover import Prover
from .result import Denial, Undecided

# The full link query (subset tests of both sides) gets this share of the budget.
SUBSET_BUDGET = 4
# Sample paths tried on the simulator before the full query.
SAMPLE_LINKS = 12
SAMPLE_TARGETS = 200


def _near_links(rules, rule: LinkRule) -> list[LinkRule]:
    return [r for r in rules if r.link.may_overlap(rule.link) and r.target.may_overlap(rule.target)]


def _near_files(rules, rule: LinkRule) -> tuple[list[FileRule], list[FileRule]]:
    """The file rules that can match the link, and those that can match the target."""
    return ([r for r in rules if r.glob.may_overlap(rule.link)],
            [r for r in rules if r.glob.may_overlap(rule.target)])


class _Side:
    """One profile's link decision in one half, near one child rule."""

    def __init__(self, space: LinkSpace, half: Half, links: list[LinkRule], files: tuple):
        self.space, self.half, self.links, self.files = space, half, links, files

    def pair(self) -> z3.BoolRef:
        return self.space.pair_allowed(self.links, self.half)

    def subset_required(self) -> z3.BoolRef:
        return self.space.subset_required(self.links, self.half)

    def permits(self) -> z3.BoolRef:
        return self.space.permits(self.links, *self.files, self.half)


def check_links(ctx: CheckContext) -> Iterator[object]:
    pair = ctx.pair
    child_links = pair.child.rules_of(LinkRule)
    parent_links = pair.parent.rules_of(LinkRule)
    child_files = pair.child.rules_of(FileRule)
    parent_files = pair.parent.rules_of(FileRule)
    if all(rule.deny for rule in child_links):
        return
    space = LinkSpace()
    for rule in child_links:
        if rule.deny:
            continue
        for half in HALVES:
            if rule.qualifier.covers(half):
                child = _Side(space, half, _near_links(child_links, rule),
                              _near_files(child_files, rule))
                parent = _Side(space, half, _near_links(parent_links, rule),
                               _near_files(parent_files, rule))
                yield from _check_rule(ctx, space, rule, half, child, parent)


def _check_rule(ctx: CheckContext, space: LinkSpace, rule: LinkRule, half: Half,
                child: _Side, parent: _Side) -> Iterator[object]:
    """Look for a link the child rule allows and the parent refuses.

    The pair entries decide most of it, and a query on them alone is cheap. The
    subset test compares every permission of two paths, a formula Z3 may take long
    on, so where it matters sample paths are tried on the simulator first and the
    full query comes last, under a smaller budget."""
    base = (space.rule(rule), child.pair())
    # 1. A pair the parent refuses. None at all: the pair entries are proven.
    refused = _solve(ctx, space, *base, z3.Not(parent.pair()))
    if refused.status == "unsat" and z3.is_false(parent.subset_required()):
        return
    # 2. Sample links on the simulator (their witnesses read best).
    found = _search(ctx, rule, half, child, parent)
    if found is not None:
        yield Denial(rule.source, found, ctx.pair.child.name, ctx.pair.parent.name,
                     link_denial_reason(ctx.pair.parent, found), ctx.pair.via)
        return
    if (yield from _report(ctx, rule, half, space, refused, exact=False)):
        return
    # 3. The full decision of both.
    outcome = _solve(ctx, space, *base, child.permits(), z3.Not(parent.permits()),
                     rlimit=max(1, ctx.prover.rlimit // SUBSET_BUDGET))
    yield from _report(ctx, rule, half, space, outcome, exact=True)


def _samples(glob, globs, limit: int) -> list[str]:
    """Canonical paths ``glob`` matches, taken from examples of ``glob`` itself and
    of the other ``globs`` (where the profiles' rules change)."""
    found = [path for g in (glob, *globs) for path in examples(g.regex, 4)
             if _canonical(path) and glob.matches(path)]
    return list(dict.fromkeys(found))[:limit]


def _search(ctx: CheckContext, rule: LinkRule, half: Half, child: _Side,
            parent: _Side) -> LinkRequest | None:
    """A link of sample paths the child allows and the parent refuses, confirmed by
    the simulator; None when no sample is one."""
    pair, owner = ctx.pair, half is Half.OWNER
    near_link = [r.glob for r in (*child.files[0], *parent.files[0])] + \
        [r.link for r in (*child.links, *parent.links)]
    near_target = [r.glob for r in (*child.files[1], *parent.files[1])] + \
        [r.target for r in (*child.links, *parent.links)]
    links = _samples(rule.link, near_link, SAMPLE_LINKS)
    targets = _samples(rule.target, near_target, SAMPLE_TARGETS)
    mine, theirs = _Simulator(pair.child, owner), _Simulator(pair.parent, owner)
    # Another file first; the link's own name last (its subset test always holds).
    candidates = [(link, target) for link in links for target in targets if target != link]
    candidates += [(link, link) for link in links if rule.target.matches(link)]
    for link, target in candidates:
        if mine.permits(link, target) and not theirs.permits(link, target):
            request = LinkRequest(link, target, owner)
            if decide(pair.child, request).allowed and not decide(pair.parent, request).allowed:
                return request
    return None


class _Simulator:
    """The simulator's link decision with each path's permissions computed once
    (:func:`lsmsim.simulate.decide.decide` is the reference; the search confirms its
    finds with it)."""

    def __init__(self, profile, owner: bool):
        self.profile, self.owner = profile, owner
        self.links = profile.rules_of(LinkRule)
        self.half = Half.OWNER if owner else Half.OTHER
        self._perms: dict[str, tuple] = {}

    def _at(self, path: str) -> tuple:
        if path not in self._perms:
            self._perms[path] = (file_permissions(self.profile, path, self.owner) - {"l"},
                                 exec_mode_at(self.profile, path, self.owner))
        return self._perms[path]

    def permits(self, link: str, target: str) -> bool:
        request = LinkRequest(link, target, self.owner)
        matching = [r for r in self.links if r.matches(request)]
        allowing = [r for r in matching if not r.deny]
        if not allowing or len(allowing) < len(matching):
            return False
        if not any(r.requires_subset(self.half) for r in allowing):
            return True
        (on_link, link_mode), (on_target, target_mode) = self._at(link), self._at(target)
        return on_link <= on_target and ("x" not in on_link or exec_subset(link_mode, target_mode))


def _canonical(path: str) -> bool:
    """Is ``path`` in the domain of :meth:`FileSpace.domain` (no empty, ``.`` or
    ``..`` component, no NUL)?"""
    parts = path.split("/")
    return path.startswith("/") and "\0" not in path and \
        all(p not in ("", ".", "..") for p in parts[1:-1]) and parts[-1] not in (".", "..")


def _solve(ctx: CheckContext, space: LinkSpace, *constraints: z3.BoolRef,
           rlimit: int | None = None):
    """Solve over canonical paths. Z3 settles a query without the path domain far
    sooner (it spends long on the domain's regular expressions before it sees a
    plain contradiction); its unsat answer holds for canonical paths too, and so
    does a model whose paths happen to be canonical."""
    prover = ctx.prover if rlimit is None else Prover(rlimit)
    try:
        relaxed = prover.solve(*constraints)
        if relaxed.status == "unsat":
            return relaxed
        if relaxed.status == "sat":
            found = space.value(relaxed.model, False)
            if _canonical(found.link) and _canonical(found.target):
                return relaxed
        return prover.solve(space.domain(), *constraints, prefer=space.readable())
    finally:
        if prover is not ctx.prover:
            ctx.prover.queries += prover.queries
            ctx.prover.seconds += prover.seconds


def _report(ctx: CheckContext, rule: LinkRule, half: Half, space: LinkSpace, outcome,
            exact: bool) -> Iterator[object]:
    """Yield what one query found; return True when it settles the rule and half
    (a denial, or an answer that cannot be used)."""
    pair = ctx.pair
    if outcome.status == "unknown":
        yield Undecided(rule.source, f"solver gave up on links for the {half.value} half "
                                     f"({outcome.reason})")
        return True
    if outcome.status == "unsat":
        return exact
    request = space.value(outcome.model, half is Half.OWNER)
    if decide(pair.child, request).allowed and not decide(pair.parent, request).allowed:
        yield Denial(rule.source, request, pair.child.name, pair.parent.name,
                     link_denial_reason(pair.parent, request), pair.via)
        return True
    if exact:
        yield Undecided(rule.source, f"link witness {request.link!r} -> {request.target!r} "
                                     "was not confirmed by the simulator")
    return exact


def link_denial_reason(parent, request: LinkRequest) -> str:
    rules = parent.rules_of(LinkRule)
    if any(not r.deny and r.matches(request) for r in rules) and \
            not any(r.deny and r.matches(request) for r in rules):
        return "the parent allows this link only where the permissions on the new name " \
               "are a subset of those on the target, and here they are not"
    return "the parent does not allow linking this name to this target"
