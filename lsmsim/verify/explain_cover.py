"""Which parent rules cover each permission of each child rule, computed on the same
automaton products the containment check explores.

A product state names the rules that match there on either side; a parent allow rule
*covers* a child rule's permission when it grants that permission at a reachable
state where the child rule grants it and the parent's deny rules leave it granted.
Collected over every reachable state (every signature), the covering rules of one
permission allow it on every path or request the child rule grants it for: the proof
of containment, rule by rule. Capabilities, sockets and user namespaces have few
enough requests to decide each one with the simulator.
"""
from __future__ import annotations

from typing import Callable, Iterable

from ..automata.encodings import (MOUNT_CLASS, PTRACE, SIGNAL, SplitStringClass, StringClass,
                                  ipc_class)
from ..automata.product import BudgetExhausted, Component, ProductSearch
from ..model.decision import allowed, granted_letters, matching
from ..model.link import LinkRule
from ..model.mount import MountRequest, MountRule
from ..model.names import IPC_CLASSES
from ..model.requests import PERM_ORDER
from ..model.rules import (CapabilityRule, FileRule, IpcRule, NetworkRule, OtherRule, PtraceRule,
                           SignalRule)
from ..model.task_classes import UsernsRequest, UsernsRule
from ..simulate.decide import decide
from .context import CheckContext
from .file_check import HALVES
from .link_paths import granted_links, link_roles
from .named_check import CAPABILITY, NETWORK, Finite
from .path_check import path_product
from .string_check import split_signatures

COVERED, EXPANDED, NOT_GRANTED = "covered", "expanded", "not granted"

Key = tuple[int, str, str | None]  # (id of the child rule, permission, half)


class Coverage:
    """What one pair's products showed, per child rule, permission and half: the
    parent rules that grant it where the child rule does, and whether some reachable
    state grants it in the child and not in the parent."""

    def __init__(self) -> None:
        self.rules: dict[int, object] = {}
        self.kinds: dict[int, str] = {}
        self.order: dict[int, list[tuple[str, str | None]]] = {}
        self.parents: dict[Key, dict[int, object]] = {}
        self.gaps: set[Key] = set()
        self.notes: dict[int, str] = {}

    def expect(self, rule, kind: str, permission: str, half: str | None) -> None:
        """``rule`` may grant ``permission`` on ``half``: list it even if no state does."""
        self.rules.setdefault(id(rule), rule)
        self.kinds.setdefault(id(rule), kind)
        slots = self.order.setdefault(id(rule), [])
        if (permission, half) not in slots:
            slots.append((permission, half))

    def grant(self, rule, kind: str, permission: str, half: str | None,
              parents: Iterable, parent_allows: bool) -> None:
        """At one reachable state (or request) the child rule grants ``permission``;
        ``parents`` are the parent allow rules granting it there."""
        self.expect(rule, kind, permission, half)
        key = (id(rule), permission, half)
        found = self.parents.setdefault(key, {})
        if parent_allows:
            for parent in parents:
                found.setdefault(id(parent), parent)
        else:
            self.gaps.add(key)

    def note(self, rule, kind: str, text: str) -> None:
        self.rules.setdefault(id(rule), rule)
        self.kinds.setdefault(id(rule), kind)
        self.order.setdefault(id(rule), [])
        self.notes[id(rule)] = text

    def status(self, rule, permission: str, half: str | None) -> tuple[str, list]:
        """The permission's status and the parent rules that cover it (where it is
        expanded: those that cover the rest)."""
        key = (id(rule), permission, half)
        if key not in self.parents:
            return NOT_GRANTED, []
        status = EXPANDED if key in self.gaps else COVERED
        return status, list(self.parents[key].values())


# -- file permissions and exec, on the product of the path check --------------------

def cover_paths(ctx: CheckContext, coverage: Coverage) -> None:
    """File letters ('l' aside: link rules) of every child file rule; raises
    :class:`~lsmsim.automata.product.BudgetExhausted`."""
    for rule in ctx.pair.child.rules_of(FileRule):
        if rule.deny:
            continue
        for half in HALVES:
            if rule.qualifier.covers(half):
                for letter in sorted(rule.perms - {"l"}, key=PERM_ORDER.index):
                    coverage.expect(rule, "file", letter, half.value)
    if not coverage.rules:
        return
    product = path_product(ctx)
    for key in product.signatures:
        child, parent, _, _ = product.matched(key)
        for half in HALVES:
            mine = granted_letters(child, half) - {"l"}
            if not mine:
                continue
            theirs = granted_letters(parent, half)
            for rule in child:
                if rule.deny or not rule.qualifier.covers(half):
                    continue
                for letter in rule.perms & mine:
                    givers = [p for p in parent if not p.deny and letter in p.perms
                              and p.qualifier.covers(half)]
                    coverage.grant(rule, "file", letter, half.value, givers, letter in theirs)


# -- hard links, on the product of the link check -----------------------------------------

def cover_links(ctx: CheckContext, coverage: Coverage) -> None:
    """The 'l' of every child link rule, per half: the parent link rules that allow
    each (new name, target) pair the child rule allows, read off the path product
    (which carries the link automata); raises BudgetExhausted."""
    pair = ctx.pair
    child_links = pair.child.rules_of(LinkRule)
    if all(rule.deny for rule in child_links):
        return
    for rule in child_links:
        for half in HALVES:
            if not rule.deny and rule.qualifier.covers(half):
                coverage.expect(rule, "link", "l", half.value)
    parent_links = pair.parent.rules_of(LinkRule)
    # Paths alike in every fact the decision reads in their role are one.
    news, targets = ([(mine, theirs) for _, mine, theirs in roles.values()]
                     for roles in link_roles(path_product(ctx)))
    by_id = {id(r): r for r in (*child_links, *parent_links)}
    for half, (_, new_theirs), (_, target_theirs), granting, ok in granted_links(
            news, targets, child_links):
        givers = [by_id[i] for i in new_theirs.as_new & target_theirs.as_target
                  if not by_id[i].deny and by_id[i].qualifier.covers(half)]
        for rule_id in granting:
            coverage.grant(by_id[rule_id], "link", "l", half.value, givers, ok)


# -- classes with few requests: decided one request at a time -------------------------

USERNS = Finite(lambda: [UsernsRequest()], lambda rule, request: request.perm)


def _label(group) -> str:
    return " ".join(group) if isinstance(group, tuple) else str(group)


def cover_finite(ctx: CheckContext, kind: type, name: str, finite: Finite,
                 coverage: Coverage) -> None:
    """Each request of the class that a child allow rule matches and the child grants:
    the parent allow rules that match it, grouped as the check groups witnesses."""
    pair = ctx.pair
    rules = [r for r in pair.child.rules_of(kind) if not r.deny]
    if not rules:
        return
    parent_rules = [r for r in pair.parent.rules_of(kind) if not r.deny]
    for request in finite.requests():
        mine = [r for r in rules if r.matches(request)]
        if not mine or not decide(pair.child, request).allowed:
            continue
        parents = [r for r in parent_rules if r.matches(request)]
        ok = decide(pair.parent, request).allowed
        for rule in mine:
            coverage.grant(rule, name, _label(finite.group(rule, request)), None, parents, ok)


# -- string classes, on the product of the string check -------------------------------

def _reachable(ctx: CheckContext, automata: list, prune: bool) -> dict[tuple, str]:
    """Signatures of the product of child, parent and domain automata with their
    shortest strings, as the string check explores them (budget: what is left)."""
    child, parent, domain = automata
    search = ProductSearch([Component(child.dfa, prune, child.live), Component(parent.dfa),
                            Component(domain.dfa, True)], max(0, ctx.budget.remaining))

    def signature(state: tuple[int, ...]) -> tuple | None:
        parts = domain.dfa.tags(state[2])
        return (child.dfa.tags(state[0]), parent.dfa.tags(state[1]), parts) if parts else None
    found = search.first_by(signature)
    return {key: search.witness(state) for key, state in found.items()}


def _string_label(request) -> str:
    # A mount request has no permission: its kind (new, bind, remount, ...) stands in.
    return request.kind if isinstance(request, MountRequest) else request.perm


def _grant_all(coverage: Coverage, name: str, child_items, parent_items, c_tags, p_tags,
               request) -> None:
    mine = {id(child_items[t]): child_items[t] for t in sorted(c_tags)}
    if not mine or not allowed(mine.values(), matching):
        return
    theirs = [parent_items[t] for t in sorted(p_tags)]
    ok = allowed(theirs, matching)
    label = _string_label(request)
    for rule in mine.values():
        if not rule.deny:
            coverage.grant(rule, name, label, None, [p for p in theirs if not p.deny], ok)


def cover_strings(ctx: CheckContext, klass: StringClass, child_rules: list,
                  parent_rules: list, coverage: Coverage) -> None:
    """Per permission of a string class (dbus, unix); raises BudgetExhausted."""
    pair, cache = ctx.pair, ctx.automata
    child = cache.strings(pair.child, klass, child_rules)
    parent = cache.strings(pair.parent, klass, parent_rules)
    for (c_tags, p_tags, _), text in _reachable(ctx, [child, parent,
                                                      cache.string_domain(klass)], True).items():
        _grant_all(coverage, klass.name, child.items, parent.items, c_tags, p_tags,
                   klass.decode(text))


def cover_split_strings(ctx: CheckContext, klass: SplitStringClass, child_rules: list,
                        parent_rules: list, coverage: Coverage) -> None:
    """Per permission (mount: per kind of mount) of a class matched as several
    strings, on the signatures the check joins; raises BudgetExhausted."""
    child, parent, signatures = split_signatures(ctx, klass, child_rules, parent_rules,
                                                 _reachable)
    for (c_tags, p_tags, _), texts in signatures.items():
        _grant_all(coverage, klass.name, child.items, parent.items, c_tags, p_tags,
                   klass.decode(*texts))


# -- every class of one pair ------------------------------------------------------------

def _partly_modelled(ctx: CheckContext, kind_name: str) -> bool:
    return any(r.kind == kind_name for profile in (ctx.pair.child, ctx.pair.parent)
               for r in profile.rules_of(OtherRule))


def _string_classes() -> list[tuple[type, str, object, Callable]]:
    found = [(SignalRule, "signal", SIGNAL, lambda r: True),
             (PtraceRule, "ptrace", PTRACE, lambda r: True),
             (MountRule, "mount", MOUNT_CLASS, lambda r: True)]
    for kind in IPC_CLASSES:
        found.append((IpcRule, kind, ipc_class(kind), lambda r, kind=kind: r.kind == kind))
    return found


def cover_pair(ctx: CheckContext) -> tuple[Coverage, str]:
    """The coverage of every class this module explains, and why it stopped short
    ("" when every product was explored)."""
    coverage = Coverage()
    pair = ctx.pair
    try:
        cover_paths(ctx, coverage)
        cover_links(ctx, coverage)
        for kind, name, finite in ((CapabilityRule, "capability", CAPABILITY),
                                   (NetworkRule, "network", NETWORK),
                                   (UsernsRule, "userns", USERNS)):
            if _partly_modelled(ctx, name):
                for rule in pair.child.rules_of(kind):
                    if not rule.deny:
                        coverage.note(rule, name, f"{name} rules with permissions or "
                                                  "conditions are not explained")
                continue
            cover_finite(ctx, kind, name, finite, coverage)
        for kind, name, klass, select in _string_classes():
            child_rules = [r for r in pair.child.rules_of(kind) if select(r)]
            if all(r.deny for r in child_rules):
                continue
            for rule in child_rules:
                for perm in sorted(getattr(rule, "perms", ())) if not rule.deny else ():
                    coverage.expect(rule, name, perm, None)
            parent_rules = [r for r in pair.parent.rules_of(kind) if select(r)]
            if isinstance(klass, SplitStringClass):
                cover_split_strings(ctx, klass, child_rules, parent_rules, coverage)
            else:
                cover_strings(ctx, klass, child_rules, parent_rules, coverage)
    except BudgetExhausted as exhausted:
        return coverage, f"not every product was explored: {exhausted} (raise --budget)"
    return coverage, ""
