"""POSIX and System V message queues (:mod:`lsmsim.model.mqueue`), decided with Z3
on both engines."""
from __future__ import annotations

from ..model.mqueue import MQUEUE_PERMS, MQUEUE_TYPES, MqueueRequest, MqueueRule
from ..model.policy import Profile
from .base import Decision, RuleClass, decide_named, one_of
from .statement import build_statement


def decide(profile: Profile, request: MqueueRequest) -> Decision:
    """Whether ``profile`` allows the queue access."""
    return decide_named(profile, request, MqueueRule, request.perm)


def parse_text(kind: str, fields: list[str]) -> MqueueRequest:
    if len(fields) not in (3, 4):
        raise ValueError("expected mqueue:PERM:posix|sysv:NAME[:LABEL]")
    return MqueueRequest(one_of(fields[0], MQUEUE_PERMS, "mqueue permission"),
                         one_of(fields[1], MQUEUE_TYPES, "mqueue type"), fields[2],
                         fields[3] if len(fields) == 4 else "")


def format_text(request: MqueueRequest) -> str:
    return (f"mqueue:{request.perm}:{request.queue_type}:{request.name}"
            + (f":{request.label}" if request.label else ""))


def audit(request: MqueueRequest) -> tuple[str, str]:
    return f"mqueue_{request.perm}", (
        f'class="{request.queue_type}_mqueue" error=-13 name="{request.name}" '
        f'requested="{request.perm}" denied="{request.perm}" peer="{request.label}"')


def checks(engine: str) -> tuple:
    from ..verify.mqueue_check import check_mqueue
    return (check_mqueue,)


def rule_json(rule: MqueueRule) -> dict:
    return dict(kind="mqueue", perms=sorted(rule.perms), type=rule.queue_type,
                name=rule.name.text if rule.name else None,
                label=rule.label.text if rule.label else None)


def allow_all(source) -> tuple:
    return (MqueueRule(frozenset(MQUEUE_PERMS), source=source),)


# Statements that overlap one another, for the engines' agreement test.
SAMPLE_RULES = ('mqueue,', 'mqueue open type=posix /q*,', 'mqueue (read write) type=sysv,',
                'deny mqueue create,', 'mqueue type=posix,', 'deny mqueue read /q1,',
                'mqueue create type=sysv 12,')

MQUEUE = RuleClass("mqueue", MqueueRequest, MqueueRule, decide, ("mqueue",), parse_text,
                   format_text, audit, str, checks, ("mqueue",), build_statement, rule_json,
                   sample_rules=SAMPLE_RULES,
                   allow_all=allow_all)
