"""Creating a user namespace (:mod:`lsmsim.model.task_classes`)."""
from __future__ import annotations

from ..model.policy import Profile
from ..model.task_classes import UsernsRequest, UsernsRule
from .base import Decision, RuleClass, decide_named
from .statement import build_statement


def decide(profile: Profile, request: UsernsRequest) -> Decision:
    """Whether ``profile`` lets the task create a user namespace."""
    return decide_named(profile, request, UsernsRule, request.perm)


def parse_text(kind: str, fields: list[str]) -> UsernsRequest:
    if fields not in ([], ["create"]):
        raise ValueError("expected userns[:create]")
    return UsernsRequest()


def format_text(request: UsernsRequest) -> str:
    return "userns:create"


def audit(request: UsernsRequest) -> tuple[str, str]:
    return f"userns_{request.perm}", (f'class="namespace" error=-13 '
                                      f'requested="userns_{request.perm}" '
                                      f'denied="userns_{request.perm}"')


def checks(engine: str) -> tuple:
    from ..verify.task_check import check_userns
    return (check_userns,)


def rule_json(rule: UsernsRule) -> dict:
    return dict(kind="userns", perms=sorted(rule.perms))


def allow_all(source) -> tuple:
    return (UsernsRule(source=source),)


# Statements that overlap one another, for the engines' agreement test.
SAMPLE_RULES = ('userns,', 'userns create,', 'deny userns,')

USERNS = RuleClass("userns", UsernsRequest, UsernsRule, decide, ("userns",), parse_text,
                   format_text, audit, str, checks, ("userns",), build_statement, rule_json,
                   sample_rules=SAMPLE_RULES,
                   allow_all=allow_all)
