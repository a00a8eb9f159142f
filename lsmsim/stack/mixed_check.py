"""An AppArmor layer within a SELinux ancestor.

In the ancestor every task of the layer runs as the ancestor's ``subject``, and a file
is assumed to carry the label the ancestor's ``file_contexts`` gives its path (a path
ending in ``/`` is a directory, any other a regular file). Under that assumption the
layer stays within the ancestor when, for every access its profile grants, the
ancestor allows the subject the SELinux permissions of :mod:`lsmsim.stack.mapping` on
the object's label.

File rules are decided on automata: one breadth-first search over the product of the
profile's file DFA, the canonical-path domain and a DFA of the file_contexts
specifications, whose states tell which specification wins (libselinux's order). Each
reachable product state is a region of paths that the profile grants the same letters
on and that carry the same label; the ancestor's decision is computed once per
(label, class, permission) with the simulator's SELinux decision (allow rules,
constraints such as MCS, booleans). Exploring the whole product is the proof.
Capabilities and sockets are decided by enumeration. An exec to a named profile is
followed: the task keeps the subject in the SELinux layer, so the target's rules must
stay within it too. Whatever has no mapping, or depends on something the policy text
does not fix, is undecided with the reason.
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from ..automata.product import BYTE_ORDER, BudgetExhausted, Component, ProductSearch
from ..automata.profile import AutomatonCache
from ..model.decision import UNCONFINED, exec_target, granted_letters
from ..model.names import CAPABILITIES
from ..model.link import LinkRule
from ..model.policy import Profile
from ..model.regex import Alt, CharSet, Lit, Seq, Star
from ..model.requests import CapabilityRequest, FileRequest, Request
from ..model.rules import (CapabilityRule, ExecKind, FileRule, Half, NetworkRule, PtraceRule,
                           SignalRule)
from ..model.selinux import Context, SELinuxRequest
from ..report.avc import avc_line
from ..simulate import selinux as selinux_decide
from ..simulate.decide import decide
from ..verify.context import DEFAULT_BUDGET
from ..simulate.transition import exec_transition
from ..verify.file_check import HALVES
from ..verify.named_check import socket_requests
from ..verify.result import CheckResult, Denial, Step, Subject, Undecided
from .file_contexts import FileContextEntry
from .labels import Label, LabelAutomaton
from .request_text import request_to_text
from .mapping import (audit_name, file_perms, parent_dir_perms, parent_directory,
                      selinux_accesses)
from .stack import Layer


class HostDecisions:
    """The SELinux ancestor's decisions for the layer's subject, computed once per
    (label, class, permission) with the simulator's decision code."""

    def __init__(self, layer: Layer):
        self.layer = layer
        self._decided: dict[tuple[Context, str, str], str | None] = {}

    def problem(self, tclass: str, perm: str) -> str | None:
        """Why the ancestor's policy cannot decide ``perm`` of ``tclass`` (or None)."""
        policy = self.layer.policy
        if tclass not in policy.classes:
            return (f"class {tclass} is not defined in {policy.file}: the kernel's "
                    "handle_unknown setting, which the policy text does not fix, decides")
        if perm not in policy.classes[tclass]:
            return (f"permission {perm} of class {tclass} is not defined in {policy.file}: "
                    "the kernel's handle_unknown setting decides")
        return None

    def request(self, target: Context, tclass: str, perm: str) -> SELinuxRequest:
        return SELinuxRequest(self.layer.context, target, tclass, perm, self.layer.booleans)

    def denied(self, target: Context, tclass: str, perm: str) -> str | None:
        """Why the ancestor denies ``perm`` on ``target`` (None: it allows it)."""
        key = (target, tclass, perm)
        if key not in self._decided:
            request = self.request(target, tclass, perm)
            outcome = selinux_decide.decide(self.layer.policy, request)
            self._decided[key] = None if outcome.allowed else \
                outcome.reason + self._boolean_note(request)
        return self._decided[key]

    def _boolean_note(self, request: SELinuxRequest) -> str:
        """Which single boolean, set the other way, would allow ``request``: the
        layer's setting is what denies it."""
        policy, values = self.layer.policy, selinux_decide.booleans_of(
            self.layer.policy, self.layer.booleans)
        for name in sorted(policy.booleans):
            flipped = replace(request, booleans=((name, not values[name]),
                                                 *((n, v) for n, v in request.booleans
                                                   if n != name)))
            if selinux_decide.decide(policy, flipped).allowed:
                return f" while {name} is {'on' if values[name] else 'off'}"
        return ""


def _shortest_member(node) -> str:
    """A shortest string ``node`` matches, readable where the sets allow."""
    match node:
        case Lit(text):
            return text
        case CharSet(ranges):
            return next((chr(b) for b in BYTE_ORDER if any(lo <= b <= hi for lo, hi in ranges)),
                        chr(ranges[0][0]))
        case Seq(items):
            return "".join(_shortest_member(item) for item in items)
        case Alt(items):
            return min((_shortest_member(item) for item in items), key=len)
        case Star():
            return ""
    raise TypeError(node)


class MixedCheck:
    """``layer``'s AppArmor profile within the SELinux ``ancestor`` (see the module
    docstring). ``budget`` bounds the product states explored."""

    def __init__(self, layer: Layer, ancestor: Layer, budget: int = DEFAULT_BUDGET):
        self.layer, self.ancestor = layer, ancestor
        self.profile: Profile = layer.profile
        self.via: tuple[Step, ...] = ()
        self.host = HostDecisions(ancestor)
        self.budget = budget
        self.automata = AutomatonCache()
        self.product_states = 0
        # Profiles an exec leads to with a named target, each with the execs that lead
        # there: in the SELinux layer the task keeps the subject, so they are checked too.
        self.pending: list[tuple[Profile, tuple[Step, ...]]] = []

    def run(self) -> CheckResult:
        start = time.perf_counter()
        denials: list[Denial] = []
        undecided: list[Undecided] = []
        visited = {id(self.profile): self.profile}
        queue = [(self.profile, ())]
        while queue:
            self.profile, self.via = queue.pop(0)
            for finding in (*self.transitions(), *self.files(), *self.capabilities(),
                            *self.network(), *self.tasks(), *self.unmapped()):
                (denials if isinstance(finding, Denial) else undecided).append(finding)
            for profile, via in self.pending:
                if id(profile) not in visited:
                    visited[id(profile)] = profile
                    queue.append((profile, via))
            self.pending = []
        first = self.layer.profile
        return CheckResult(
            child=Subject(self.layer.policy.file, first.name),
            parent=Subject(self.ancestor.policy.file, self.ancestor.subject),
            denials=tuple(denials), undecided=tuple(dict.fromkeys(undecided)),
            pairs=tuple((p.name, self.ancestor.subject) for p in visited.values()),
            product_states=self.product_states, elapsed=time.perf_counter() - start)

    # -- findings ------------------------------------------------------------------

    def _denial(self, rule, access: Request, denied: list[tuple[SELinuxRequest, str]],
                reasons: dict[str, list[str]], label: str) -> Denial:
        """``reasons`` maps each reason to what it refuses (class and permissions)."""
        why = "; ".join(f"{', '.join(what)}: {reason}" for reason, what in reasons.items())
        return Denial(rule.source if rule is not None else None, access, self.profile.name,
                      self.ancestor.subject, f"{label}; the SELinux layer denies {why}",
                      via=self.via,
                      logged=tuple(dict.fromkeys(avc_line(r, detail=d) for r, d in denied)))

    def _decide(self, target: Context, tclass: str, perms, detail: str = ""
                ) -> tuple[list, dict, str | None]:
        """The denied requests (with the audit detail), the denied permissions by
        reason, or the reason the ancestor's policy cannot decide."""
        denied, reasons = [], {}
        for perm in perms:
            problem = self.host.problem(tclass, perm)
            if problem:
                return [], {}, problem
            why = self.host.denied(target, tclass, perm)
            if why is not None:
                denied.append((self.host.request(target, tclass, perm), detail))
                reasons.setdefault(why, []).append(perm)
        return denied, reasons, None

    # -- classes -------------------------------------------------------------------

    def transitions(self) -> Iterator[object]:
        """Exec rules that leave the profile: a named target is followed (the task
        still runs as the subject in the SELinux layer); the rest is undecided."""
        for rule in self.profile.rules_of(FileRule):
            if rule.deny or rule.exec is None or rule.exec.kind is ExecKind.INHERIT:
                continue
            if rule.exec.kind is ExecKind.UNCONFINED:
                yield Undecided(rule.source, (
                    "after this exec the task is unconfined by AppArmor and still runs as "
                    "the subject in the SELinux layer; what that layer then denies is not "
                    "enumerated"))
                continue
            if rule.exec.target is None:
                yield Undecided(rule.source, (
                    f"after this exec ({rule.exec}) the task runs under the profile that "
                    "attaches to the executed path, which is not followed yet"))
                continue
            target = exec_target(self.layer.policy, self.profile, rule.exec, lambda p: False)
            if target is UNCONFINED:
                yield Undecided(rule.source, (
                    f"{rule.exec}: the target is missing and the fallback leaves the task "
                    "unconfined by AppArmor, still the subject in the SELinux layer"))
            elif isinstance(target, Profile) and target is not self.profile:
                yield from self._follow(rule, target)

    def _follow(self, rule: FileRule, target: Profile) -> Iterator[object]:
        path = _shortest_member(rule.glob.regex)
        after, _ = exec_transition(self.layer.policy, self.profile, path)
        if after is not target:
            yield Undecided(rule.source, f"no executed path was found that leads to "
                                         f"{target.name} through this rule")
            return
        self.pending.append((target, (*self.via, Step(path, str(rule.exec), "none"))))
        for hat in self.profile.children:
            if hat.hat:
                yield Undecided(hat.source, f"hat {hat.name}: a task may change into it, "
                                            "and hats are not checked against a SELinux layer yet")

    def files(self) -> Iterator[object]:
        automaton = self.automata.file(self.profile)
        if not any(not r.deny for r in automaton.items):
            return
        contexts = self.ancestor.file_contexts
        if contexts is None:
            for rule in automaton.items:
                if not rule.deny:
                    yield Undecided(rule.source, f"layer {self.ancestor.name} has no "
                                                 "file_contexts: the labels of paths are unknown")
            return
        labels = LabelAutomaton.of(contexts)
        domain = self.automata.domain
        search = ProductSearch([Component(automaton.dfa, True, automaton.live),
                                Component(domain, True), Component(labels.dfa)], self.budget)

        def signature(state: tuple[int, ...]):
            tags = automaton.dfa.tags(state[0])
            if not tags or not domain.tags(state[1]):
                return None
            return tags, labels.label(state[2])
        try:
            regions = search.first_by(signature)
        except BudgetExhausted as exhausted:
            self.product_states += search.explored
            yield Undecided(self.profile.source, f"file rules of {self.profile.name} against "
                                                 f"the labels of {contexts.file} were not fully "
                                                 f"explored: {exhausted} (raise --budget)")
            return
        self.product_states += search.explored
        reported: dict[tuple, set[str]] = {}
        for half in HALVES:
            for (tags, label), state in regions.items():
                rules = [automaton.items[t] for t in sorted(tags)]
                letters = granted_letters(rules, half)
                if letters:
                    yield from self._region(rules, letters, half, label,
                                            lambda s=state: search.witness(s), reported)

    def _region(self, rules: list[FileRule], letters: set[str], half: Half, label: Label,
                witness, reported: dict) -> Iterator[object]:
        """Findings of the rules that grant ``letters`` on one region: one per rule and
        label, for the letters not reported for it yet."""
        for rule in rules:
            if rule.deny or not rule.qualifier.covers(half):
                continue
            seen = reported.setdefault((id(rule), label), set())
            mine = (rule.perms & letters) - seen
            if not mine:
                continue
            seen.update(mine)
            yield from self._file_finding(rule, mine, half, label, witness())

    def _entry(self, index: int | None) -> FileContextEntry | None:
        return self.ancestor.file_contexts.entries[index] if index is not None else None

    def _labelled(self, path: str, index: int | None) -> tuple[str | None, str]:
        """How the report names ``path``'s label, or why it has none (first None)."""
        entry, fc = self._entry(index), Path(self.ancestor.file_contexts.file).name
        if entry is None:
            return None, f"{path}: no line of {fc} matches it, so its label is not known"
        if entry.context is None:
            return None, f"{path}: {fc} line {entry.line} says <<none>>, so its label is not known"
        return str(entry.context), f"{path} is labelled {entry.context} ({fc} line {entry.line})"

    def _file_finding(self, rule: FileRule, letters: set[str], half: Half, label: Label,
                      path: str) -> Iterator[object]:
        if "l" in letters:
            yield Undecided(rule.source, f"{path} l: SELinux checks link on the link's "
                                         "target, a path the rule does not fix")
            letters = letters - {"l"}
            if not letters:
                return
        context, named = self._labelled(path, label.entry)
        if context is None:
            yield Undecided(rule.source, named)
            return
        perms = file_perms(label.tclass, letters)
        checks = [(self._entry(label.entry).context, label.tclass, perms, audit_name(path))]
        holder = parent_directory(path)
        where = {audit_name(holder or "/"): f" of {holder}", audit_name(path): ""}
        unknown_holder = None
        if parent_dir_perms(perms) and label.holder is not False:
            above, holder_named = self._labelled(holder, label.holder)
            named += f"; its directory {holder_named}"
            if above is None:
                unknown_holder = f"{named}: the directory's permissions are not known"
            else:
                checks.append((self._entry(label.holder).context, "dir",
                               parent_dir_perms(perms), audit_name(holder)))
        denied, reasons = [], {}
        for target, tclass, wanted, detail in checks:
            found, why, problem = self._decide(target, tclass, wanted, detail)
            if problem:
                yield Undecided(rule.source, f"{named}: {problem}")
                return
            denied += found
            for reason, refused in why.items():
                reasons.setdefault(reason, []).append(
                    f"{tclass} {' '.join(refused)}{where[detail]}")
        if denied:
            yield self._denial(rule, FileRequest(path, frozenset(letters), half is Half.OWNER),
                               denied, reasons, named)
        elif unknown_holder:
            yield Undecided(rule.source, unknown_holder)

    def _named(self, kind, requests: Iterator[Request]) -> Iterator[object]:
        """Requests of a finite class the profile allows: a denial per rule and SELinux
        class, and per rule one undecided finding that names each reason with examples."""
        allows = [r for r in self.profile.rules_of(kind) if not r.deny]
        denied_seen: set[tuple] = set()
        open_by_rule: dict[int, tuple[object, dict[str, list[str]]]] = {}
        for request in requests:
            if not decide(self.profile, request).allowed:
                continue
            rule = next((r for r in allows if r.matches(request)), None)
            pending = open_by_rule.setdefault(id(rule), (rule, {}))[1]
            pairs, note = selinux_accesses(self.ancestor.context, request)
            if not pairs:
                pending.setdefault(note, []).append(request_to_text(request))
                continue
            for tclass in dict.fromkeys(c for c, _ in pairs):
                perms = [p for c, p in pairs if c == tclass]
                detail = (f"capability={CAPABILITIES.index(request.name)}"
                          if isinstance(request, CapabilityRequest) else "")
                denied, reasons, problem = self._decide(self.ancestor.context, tclass, perms,
                                                        detail)
                if problem:
                    pending.setdefault(problem, []).append(request_to_text(request))
                elif denied and (id(rule), tclass) not in denied_seen:
                    denied_seen.add((id(rule), tclass))
                    reasons = {why: [f"{tclass} {' '.join(refused)}"]
                               for why, refused in reasons.items()}
                    yield self._denial(rule, request, denied, reasons,
                                       f"{request_to_text(request)} is checked in class "
                                       f"{tclass} on the subject")
        for rule, pending in open_by_rule.values():
            if pending:
                yield Undecided(rule.source if rule else None, "; ".join(
                    f"{reason} ({_examples(texts)})" for reason, texts in pending.items()))

    def capabilities(self) -> Iterator[object]:
        yield from self._named(CapabilityRule, (CapabilityRequest(n) for n in CAPABILITIES))

    def network(self) -> Iterator[object]:
        yield from self._named(NetworkRule, socket_requests())

    def tasks(self) -> Iterator[object]:
        """Signals and ptrace: a permission the other task uses is not the layer's; one
        the layer's task uses needs the other task's context in the SELinux layer."""
        for kind in (SignalRule, PtraceRule):
            for rule in self.profile.rules_of(kind):
                if rule.deny:
                    continue
                own = rule.perms - {"receive", "readby", "tracedby"}
                if own:
                    yield Undecided(rule.source, f"{' '.join(sorted(own))}: the other task's "
                                                 "SELinux context is not known from its "
                                                 "AppArmor label")

    def unmapped(self) -> Iterator[object]:
        mapped = (FileRule, CapabilityRule, NetworkRule, SignalRule, PtraceRule)
        for rule in self.profile.effective_rules():
            if not isinstance(rule, mapped) and not rule.deny:
                if isinstance(rule, LinkRule):
                    yield Undecided(rule.source, "link: SELinux checks link on the link's "
                                                 "target, whose label this check does not "
                                                 "pair with the new name's yet")
                    continue
                kind = getattr(rule, "kind", type(rule).__name__.removesuffix("Rule").lower())
                yield Undecided(rule.source, f"{kind} rules have no SELinux mapping yet")


def _examples(texts: list[str], shown: int = 3) -> str:
    unique = list(dict.fromkeys(texts))
    more = f" and {len(unique) - shown} more" if len(unique) > shown else ""
    return ", ".join(unique[:shown]) + more


def check_mixed(layer: Layer, ancestor: Layer, budget: int = DEFAULT_BUDGET) -> CheckResult:
    """``layer`` (AppArmor) within ``ancestor`` (SELinux): see :class:`MixedCheck`."""
    return MixedCheck(layer, ancestor, budget).run()
