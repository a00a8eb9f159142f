"""The Python API (DESIGN §4): load policies, check containment, decide requests."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .detect import detect_lsm
from .errors import PolicyError, Position, UsageError
from .model.policy import Policy, Profile
from .model.requests import Request
from .simulate.decide import Decision, decide
from .verify.check import DEFAULT_ENGINE, ENGINES, ContainmentCheck, select_profile
from .verify.context import DEFAULT_BUDGET
from .verify.prover import DEFAULT_RLIMIT
from .verify.result import CheckResult

if TYPE_CHECKING:
    from .cache import PolicyCache
    from .verify.explain import Explanation
    from .verify.measure import DenialMeasure
    from .verify.measure_listing import PathListing
    from .model.selinux import SELinuxPolicy



def load(path: str | Path, include: list[str | Path] | tuple = (),
         lsm: str | None = None, cache: "PolicyCache | None" = None) -> "Policy | SELinuxPolicy":
    """Read a policy file into the model (``include`` = AppArmor include roots).
    With a :class:`lsmsim.cache.PolicyCache`, an AppArmor policy whose files are
    unchanged is taken from it, compiled automata included."""
    lsm = lsm or detect_lsm(path)
    if lsm == "apparmor":
        if cache is not None:
            return cache.load(path, include,
                              lambda: _load_apparmor(path, include, cache.directory))
        return _load_apparmor(path, include)
    # The SELinux front end is imported only for SELinux policies: a start costs less.
    if lsm == "selinux":
        from .frontends.selinux import load_selinux
        return load_selinux(path)
    if lsm == "cil":
        from .frontends.selinux import load_cil
        return load_cil(path)
    raise PolicyError(f"{lsm} policies are not supported by this version of lsmsim",
                      Position(str(path), 1, 1))


def _load_apparmor(path, include, tables=None) -> Policy:
    # The front end is imported only to parse: a policy from the cache needs none.
    from .frontends.apparmor import load_apparmor
    return load_apparmor(path, include, tables)


def check(child: "Policy | SELinuxPolicy", within: "Policy | SELinuxPolicy",
          child_profile: str | None = None, parent_profile: str | None = None,
          rlimit: int = DEFAULT_RLIMIT, booleans: dict[str, bool] | None = None,
          engine: str = DEFAULT_ENGINE, budget: int = DEFAULT_BUDGET,
          cache: "PolicyCache | None" = None, jobs: int = 1) -> CheckResult:
    """Prove ``child`` within the parent policy ``within``, or list its expansions.
    ``booleans`` fixes SELinux booleans by name (others range over every value).
    For AppArmor, ``engine`` is ``automata`` (default) or ``z3`` and ``budget`` bounds
    the work of the whole check (:class:`lsmsim.verify.context.Budget`); with the
    ``cache`` the policies were loaded from, the automata compiled for them are kept
    there for the next check. ``jobs`` above 1 lets an AppArmor check spread each pair's
    classes over two processes (:mod:`lsmsim.verify.spread`; the result is the same)."""
    kinds = {not isinstance(child, Policy), not isinstance(within, Policy)}
    if kinds == {True}:
        from .verify.selinux_check import check_selinux
        if engine not in ENGINES:
            raise UsageError(f"unknown engine {engine!r}")
        return check_selinux(child, within, rlimit, booleans)
    if kinds == {True, False}:
        raise UsageError(f"cannot check {child.lsm} policy {child.file} within {within.lsm} "
                         f"policy {within.file}: mapping between AppArmor and SELinux is not "
                         "supported yet")
    if booleans:
        raise UsageError("--bool applies to SELinux policies only")
    automata = cache.automata(child, within) if cache is not None else None
    result = ContainmentCheck(child, within, child_profile, parent_profile, rlimit,
                              engine=engine, budget=budget, automata=automata, jobs=jobs).run()
    if cache is not None:
        cache.save(automata, child, within)
    return result


def explain(child: Policy, within: Policy, child_profile: str | None = None,
            parent_profile: str | None = None, rlimit: int = DEFAULT_RLIMIT,
            engine: str = DEFAULT_ENGINE, budget: int = DEFAULT_BUDGET,
            cache: "PolicyCache | None" = None, jobs: int = 1) -> "Explanation":
    """Check ``child`` within ``within`` (arguments as for :func:`check`) and explain
    the verdict: each child rule with the parent rules that cover each of its
    permissions, each denial with the parent rules closest to granting it. AppArmor
    policies only. ``jobs`` spreads each pair's work as :func:`check` does."""
    from .verify.explain import ExplainQuery
    if not isinstance(child, Policy) or not isinstance(within, Policy):
        raise UsageError("explain applies to AppArmor policies only")
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; engines: {', '.join(ENGINES)}")
    automata = cache.automata(child, within) if cache is not None else None
    explanation = ExplainQuery(child, within, child_profile, parent_profile, rlimit, engine,
                               budget, automata, jobs).run()
    if cache is not None:
        cache.save(automata, child, within)
    return explanation


def measure(result: CheckResult, child: Policy, within: Policy, child_profile: str | None = None,
            parent_profile: str | None = None, length: int | None = None,
            paths: "str | Path | PathListing | None" = None,
            cache: "PolicyCache | None" = None) -> "tuple[DenialMeasure | None, ...]":
    """How large each expansion of ``result`` (the check of ``child`` within
    ``within``, profiles as given to :func:`check`) is: per file or exec denial, the
    exact number of canonical paths of at most ``length`` bytes (default 255) it
    covers and, with ``paths`` (a listing file, one path per line), the listed paths
    it exposes; None for denials of other classes. AppArmor policies only."""
    from .verify.measure import DEFAULT_LENGTH, ExpansionMeasure
    from .verify.measure_listing import PathListing
    if not isinstance(child, Policy) or not isinstance(within, Policy):
        raise UsageError("measure applies to AppArmor policies only")
    length = DEFAULT_LENGTH if length is None else length
    if length < 0:
        raise UsageError(f"the length bound must be 0 or more, not {length}")
    listing = PathListing.read(paths) if isinstance(paths, (str, Path)) else paths
    automata = cache.automata(child, within) if cache is not None else None
    return ExpansionMeasure(result, child, within, child_profile, parent_profile, length,
                            listing, automata=automata).measures()


def decide_request(policy: Policy, request: Request, profile: str | None = None) -> Decision:
    """What one profile of ``policy`` decides for a concrete request."""
    return decide(select_profile(policy, profile), request)


__all__ = ["Policy", "Profile", "CheckResult", "Decision", "UsageError", "check",
           "decide_request", "detect_lsm", "explain", "load", "measure"]
