"""``lsmsim check STACK.toml``: every layer within every layer above it that speaks the
same LSM (its parent, and up the chain, since the effective permission is the
intersection over all ancestors)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..model.names import CAPABILITIES
from ..model.requests import CapabilityRequest, ExecRequest
from ..model.selinux import Context, SELinuxRequest
from ..simulate.transition import UNCONFINED
from ..verify.check import DEFAULT_ENGINE, check_within
from ..verify.context import DEFAULT_BUDGET
from ..verify.prover import DEFAULT_RLIMIT
from ..verify.result import CheckResult, Denial, Undecided, Verdict
from ..verify.selinux_check import check_selinux
from .mapping import map_to_parent
from .mixed_check import check_mixed
from .projection import project_ancestor
from .request_text import request_to_text
from .simulate import DENIED, simulate
from .stack import Layer, Stack

PARENT, ANCESTOR, NOT_COMPARED = "parent", "ancestor", "not compared"


@dataclass(frozen=True)
class LayerPairResult:
    """``child`` checked within ``ancestor``; ``relation`` says whether the ancestor is
    the layer directly above (``parent``), further up (``ancestor``), or enforces a
    different LSM that cannot be compared with it (``not compared``: ``note`` says
    why). For an AppArmor layer within a SELinux ancestor ``note`` states what the
    verdict assumes."""

    ancestor: str
    child: str
    relation: str
    result: CheckResult | None
    note: str = ""


@dataclass(frozen=True)
class StackResult:
    """Every layer pair of a stack; contained only when every compared pair is."""

    stack: str
    file: str
    pairs: tuple[LayerPairResult, ...]

    @property
    def checked(self) -> tuple[LayerPairResult, ...]:
        return tuple(p for p in self.pairs if p.result is not None)

    @property
    def verdict(self) -> Verdict:
        verdicts = {p.result.verdict for p in self.checked}
        for verdict in (Verdict.EXPANSIONS, Verdict.UNDECIDED):
            if verdict in verdicts:
                return verdict
        return Verdict.CONTAINED

    @property
    def exit_code(self) -> int:
        return {Verdict.CONTAINED: 0, Verdict.EXPANSIONS: 1, Verdict.UNDECIDED: 3}[self.verdict]


def _parent_view(stack: Stack, layer: Layer, ancestor: Layer):
    """What ``ancestor`` checks when a task of ``layer`` asks for (type, class, perm):
    the request mapped up through every SELinux layer on the way, as simulation maps it."""
    chain = [l for l in stack.chain(layer.name) if l.lsm == "selinux"]
    chain = chain[:[l.name for l in chain].index(ancestor.name) + 1]

    def view(type_name: str, tclass: str, perm: str):
        pending = [SELinuxRequest(layer.context, Context("system_u", "object_r", type_name,
                                                         layer.context.range), tclass, perm)]
        for below, above in zip(chain, chain[1:]):
            views = [map_to_parent(below, above, r) for r in pending]
            if None in views:
                return None
            pending = [m for v in views for m in v]
        return [(r.tcontext, r.tclass, r.perm) for r in pending]
    return view


def _replay(stack: Stack, layer: Layer, ancestor: Layer,
            denial: Denial) -> tuple[bool, str, tuple[str, ...]]:
    """Replay a denial through the stack simulator: does ``ancestor`` deny it? An exec
    escape is replayed as the exec followed by a capability the escaped task may use
    and the ancestor's domain after the same exec may not."""
    execs = [step.path for step in denial.via]
    access = denial.access
    probes = [access]
    if isinstance(access, ExecRequest) and access.target == UNCONFINED:
        execs.append(access.path)
        probes = [CapabilityRequest(name) for name in CAPABILITIES]
    for probe in probes:
        outcome = simulate(stack, probe, layer.name, execs)
        by_layer = {d.layer: d for d in outcome.decisions}
        if by_layer[ancestor.name].status == DENIED and by_layer[layer.name].status != DENIED:
            return True, outcome.request, by_layer[ancestor.name].audit
    return False, request_to_text(access), ()


def _confirmed(stack: Stack, layer: Layer, ancestor: Layer, result: CheckResult) -> CheckResult:
    """Keep the denials the stack simulator confirms; the others become undecided."""
    denials, undecided = [], list(result.undecided)
    for denial in result.denials:
        confirmed, replayed, logged = _replay(stack, layer, ancestor, denial)
        if confirmed:
            # A SELinux ancestor logs the access under its own labels.
            denials.append(replace(denial, logged=logged, denied_by=ancestor.subject)
                           if ancestor.lsm == "selinux" else denial)
        else:
            undecided.append(Undecided(denial.rule, f"witness {replayed} is not denied by "
                                                    f"layer {ancestor.name} when replayed"))
    return replace(result, denials=tuple(denials), undecided=tuple(undecided))


def check_pair(stack: Stack, layer: Layer, ancestor: Layer, rlimit: int = DEFAULT_RLIMIT,
               engine: str = DEFAULT_ENGINE, budget: int = DEFAULT_BUDGET,
               jobs: int = 1) -> CheckResult:
    """``layer``'s subject within ``ancestor``'s: of the same LSM, or an AppArmor layer
    under a SELinux ancestor (:mod:`lsmsim.stack.mixed_check`); ``jobs`` as for
    :func:`lsmsim.check`."""
    if layer.lsm == "apparmor" and ancestor.lsm == "selinux":
        result = check_mixed(layer, ancestor, budget)
    elif layer.lsm == "apparmor":
        result = check_within(layer.policy, ancestor.policy, layer.profile.name,
                              ancestor.profile.name, rlimit, engine, budget, jobs)
    else:
        projected = project_ancestor(layer.policy, ancestor, _parent_view(stack, layer, ancestor))
        result = check_selinux(layer.policy, projected, rlimit)
        result = replace(result, parent=replace(result.parent, profile=ancestor.subject))
    return _confirmed(stack, layer, ancestor, result)


def check_stack(stack: Stack, rlimit: int = DEFAULT_RLIMIT, engine: str = DEFAULT_ENGINE,
                budget: int = DEFAULT_BUDGET, jobs: int = 1) -> StackResult:
    """Check every layer against every ancestor it can be compared with: one of its
    own LSM, or a SELinux ancestor of an AppArmor layer, through the ancestor's
    file_contexts (``engine``, ``budget`` and ``jobs`` as for :func:`lsmsim.check`, per
    pair of layers)."""
    pairs = []
    for _, child in stack.edges():
        ancestors = stack.ancestors(child.name)
        parent = ancestors[0]
        for ancestor in ancestors:
            relation = PARENT if ancestor is parent else ANCESTOR
            if comparable(child, ancestor):
                pairs.append(LayerPairResult(ancestor.name, child.name, relation,
                                             check_pair(stack, child, ancestor, rlimit,
                                                        engine, budget, jobs),
                                             _assumption(child, ancestor)))
            elif ancestor is parent:
                pairs.append(LayerPairResult(
                    parent.name, child.name, NOT_COMPARED, None,
                    f"{child.name} ({child.lsm}) under {parent.name} ({parent.lsm}): an "
                    "AppArmor layer does not see a SELinux layer's labels; layers are "
                    "compared with ancestors of their own LSM"))
    return StackResult(stack.name, stack.file, tuple(pairs))


def _assumption(layer: Layer, ancestor: Layer) -> str:
    """What a mixed pair's verdict assumes (empty for a pair of one LSM)."""
    if layer.lsm == ancestor.lsm:
        return ""
    labels = (f"the label {ancestor.file_contexts.file} gives its path"
              if ancestor.file_contexts else "a label (none is known: no file_contexts)")
    return (f"every task of {layer.name} runs as {ancestor.subject} in {ancestor.name}, and "
            f"every file carries {labels}")


def comparable(layer: Layer, ancestor: Layer) -> bool:
    """Can ``layer`` be checked within ``ancestor``? Layers of one LSM can, and an
    AppArmor layer can within a SELinux ancestor (the files a path names carry the
    labels the ancestor's file_contexts give them)."""
    return layer.lsm == ancestor.lsm or (layer.lsm, ancestor.lsm) == ("apparmor", "selinux")
