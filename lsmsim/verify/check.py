"""``child ⊆ parent``: the containment check over every class and every pair of
profiles that exec transitions lead to."""
from __future__ import annotations

import time
from collections import deque
from typing import Callable, Iterable, Iterator

from ..classes import CLASSES
from ..errors import PolicyError, Position, UsageError
from ..model.policy import Policy, Profile
from ..automata.profile import AutomatonCache
from .context import DEFAULT_BUDGET, Budget, CheckContext, FollowPair, Pair, Stats, Warning
from .hat_check import check_hats
from .named_check import check_unmodelled
from .prover import DEFAULT_RLIMIT, Prover
from .result import CheckResult, Denial, Subject, Undecided
from .spread import can_spread, run_spread

ClassCheck = Callable[[CheckContext], Iterator[object]]

# The checks of no one class: change_hat's implied rules, and the rules kept as text.
PROFILE_CHECKS: tuple[ClassCheck, ...] = (check_hats, check_unmodelled)
# The engines differ only in the checks a class names for each (files, exec and
# links are searched on automata or asked of the solver).
ENGINES: dict[str, tuple[ClassCheck, ...]] = {
    engine: (*CLASSES.checks(engine), *PROFILE_CHECKS) for engine in ("automata", "z3")}
DEFAULT_ENGINE = "automata"


def select_profile(policy: Policy, name: str | None) -> Profile:
    """The named profile, or the only top-level one; otherwise a clear error."""
    if name:
        found = policy.find(name)
        if found is None:
            raise UsageError(f"{policy.file}: no profile named {name!r}; profiles: "
                             f"{', '.join(policy.profile_names()) or '(none)'}")
        return found
    if len(policy.profiles) == 1:
        return policy.profiles[0]
    if not policy.profiles:
        raise PolicyError("no profile defined in this file", Position(policy.file, 1, 1))
    first = policy.profiles[0].source
    raise UsageError("defines several profiles, name one of: " + ", ".join(
        f"{p.name} (line {p.source.line})" if p.source else p.name for p in policy.profiles),
        first.position if first else Position(policy.file, 1, 1))


class ContainmentCheck:
    """Proves that ``child`` (a profile of ``child_policy``) stays within ``parent``.

    ``engine`` names how file permissions and exec transitions are decided
    (``automata``, the default, or ``z3``); ``checks`` overrides the per-class
    analyses run on each pair of profiles. ``rlimit`` bounds each solver query and
    ``budget`` the whole check (:class:`~lsmsim.verify.context.Budget`); either one
    running out makes the result undecided, never contained. With ``jobs`` above 1,
    each pair's checks may run in two forked processes (:mod:`lsmsim.verify.spread`);
    the result is the same. ``parent_rules`` is for analyses that name the parent's
    rules (explain): see :attr:`CheckContext.parent_rules`.
    """

    def __init__(self, child_policy: Policy, parent_policy: Policy, child: str | None = None,
                 parent: str | None = None, rlimit: int = DEFAULT_RLIMIT,
                 checks: Iterable[ClassCheck] | None = None, engine: str = DEFAULT_ENGINE,
                 budget: int = DEFAULT_BUDGET, automata: AutomatonCache | None = None,
                 jobs: int = 1, parent_rules: bool = False):
        if engine not in ENGINES:
            raise UsageError(f"unknown engine {engine!r}; engines: {', '.join(ENGINES)}")
        self.child_policy = child_policy
        self.parent_policy = parent_policy
        self.child = select_profile(child_policy, child)
        self.parent = select_profile(parent_policy, parent)
        self.prover = Prover(rlimit)
        self.checks = tuple(checks) if checks is not None else ENGINES[engine]
        self.engine = engine
        self.budget = Budget(budget, self.prover)
        self.automata = automata if automata is not None else AutomatonCache()
        self.stats = Stats()
        self.jobs = jobs
        self.parent_rules = parent_rules

    def _findings(self, ctx: CheckContext) -> Iterator[object]:
        """What every check of one pair finds, in the order of the checks: spread over
        processes where :mod:`.spread` says that gives the same, else one by one."""
        spread = run_spread(ctx, self.checks) if can_spread(self.jobs, self.engine) \
            else None
        if spread is not None:
            for found in spread:
                yield from found
            return
        pair = ctx.pair
        for check in self.checks:
            if self.budget.remaining <= 0:
                yield Undecided(pair.child.source, (
                    f"the check's budget ran out before {check.__name__.removeprefix('check_')}"
                    f" of {pair.child.name} against {pair.parent.name} (raise --budget)"))
                continue
            yield from check(ctx)

    def run(self) -> CheckResult:
        start_time = time.perf_counter()
        denials: list[Denial] = []
        undecided: list[Undecided] = []
        warnings: list[str] = []
        start = Pair(self.child_policy, self.child, self.parent_policy, self.parent)
        # Pairs are told apart by identity: hats and children have local names.
        queue, seen = deque([start]), {(id(self.child), id(self.parent)): start}
        while queue:
            pair = queue.popleft()
            ctx = CheckContext(pair, self.prover, self.automata, self.budget, self.stats,
                               self.engine, parent_rules=self.parent_rules)
            for finding in self._findings(ctx):
                match finding:
                    case Denial():
                        denials.append(finding)
                    case Undecided():
                        undecided.append(finding)
                    case Warning(message):
                        warnings.append(message)
                    case FollowPair(follow):
                        key = (id(follow.child), id(follow.parent))
                        if key not in seen:
                            seen[key] = follow
                            queue.append(follow)
        return CheckResult(
            child=Subject(self.child_policy.file, self.child.name),
            parent=Subject(self.parent_policy.file, self.parent.name),
            denials=tuple(denials), undecided=tuple(undecided),
            warnings=tuple(dict.fromkeys(warnings)),
            queries=self.prover.queries, seconds=self.prover.seconds,
            pairs=tuple((p.child.name, p.parent.name) for p in seen.values()),
            product_states=self.stats.product_states,
            elapsed=time.perf_counter() - start_time)


def check_within(child: Policy, parent: Policy, child_profile: str | None = None,
                 parent_profile: str | None = None, rlimit: int = DEFAULT_RLIMIT,
                 engine: str = DEFAULT_ENGINE, budget: int = DEFAULT_BUDGET,
                 jobs: int = 1) -> CheckResult:
    """Run :class:`ContainmentCheck` and return its result."""
    return ContainmentCheck(child, parent, child_profile, parent_profile, rlimit,
                            engine=engine, budget=budget, jobs=jobs).run()
