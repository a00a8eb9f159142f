"""change_profile: a task moving itself to another profile, now or at its next exec
(:mod:`lsmsim.model.change_profile`)."""
from __future__ import annotations

from ..errors import PolicyError
from ..model.change_profile import ChangeProfileRequest, ChangeProfileRule
from ..model.policy import Profile
from .base import Decision, RuleClass, decide_named


def decide(profile: Profile, request: ChangeProfileRequest) -> Decision:
    """Whether ``profile`` lets the task change to ``request.target``."""
    return decide_named(profile, request, ChangeProfileRule, "change_profile")


def parse_text(kind: str, fields: list[str]) -> ChangeProfileRequest:
    exec_path = None
    if len(fields) > 1 and fields[-1].startswith("onexec="):
        exec_path = fields.pop().removeprefix("onexec=")
    if not fields or not fields[-1]:
        raise ValueError("expected change_profile:TARGET[:onexec=PATH]")
    return ChangeProfileRequest(":".join(fields), exec_path)


def format_text(request: ChangeProfileRequest) -> str:
    return f"change_profile:{request.target}" + (
        f":onexec={request.exec}" if request.exec else "")


def audit(request: ChangeProfileRequest) -> tuple[str, str]:
    if request.exec is None:
        return "change_profile", f'name="{request.target}"'
    return "change_onexec", f'name="{request.exec}" target="{request.target}"'


def checks(engine: str) -> tuple:
    from ..verify import change_profile_check, change_profile_strings
    return ((change_profile_check if engine == "z3" else change_profile_strings)
            .check_change_profile,)


def build(builder, decl, prefix, extra: dict) -> tuple:
    """``change_profile [safe|unsafe] [EXEC] [-> TARGET],``."""
    from ..frontends.apparmor.change_profile import build_change_profile_rule
    builder.no_owner(prefix, decl.kind, decl.source)
    try:
        return (build_change_profile_rule(decl.body, prefix.deny, prefix.audit, decl.source,
                                          lambda raw: builder.expand(raw, decl.source, extra)),)
    except ValueError as error:
        raise PolicyError(str(error), decl.source.position) from None


def rule_json(rule: ChangeProfileRule) -> dict:
    return dict(kind="change_profile", exec=rule.exec.text if rule.exec else None,
                target=rule.target.text, unsafe=rule.unsafe)


def allow_all(source) -> tuple:
    """A change to every label, now and at every exec."""
    return (ChangeProfileRule(source=source),)


def describe(request: ChangeProfileRequest) -> str:
    when = f" at exec of {request.exec}" if request.exec is not None else ""
    return f"change_profile{when} -> {request.target}"


# Statements that overlap one another, for the engines' agreement test.
SAMPLE_RULES = ('change_profile -> other,', 'change_profile,',
                'change_profile /usr/bin/a -> b,', 'deny change_profile -> unconfined,',
                'change_profile -> o*,', 'change_profile /usr/bin/* -> &b,',
                'deny change_profile -> /usr/bin/a,', 'change_profile -> unconfined,',
                'deny change_profile /usr/bin/{a,c} -> o*,', 'change_profile -> c,')

CHANGE_PROFILE = RuleClass("change_profile", ChangeProfileRequest, ChangeProfileRule, decide,
                           ("change_profile",), parse_text, format_text, audit, describe, checks,
                           ("change_profile",), build, rule_json,
                           sample_rules=SAMPLE_RULES,
                           allow_all=allow_all)
