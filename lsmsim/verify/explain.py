"""Why a verdict holds: for each child rule, the parent rules that cover each of its
permissions (the proof, rule by rule), and for each denial the parent rules that come
closest to granting it.

:class:`ExplainQuery` runs the containment check with one more analysis per pair of
profiles the check visits; that analysis explores the same automaton products the
check does (:mod:`lsmsim.verify.explain_cover`) and keeps, per child rule,
permission and half, the parent rules that grant it where the child rule does.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator

from ..automata.profile import AutomatonCache
from ..model.change_profile import ChangeProfileRequest, ChangeProfileRule
from ..model.link import LinkRequest, LinkRule
from ..model.mount import MountRequest, MountRule
from ..model.mqueue import MqueueRequest, MqueueRule
from ..model.policy import Policy, Profile
from ..model.requests import (PERM_ORDER, CapabilityRequest, ExecRequest, FileRequest, IpcRequest,
                              NetworkRequest, PtraceRequest, Request, SignalRequest,
                              sorted_perms)
from ..model.rules import (CapabilityRule, FileRule, IpcRule, NetworkRule, OtherRule,
                           PtraceRule, SignalRule)
from ..model.source import Source
from ..model.task_classes import IoUringRequest, IoUringRule, UsernsRequest, UsernsRule
from .check import DEFAULT_ENGINE, ContainmentCheck, ENGINES
from .context import DEFAULT_BUDGET, CheckContext
from .explain_cover import COVERED, EXPANDED, NOT_GRANTED, cover_pair
from .named_check import GRANTS_NOTHING
from .path_check import PathProduct
from .prover import DEFAULT_RLIMIT
from .result import CheckResult, Denial

__all__ = ["COVERED", "EXPANDED", "NOT_GRANTED", "DenialExplanation", "ExplainQuery",
           "Explanation", "NearRule", "PairExplanation", "PermissionCover", "RuleExplanation",
           "explain_denials"]

NO_MATCH_PATH = "no parent rule matches this path"
NO_MATCH_REQUEST = "no parent rule matches this request"


@dataclass(frozen=True)
class PermissionCover:
    """One permission of a child rule on one half (``owner``/``other``; None for
    classes without halves): ``covered`` when the ``covered_by`` parent rules grant it
    wherever the child rule does, ``expanded`` when somewhere no parent rule does
    (``covered_by`` then covers the rest), ``not granted`` when the child's own deny
    rules (or the kernel's limits) leave the rule nothing to grant."""

    permission: str
    half: str | None
    status: str
    covered_by: tuple[Source, ...]

    def to_json(self) -> dict:
        return {"permission": self.permission, "half": self.half, "status": self.status,
                "covered_by": [s.to_json() for s in self.covered_by]}


@dataclass(frozen=True)
class RuleExplanation:
    """Every permission of one child rule (the rules one line of text becomes are one)."""

    rule: Source
    kinds: tuple[str, ...]
    permissions: tuple[PermissionCover, ...]
    notes: tuple[str, ...] = ()
    denials: int = 0  # of the check's denials, those reported on this rule

    @property
    def covered(self) -> bool:
        """Every permission the rule grants is covered, no denial names the rule, and
        nothing was left out."""
        return not self.notes and not self.denials and all(p.status != EXPANDED
                                                             for p in self.permissions)

    def to_json(self) -> dict:
        return {"rule": self.rule.to_json(), "explanation": {
            "classes": list(self.kinds), "covered": self.covered, "denials": self.denials,
            "permissions": [p.to_json() for p in self.permissions], "notes": list(self.notes)}}


@dataclass(frozen=True)
class PairExplanation:
    """The child rules of one pair of profiles the check visited (exec transitions
    lead to more than the first); ``note`` says why it may be incomplete."""

    child: str
    parent: str
    rules: tuple[RuleExplanation, ...]
    note: str = ""

    def to_json(self) -> dict:
        return {"child_profile": self.child, "parent_profile": self.parent,
                "complete": not self.note, "note": self.note,
                "rules": [r.to_json() for r in self.rules]}


@dataclass(frozen=True)
class NearRule:
    """A rule of the denying profile that matches a denied access: what it grants,
    which of the asked permissions it lacks, and (a deny rule) which it removes."""

    rule: Source
    grants: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()
    removes: tuple[str, ...] = ()
    exec: str = ""  # the exec transition of a file rule that grants 'x' (``ix``, ``px``...)

    def to_json(self) -> dict:
        return {"rule": self.rule.to_json(), "grants": list(self.grants),
                "lacks": list(self.lacks), "removes": list(self.removes), "exec": self.exec}


@dataclass(frozen=True)
class DenialExplanation:
    """The parent rules closest to granting one denial's witness; ``note`` says so
    where none matches it."""

    denial: Denial
    closest: tuple[NearRule, ...]
    note: str = ""

    def to_json(self) -> dict:
        return {"closest": [r.to_json() for r in self.closest], "note": self.note}


@dataclass(frozen=True)
class Explanation:
    """A check's result with its explanation: one :class:`PairExplanation` per pair of
    profiles checked, one :class:`DenialExplanation` per denial (in order)."""

    result: CheckResult
    pairs: tuple[PairExplanation, ...]
    denials: tuple[DenialExplanation, ...]

    @property
    def rules(self) -> tuple[RuleExplanation, ...]:
        """The explained rules of the first pair (the profiles asked for)."""
        return self.pairs[0].rules if self.pairs else ()


# -- the child rules of one pair ---------------------------------------------------------

_NOT_EXPLAINED = {LinkRule: "link", ChangeProfileRule: "change_profile",
                  MqueueRule: "mqueue", IoUringRule: "io_uring"}


def _kind_name(rule) -> str:
    if isinstance(rule, OtherRule):
        return rule.kind
    return next((name for kind, name in _NOT_EXPLAINED.items() if isinstance(rule, kind)),
                type(rule).__name__.removesuffix("Rule").lower())


def _in_order(permissions: list[PermissionCover]) -> tuple[PermissionCover, ...]:
    """File letters in the order AppArmor writes them (a rule's 'l' comes from its link
    rule, its other letters from its file rule), "other" before "owner"."""
    if not all(p.permission in PERM_ORDER and p.half for p in permissions):
        return tuple(permissions)
    return tuple(sorted(permissions, key=lambda p: (p.half != "other",
                                                    PERM_ORDER.index(p.permission))))


def explain_pair(ctx: CheckContext) -> PairExplanation:
    """The explanation of the child rules of ``ctx.pair``."""
    coverage, note = cover_pair(ctx)
    profile = ctx.pair.child
    by_source: dict[Source, dict] = {}
    for rule in profile.effective_rules():
        if rule.deny or rule.source is None or (isinstance(rule, OtherRule)
                                                and rule.kind in GRANTS_NOTHING):
            continue
        entry = by_source.setdefault(rule.source, {"kinds": [], "permissions": [],
                                                   "notes": []})
        if note:
            # Where the search stopped short, no status can be trusted.
            entry["notes"].append(f"not wholly explained: {note}")
        if id(rule) not in coverage.rules:
            entry["kinds"].append(_kind_name(rule))
            if not note:
                entry["notes"].append(f"{_kind_name(rule)} rules are not explained yet")
            continue
        entry["kinds"].append(coverage.kinds[id(rule)])
        if id(rule) in coverage.notes:
            entry["notes"].append(coverage.notes[id(rule)])
        for permission, half in coverage.order[id(rule)]:
            status, parents = coverage.status(rule, permission, half)
            sources = sorted({p.source for p in parents if p.source is not None},
                             key=lambda s: (s.file, s.line, s.column))
            entry["permissions"].append(PermissionCover(permission, half, status,
                                                        tuple(sources)))
    rules = tuple(RuleExplanation(source, tuple(dict.fromkeys(e["kinds"])),
                                  _in_order(e["permissions"]), tuple(dict.fromkeys(e["notes"])))
                  for source, e in by_source.items())
    return PairExplanation(profile.name, ctx.pair.parent.name, rules, note)


def with_denials(pair: PairExplanation, denials: tuple[Denial, ...]) -> PairExplanation:
    """``pair`` with the check's denials on its rules counted. A denied exec whose
    letter 'x' the parent grants (the transition leads beyond the parent's domain)
    turns that 'x' from covered to expanded."""
    mine = [d for d in denials if d.rule is not None and d.child_profile == pair.child
            and d.denied_by == pair.parent]
    if not mine:
        return pair
    counts: dict[Source, int] = {}
    execs: set[tuple[Source, str]] = set()
    for denial in mine:
        counts[denial.rule] = counts.get(denial.rule, 0) + 1
        if isinstance(denial.access, ExecRequest):
            execs.add((denial.rule, "owner" if denial.access.owner else "other"))
    rules = []
    for rule in pair.rules:
        permissions = tuple(replace(p, status=EXPANDED) if p.permission == "x"
                            and p.status == COVERED and (rule.rule, p.half) in execs else p
                            for p in rule.permissions)
        rules.append(replace(rule, permissions=permissions, denials=counts.get(rule.rule, 0)))
    return replace(pair, rules=tuple(rules))


# -- denials ---------------------------------------------------------------------------------

_RULE_KINDS = {CapabilityRequest: CapabilityRule, NetworkRequest: NetworkRule,
               SignalRequest: SignalRule, PtraceRequest: PtraceRule, IpcRequest: IpcRule,
               MountRequest: MountRule, UsernsRequest: UsernsRule, IoUringRequest: IoUringRule,
               MqueueRequest: MqueueRule, ChangeProfileRequest: ChangeProfileRule}


def _near_files(profile: Profile, path: str, asked: frozenset[str], owner: bool
                ) -> list[NearRule]:
    request = FileRequest(path, asked, owner)
    found = []
    for rule in profile.rules_of(FileRule):
        if rule.source is None or not rule.covers(request):
            continue
        if rule.deny:
            if rule.perms & asked:
                found.append(NearRule(rule.source, removes=tuple(sorted_perms(rule.perms & asked))))
        else:
            found.append(NearRule(rule.source, tuple(sorted_perms(rule.perms)),
                                  tuple(sorted_perms(asked - rule.perms)),
                                  exec=str(rule.exec) if rule.exec and "x" in asked else ""))
    return found


def _near_links(profile: Profile, request: LinkRequest) -> list[NearRule]:
    found = []
    for rule in profile.rules_of(LinkRule):
        if rule.source is None or not rule.covers(request.link, request.owner):
            continue
        if rule.matches(request):
            found.append(NearRule(rule.source, removes=("l",)) if rule.deny
                         else NearRule(rule.source, grants=("l",)))
        elif not rule.deny:  # the new name matches, the target does not
            found.append(NearRule(rule.source, lacks=("l",)))
    return found


def _asked(request) -> str:
    if isinstance(request, CapabilityRequest):
        return request.name
    if isinstance(request, NetworkRequest):
        return "create"
    if isinstance(request, MountRequest):
        return request.operation
    return getattr(request, "perm", "change_profile")


def _near_named(profile: Profile, request) -> list[NearRule]:
    kind = _RULE_KINDS.get(type(request))
    if kind is None:
        return []
    asked = _asked(request)
    perm = getattr(request, "perm", None)
    found = []
    for rule in profile.rules_of(kind):
        if rule.source is None:
            continue
        if rule.matches(request):
            found.append(NearRule(rule.source, removes=(asked,)) if rule.deny
                         else NearRule(rule.source, grants=(asked,)))
            continue
        perms = getattr(rule, "perms", None)
        if rule.deny or perm is None or not perms:
            continue
        # The rule matches every other part of the request, for another permission.
        if any(rule.matches(replace(request, perm=p)) for p in perms):
            found.append(NearRule(rule.source, tuple(sorted(perms)), (perm,)))
    return found


def closest_rules(profile: Profile, access: Request) -> tuple[NearRule, ...]:
    """The rules of ``profile`` that match ``access`` (files: its path and half,
    whatever their permissions; other classes: every part, or every part but the
    permission), each with what it grants, lacks or removes."""
    match access:
        case FileRequest(path=path, perms=perms, owner=owner):
            found = _near_files(profile, path, frozenset(perms), owner)
        case ExecRequest(path=path, owner=owner):
            found = _near_files(profile, path, frozenset("x"), owner)
        case LinkRequest():
            found = _near_links(profile, access)
        case _:
            found = _near_named(profile, access)
    return tuple(dict.fromkeys(found))


def explain_denials(parent_policy: Policy, denials: tuple[Denial, ...]
                    ) -> tuple[DenialExplanation, ...]:
    """For each denial, the closest rules of the profile that denies it."""
    out = []
    for denial in denials:
        profile = parent_policy.find(denial.denied_by) if isinstance(parent_policy, Policy) \
            else None
        if profile is None:
            out.append(DenialExplanation(denial, (), f"the denying profile {denial.denied_by} "
                                                     "is not a profile of the parent policy"))
            continue
        closest = closest_rules(profile, denial.access)
        note = "" if closest else (NO_MATCH_PATH if isinstance(
            denial.access, (FileRequest, ExecRequest, LinkRequest)) else NO_MATCH_REQUEST)
        out.append(DenialExplanation(denial, closest, note))
    return tuple(out)


# -- the query ------------------------------------------------------------------------------

class ExplainQuery:
    """Explain ``child ⊆ parent`` (arguments as for
    :class:`~lsmsim.verify.check.ContainmentCheck`): :meth:`run` checks, and explains
    every pair of profiles the check visits and every denial it finds;
    :meth:`results` yields the explained child rules of the first pair."""

    def __init__(self, child_policy: Policy, parent_policy: Policy, child: str | None = None,
                 parent: str | None = None, rlimit: int = DEFAULT_RLIMIT,
                 engine: str = DEFAULT_ENGINE, budget: int = DEFAULT_BUDGET,
                 automata: AutomatonCache | None = None, jobs: int = 1):
        self.child_policy = child_policy
        self.parent_policy = parent_policy
        self.child = child
        self.parent = parent
        self.rlimit = rlimit
        self.engine = engine
        self.budget = budget
        self.automata = automata
        self.jobs = jobs

    def run(self) -> Explanation:
        # Each pair's explanation is kept with what its checks share: a spread run that
        # is given up for a run in turn (lsmsim.verify.spread) clears that, and the
        # explanation made in it goes too.
        shared: dict[int, dict] = {}

        def explain_rules(ctx: CheckContext) -> Iterator[object]:
            ctx.shared[ExplainQuery] = explain_pair(ctx)
            shared[id(ctx.shared)] = ctx.shared
            yield from ()
        # It reads the path product: it runs where the file checks do.
        explain_rules.shares = PathProduct
        check = ContainmentCheck(self.child_policy, self.parent_policy, self.child, self.parent,
                                 self.rlimit, checks=(*ENGINES[self.engine], explain_rules)
                                 if self.engine in ENGINES else None, engine=self.engine,
                                 budget=self.budget, automata=self.automata, jobs=self.jobs,
                                 parent_rules=True)
        result = check.run()
        # Where the budget ran out, the check notes each analysis it skipped: this one
        # is not part of the check and must not change its result.
        skipped = f"the check's budget ran out before {explain_rules.__name__} "
        result = replace(result, undecided=tuple(u for u in result.undecided
                                                 if not u.reason.startswith(skipped)))
        pairs = [found[ExplainQuery] for found in shared.values() if ExplainQuery in found]
        return Explanation(result, tuple(with_denials(p, result.denials) for p in pairs),
                           explain_denials(self.parent_policy, result.denials))

    def results(self) -> Iterator[RuleExplanation]:
        yield from self.run().rules
