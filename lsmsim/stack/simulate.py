"""One concrete access of a task in some layer, decided by that layer and by every
layer above it (the effective permission is the intersection)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..model.policy import Profile
from ..model.requests import ExecRequest, Request
from ..model.selinux import SELinuxRequest
from ..report.audit import audit_line
from ..report.avc import avc_line
from ..simulate import selinux as selinux_decide
from ..simulate.decide import decide
from ..simulate.transition import UNCONFINED, exec_transition
from .mapping import map_to_parent, selinux_view
from .request_text import parse_request, request_to_text
from .stack import Layer, Stack

ALLOWED, DENIED, NOT_MEDIATED = "allowed", "denied", "not mediated"


@dataclass(frozen=True)
class LayerDecision:
    """What one layer decides: ``status`` is allowed, denied or not mediated; ``seen``
    is the access as this layer sees it; ``audit`` the line it logs on a denial."""

    layer: str
    lsm: str
    subject: str
    status: str
    seen: tuple[str, ...]
    reason: str = ""
    audit: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"layer": self.layer, "lsm": self.lsm, "subject": self.subject,
                "decision": self.status, "seen_as": list(self.seen), "reason": self.reason,
                "audit": list(self.audit)}


@dataclass(frozen=True)
class Simulation:
    """A request from a task in ``layer``, with the decision of each layer from the
    task's own upward."""

    request: str
    layer: str
    decisions: tuple[LayerDecision, ...]
    execs: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return all(d.status != DENIED for d in self.decisions)

    @property
    def denied_by(self) -> LayerDecision | None:
        """The first layer, from the task's own upward, that denies."""
        return next((d for d in self.decisions if d.status == DENIED), None)

    def to_json(self) -> dict:
        first = self.denied_by
        return {"request": self.request, "layer": self.layer, "after_exec": list(self.execs),
                "decision": ALLOWED if self.allowed else DENIED,
                "denied_by": first.layer if first else None,
                "audit": list(first.audit) if first else [],
                "layers": [d.to_json() for d in self.decisions]}


def _apparmor(layer: Layer, request: Request, execs: Sequence[str]) -> LayerDecision:
    profile: Profile | str = layer.profile
    for path in execs:
        after, mode = exec_transition(layer.policy, profile, path)
        if after is None:
            name = profile.name
            return LayerDecision(layer.name, "apparmor", name, DENIED, (f"exec:{path}",),
                                 f"{name} may not execute {path}",
                                 (audit_line(ExecRequest(path, "x", None), name),))
        profile = after
    seen = (request_to_text(request),)
    if profile == UNCONFINED:
        return LayerDecision(layer.name, "apparmor", UNCONFINED, ALLOWED, seen,
                             "unconfined after exec")
    decision = decide(profile, request)
    if decision.allowed:
        return LayerDecision(layer.name, "apparmor", profile.name, ALLOWED, seen)
    return LayerDecision(layer.name, "apparmor", profile.name, DENIED, seen,
                         "no rule allows it" if not decision.rules else "a deny rule or "
                         "missing permission", (audit_line(request, profile.name),))


def _selinux(layer: Layer, requests: list[SELinuxRequest], note: str,
             details: Sequence[str] = ()) -> LayerDecision:
    subject = str(layer.context)
    if not requests:
        return LayerDecision(layer.name, "selinux", subject, NOT_MEDIATED, (), note)
    unknown = sorted({r.tclass for r in requests} - set(layer.policy.classes))
    if unknown:
        return LayerDecision(layer.name, "selinux", subject, NOT_MEDIATED, (),
                             f"class {', '.join(unknown)} is not defined in this policy "
                             "(its handle_unknown setting decides)")
    denied, reasons = [], []
    details = list(details) or [""] * len(requests)
    for request, detail in zip(requests, details):
        outcome = selinux_decide.decide(layer.policy, request)
        if not outcome.allowed:
            denied.append((request, detail))
            reasons.append(f"{request.perm}: {outcome.reason}")
    seen = tuple(request_to_text(r) for r in requests)
    if not denied:
        return LayerDecision(layer.name, "selinux", subject, ALLOWED, seen, note)
    return LayerDecision(layer.name, "selinux", subject, DENIED, seen,
                         "; ".join(filter(None, [note, *reasons])),
                         tuple(avc_line(r, detail=detail) for r, detail in denied))


def simulate(stack: Stack, request: str | Request | SELinuxRequest,
             layer: str | None = None, execs: Sequence[str] = ()) -> Simulation:
    """Decide ``request`` (an object or its text form, see
    :mod:`lsmsim.stack.request_text`) for a task in ``layer`` (default: the deepest
    layer, when the stack has one) at that layer and every layer above it.

    ``execs`` are programs the task ran first, in order: each AppArmor layer applies
    its own transition for them (``ix``, ``px``, ``ux`` ...) before deciding. A SELinux
    request names contexts in the terms of the nearest SELinux layer at or
    above the task's layer; each layer further up sees it through the label mapping.
    """
    if isinstance(request, str):
        request = parse_request(request)
    start = stack.layer(layer) if layer else _deepest(stack)
    chain = stack.chain(start.name)
    decisions = []
    pending = [request] if isinstance(request, SELinuxRequest) else None
    previous: Layer | None = None
    for current in chain:
        if isinstance(request, SELinuxRequest):
            if current.lsm == "apparmor":
                decisions.append(LayerDecision(current.name, "apparmor", current.subject,
                                               NOT_MEDIATED, (), "AppArmor does not see "
                                               "SELinux contexts"))
                continue
            if previous is not None and pending is not None:
                views = [map_to_parent(previous, current, r) for r in pending]
                pending = None if None in views else [m for view in views for m in view]
            previous = current
            if pending is None:
                decisions.append(LayerDecision(current.name, "selinux", current.subject,
                                               NOT_MEDIATED, (), "the object has no label in "
                                               "this layer (object_labels, default_label)"))
                continue
            decisions.append(_selinux(current, pending, "" if pending else
                                      "this layer does not check it"))
        elif current.lsm == "apparmor":
            decisions.append(_apparmor(current, request, execs))
        else:
            decisions.append(_selinux(current, *selinux_view(current, request)))
    return Simulation(request_to_text(request), start.name, tuple(decisions), tuple(execs))


def _deepest(stack: Stack) -> Layer:
    leaves = stack.leaves()
    if len(leaves) != 1:
        from ..errors import UsageError
        raise UsageError(f"{stack.file}: several leaf layers ({', '.join(l.name for l in leaves)});"
                         " name the task's layer with --layer")
    return leaves[0]
