"""io_uring: a kernel polling thread, or ring work run with another task's
credentials (:mod:`lsmsim.model.task_classes`)."""
from __future__ import annotations

from ..model.policy import Profile
from ..model.task_classes import IoUringRequest, IoUringRule
from .base import Decision, RuleClass, decide_named
from .statement import build_statement


def decide(profile: Profile, request: IoUringRequest) -> Decision:
    """Whether ``profile`` allows the io_uring access."""
    return decide_named(profile, request, IoUringRule, request.perm)


def parse_text(kind: str, fields: list[str]) -> IoUringRequest:
    if fields[:1] == ["sqpoll"] and len(fields) == 1:
        return IoUringRequest("sqpoll")
    if fields[:1] == ["override_creds"] and len(fields) >= 2:
        return IoUringRequest("override_creds", ":".join(fields[1:]))
    raise ValueError("expected io_uring:sqpoll or io_uring:override_creds:LABEL")


def format_text(request: IoUringRequest) -> str:
    return f"io_uring:{request.perm}" + (f":{request.label}" if request.label else "")


def audit(request: IoUringRequest) -> tuple[str, str]:
    operation = "uring_sqpoll" if request.perm == "sqpoll" else "uring_override"
    return operation, (f'class="io_uring" error=-13 requested="{request.perm}" '
                       f'denied="{request.perm}"'
                       + (f' tcontext="{request.label}"' if request.label else ""))


def checks(engine: str) -> tuple:
    from ..verify.task_check import check_io_uring
    return (check_io_uring,)


def rule_json(rule: IoUringRule) -> dict:
    return dict(kind="io_uring", perms=sorted(rule.perms),
                label=rule.label.text if rule.label else None)


def allow_all(source) -> tuple:
    return (IoUringRule(source=source),)


# Statements that overlap one another, for the engines' agreement test.
SAMPLE_RULES = ('io_uring,', 'io_uring sqpoll,', 'io_uring override_creds label=foo,',
                'deny io_uring sqpoll,', 'io_uring override_creds label=f*,',
                'deny io_uring override_creds label=foo,')

IO_URING = RuleClass("io_uring", IoUringRequest, IoUringRule, decide, ("io_uring",),
                     parse_text, format_text, audit, str, checks, ("io_uring",),
                     build_statement, rule_json,
                     sample_rules=SAMPLE_RULES,
                     allow_all=allow_all)
