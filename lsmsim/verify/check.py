"""``child ⊆ parent``: the containment check over every class and every pair of
profiles that exec transitions lead to."""
from __future__ import annotations

from collections import deque
from typing import Callable, Iterable, Iterator

from ..errors import PolicyError, Position, UsageError
from ..model.policy import Policy, Profile
from .context import CheckContext, FollowPair, Pair, Warning
from .change_profile_check import check_change_profile
from .exec_check import check_exec
from .file_check import check_files
from .hat_check import check_hats
from .link_check import check_links
from .named_check import (check_capabilities, check_ipc, check_network, check_ptrace,
                          check_signal, check_unmodelled)
from .mount_check import check_mount
from .mqueue_check import check_mqueue
from .task_check import check_io_uring, check_userns
from .prover import DEFAULT_RLIMIT, Prover
from .result import CheckResult, Denial, Subject, Undecided

ClassCheck = Callable[[CheckContext], Iterator[object]]

# One entry per mediated class; a new rule kind adds its check here.
CLASS_CHECKS: tuple[ClassCheck, ...] = (check_files, check_exec, check_capabilities, check_network,
                                         check_signal, check_ptrace, check_ipc, check_mount,
                                         check_userns, check_io_uring, check_mqueue,
                                         check_links, check_change_profile, check_hats,
                                         check_unmodelled)


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
    raise UsageError(f"{policy.file}: defines several profiles, name one of: "
                     f"{', '.join(policy.profile_names())}")


class ContainmentCheck:
    """Proves that ``child`` (a profile of ``child_policy``) stays within ``parent``.

    ``checks`` are the per-class analyses run on each pair of profiles; ``rlimit``
    bounds each solver query (a query that hits it makes the result undecided).
    """

    def __init__(self, child_policy: Policy, parent_policy: Policy, child: str | None = None,
                 parent: str | None = None, rlimit: int = DEFAULT_RLIMIT,
                 checks: Iterable[ClassCheck] = CLASS_CHECKS):
        self.child_policy = child_policy
        self.parent_policy = parent_policy
        self.child = select_profile(child_policy, child)
        self.parent = select_profile(parent_policy, parent)
        self.prover = Prover(rlimit)
        self.checks = tuple(checks)

    def run(self) -> CheckResult:
        denials: list[Denial] = []
        undecided: list[Undecided] = []
        warnings: list[str] = []
        start = Pair(self.child_policy, self.child, self.parent_policy, self.parent)
        # Pairs are told apart by identity: hats and children have local names.
        queue, seen = deque([start]), {(id(self.child), id(self.parent)): start}
        while queue:
            pair = queue.popleft()
            ctx = CheckContext(pair, self.prover)
            for check in self.checks:
                for finding in check(ctx):
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
            pairs=tuple((p.child.name, p.parent.name) for p in seen.values()))


def check_within(child: Policy, parent: Policy, child_profile: str | None = None,
                 parent_profile: str | None = None, rlimit: int = DEFAULT_RLIMIT) -> CheckResult:
    """Run :class:`ContainmentCheck` and return its result."""
    return ContainmentCheck(child, parent, child_profile, parent_profile, rlimit).run()
