"""``child ⊆ parent`` for two SELinux policies, proven with Z3.

For every class permission the child's allow rules name, one query asks for a
request that one of those rules grants, the child allows (after its constraints and
bounds) and the parent denies. Unsat proves every rule of that class permission
within the parent, in one query however many rules grant it. A sat answer is turned
into a concrete request, confirmed by the simulator, and reported on each rule that
grants it; the query is asked again without those rules until it is unsat, so every
expanding rule is reported. Labels map 1:1 by name between the two policies.

Booleans: under SELinux namespaces each layer has its own policy and its own
booleans (a child's ``virt_use_nfs`` is not the parent's), so when child and parent
are separate layers their booleans are separate variables and a rule the parent
grants only under a boolean does not cover the child's. A policy checked against
itself is one layer: its booleans are shared. ``--bool`` fixes a name on both sides.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Mapping

from ..lazy import z3

from ..errors import UsageError
from ..model.selinux import SELinuxPolicy, SELinuxRequest
from ..simulate.selinux import booleans_of, decide
from .prover import DEFAULT_RLIMIT, Prover
from .result import CheckResult, Denial, Subject, Undecided
from .selinux_cover import CoverIndex
from .selinux_encode import PolicyEncoder, SymRequest, Universe


class SELinuxContainmentCheck:
    """Proves that ``child`` grants nothing ``parent`` denies.

    ``booleans`` fixes some booleans (by name, on both sides); ``rlimit`` bounds each
    solver query (a query that hits it makes the result undecided). The two policies
    are one layer (shared booleans) when they are the same policy or were read from
    the same files.
    """

    def __init__(self, child: SELinuxPolicy, parent: SELinuxPolicy,
                 rlimit: int = DEFAULT_RLIMIT, booleans: Mapping[str, bool] | None = None):
        self.child = child
        self.parent = parent
        self.prover = Prover(rlimit)
        self.universe = Universe(parent, child)
        self.separate_layers = not same_layer(child, parent)
        self.request = SymRequest.fresh(self.universe, separate_layers=self.separate_layers)
        self.child_enc = PolicyEncoder(child, self.universe)
        # One policy on both sides of one layer: one encoder, so every formula is
        # built once.
        self.parent_enc = self.child_enc if child is parent and not self.separate_layers \
            else PolicyEncoder(parent, self.universe, parent_layer=self.separate_layers)
        self.booleans = dict(booleans or {})
        unknown = sorted(set(self.booleans) - set(self.universe.booleans))
        if unknown:
            raise UsageError(f"no boolean named {', '.join(unknown)} in either policy; "
                             f"booleans: {', '.join(self.universe.booleans) or '(none)'}")
        self._child_allows: dict[tuple[str, str], z3.BoolRef] = {}
        self._preferred: dict[bool, tuple] = {}
        self._parent_decides: dict[tuple[str, str, bool], z3.BoolRef] = {}
        self.cover = CoverIndex(child, parent, self.child_enc.type_ids,
                                self.parent_enc.type_ids, not self.separate_layers,
                                self.booleans)

    # --- formulas shared by the queries ---
    def _base(self) -> list[z3.BoolRef]:
        req = self.request
        fixed = [variables[name] == value for name, value in self.booleans.items()
                 for variables in {id(v): v for v in (req.layer_booleans(False),
                                                      req.layer_booleans(True))}.values()]
        return req.in_universe() + self.child_enc.well_formed(req) + fixed

    def _prefer(self, tclass: str) -> tuple[tuple[z3.BoolRef, ...], ...]:
        object_ = tclass != "process"
        found = self._preferred.get(object_)
        if found is None:
            found = self._preferred[object_] = self._preferences(tclass)
        return found

    def _preferences(self, tclass: str) -> tuple[tuple[z3.BoolRef, ...], ...]:
        """Witnesses read best when both contexts are ones the child can hold and
        levels are single: tried in turn on a sat answer, never needed for a proof."""
        req, enc = self.request, self.child_enc
        source = enc.valid_context(req.source, object_=False)
        target = enc.valid_context(req.target, object_=tclass != "process")
        single = []
        for ctx in (req.source, req.target):
            if ctx.low is not None:
                single += [ctx.low.sens == ctx.high.sens, ctx.low.cats == ctx.high.cats]
        return ((source, target, *single), (source, target), (source,))

    def _child_allowed(self, tclass: str, perm: str) -> z3.BoolRef:
        key = (tclass, perm)
        if key not in self._child_allows:
            self._child_allows[key] = self.child_enc.allowed(tclass, perm, self.request)
        return self._child_allows[key]

    def _parent_decision(self, tclass: str, perm: str, narrowed: bool = False) -> z3.BoolRef:
        """The parent's decision; ``narrowed`` when the query also asks that a child
        rule granting ``tclass perm`` fires: then only parent rules that can fire on
        the same types are read (the others cannot change the answer)."""
        key = (tclass, perm, narrowed)
        if key not in self._parent_decides:
            rules = self._parent_rules(tclass, perm) if narrowed else None
            self._parent_decides[key] = self.parent_enc.decision(tclass, perm, self.request,
                                                                 rules)
        return self._parent_decides[key]

    def _parent_rules(self, tclass: str, perm: str) -> tuple:
        child_bits, parent_bits = self.cover.child_bits, self.cover.parent_bits
        sources = targets = 0
        for rule in self.child_enc.granting.get((tclass, perm), ()):
            sources |= child_bits.of(rule.sources)
            targets |= child_bits.of(rule.targets)
            if rule.targets.self_:
                targets |= child_bits.of(rule.sources)
        return tuple(r for r in self.parent_enc.granting.get((tclass, perm), ())
                     if parent_bits.of(r.sources) & sources
                     and (r.targets.self_ or parent_bits.of(r.targets) & targets))

    # --- the check ---
    def results(self):
        """Yield a :class:`Denial` or :class:`Undecided` per expanding rule permission.

        Rules the parent grants block for block (:class:`CoverIndex`) need no query;
        the others are asked class by class, each class on one solver."""
        base = self._base()
        cover = self.cover
        # The rules left for the solver, per class permission, in policy order.
        left: dict[tuple[str, str], list] = {}
        for rule in self.child.allow_rules():
            for tclass, perms in rule.perms:
                for perm in cover.uncovered(rule, tclass, perms):
                    left.setdefault((tclass, perm), []).append(rule)
        by_class: dict[str, list[tuple[str, tuple]]] = {}
        for (tclass, perm), rules in sorted(left.items()):
            by_class.setdefault(tclass, []).append((perm, tuple(rules)))
        for tclass, work in by_class.items():
            session = self.prover.session(*base)
            for perm, rules in work:
                yield from self._class_permission(tclass, perm, rules, session)
        for type_name in sorted(self.child.permissive):
            yield from self._permissive(type_name, base)

    def _class_permission(self, tclass: str, perm: str, rules, session):
        """Every rule granting ``tclass perm``: one query while none expands."""
        req = self.request
        remaining = rules
        while remaining:
            fires = self.child_enc.rules_fire(remaining, req)
            outcome = session.solve(fires, self._child_allowed(tclass, perm),
                                    z3.Not(self._parent_decision(tclass, perm, narrowed=True)),
                                    prefer=self._prefer(tclass))
            if outcome.status == "unsat":
                return
            if outcome.status == "unknown":
                for rule in remaining:
                    yield Undecided(rule.source, f"{tclass} {perm}: solver gave up "
                                                 f"({outcome.reason})")
                return
            witness = self._witness(outcome.model, tclass, perm)
            firing = [r for r in remaining if self._fires(r, witness)]
            if not firing:  # cannot happen while the simulator and encoder agree
                yield Undecided(remaining[0].source, f"witness {witness.to_json()} fires no "
                                                     "rule in the simulator")
                return
            for rule in firing:
                yield self._confirmed(rule.source, witness, "")
            fired = {id(r) for r in firing}
            remaining = tuple(r for r in remaining if id(r) not in fired)

    def _fires(self, rule, witness: SELinuxRequest) -> bool:
        child = self.child
        values = booleans_of(child, witness.booleans)
        return rule.active(values) and rule.matches_types(
            child, child.canonical_type(witness.scontext.type),
            child.canonical_type(witness.tcontext.type))

    def _query(self, source, constraints, tclass, perm, reason, enforce_child=True):
        child_ok = self._child_allowed(tclass, perm) if enforce_child else z3.BoolVal(True)
        outcome = self.prover.solve(*constraints, child_ok,
                                    z3.Not(self._parent_decision(tclass, perm)),
                                    prefer=self._prefer(tclass))
        if outcome.status == "unsat":
            return
        if outcome.status == "unknown":
            yield Undecided(source, f"{tclass} {perm}: solver gave up ({outcome.reason})")
            return
        witness = self._witness(outcome.model, tclass, perm)
        yield self._confirmed(source, witness, reason)

    def _witness(self, model, tclass: str, perm: str) -> SELinuxRequest:
        """The model's request, each layer's booleans limited to those that decide it
        in its own policy (the others leave the decision as it is at any value)."""
        witness = self.request.concrete(model, tclass, perm)
        types = (witness.scontext.type, witness.tcontext.type)
        child_names = _deciding_booleans(self.child_enc, tclass, perm, *types)
        parent_names = _deciding_booleans(self.parent_enc, tclass, perm, *types)
        if witness.parent_booleans is None:
            child_names = child_names | parent_names
        child = tuple((n, v) for n, v in witness.booleans if n in child_names)
        parent = None if witness.parent_booleans is None else tuple(
            (n, v) for n, v in witness.parent_booleans if n in parent_names)
        return replace(witness, booleans=child, parent_booleans=parent)

    def _confirmed(self, source, witness: SELinuxRequest, reason: str):
        child = decide(self.child, witness)
        parent = decide(self.parent, witness.for_parent())
        if not child.allowed or parent.allowed:
            return Undecided(source, f"witness {witness.to_json()} not confirmed by the "
                                     "simulator (child allows: "
                                     f"{child.allowed}, parent allows: {parent.allowed})")
        return Denial(source, witness, self.child.name, self.parent.name,
                      f"{reason}; parent: {parent.reason}" if reason else parent.reason)

    def _permissive(self, type_name: str, base):
        """A permissive child domain grants everything: report one access of it the
        parent denies."""
        source = self.child.type_sources.get(type_name)
        is_source = self.child_enc.is_type(self.request.source.type, (type_name,))
        for tclass, perms in self.child.classes.items():
            for perm in sorted(perms):
                found = list(self._query(source, base + [is_source], tclass, perm,
                                         f"{type_name} is permissive in the child",
                                         enforce_child=False))
                if found:
                    yield from found
                    return

    def run(self) -> CheckResult:
        denials, undecided = [], []
        for finding in self.results():
            (denials if isinstance(finding, Denial) else undecided).append(finding)
        # Rules and classes are visited in an order that may follow object identity:
        # report in source order, so the same input gives the same report.
        denials.sort(key=_report_order)
        undecided.sort(key=_report_order)
        return CheckResult(
            child=Subject(self.child.file, self.child.name),
            parent=Subject(self.parent.file, self.parent.name),
            denials=tuple(denials), undecided=tuple(undecided),
            queries=self.prover.queries, seconds=self.prover.seconds,
            pairs=((self.child.name, self.parent.name),))


def _report_order(finding) -> tuple:
    source = finding.rule
    where = (source.file, source.line, source.column) if source else ("", 0, 0)
    access = finding.access.to_json() if isinstance(finding, Denial) else {}
    return (*where, access.get("tclass", ""), tuple(access.get("perms", ())),
            getattr(finding, "reason", ""))


def _deciding_booleans(encoder: PolicyEncoder, tclass: str, perm: str, stype: str,
                       ttype: str) -> frozenset[str]:
    """The booleans of the encoder's policy that can change whether ``stype`` is
    granted ``tclass perm`` on ``ttype``: the names in the conditions of the rules
    granting it on those types (on any types when a ``typebounds`` bounds the source,
    whose decision also reads its bound's rules)."""
    policy = encoder.policy
    stype, ttype = policy.canonical_type(stype), policy.canonical_type(ttype)
    bounded = stype in policy.typebounds
    names: set[str] = set()
    for rule in encoder.granting.get((tclass, perm), ()):
        if rule.condition is not None and (bounded or rule.matches_types(policy, stype, ttype)):
            names |= rule.condition.expr.names()
    return frozenset(names & set(policy.booleans))


def same_layer(child: SELinuxPolicy, parent: SELinuxPolicy) -> bool:
    """One namespace's policy on both sides: the same object or the same files."""
    return child is parent or (bool(child.files_read)
                               and tuple(child.files_read) == tuple(parent.files_read))


def check_selinux(child: SELinuxPolicy, parent: SELinuxPolicy, rlimit: int = DEFAULT_RLIMIT,
                  booleans: Mapping[str, bool] | None = None) -> CheckResult:
    """Run :class:`SELinuxContainmentCheck` and return its result."""
    return SELinuxContainmentCheck(child, parent, rlimit, booleans).run()
