"""Capabilities: a finite set of names, decided by enumeration on automata."""
from __future__ import annotations

from ..errors import PolicyError
from ..model.names import CAPABILITIES
from ..model.policy import Profile
from ..model.requests import CapabilityRequest
from ..model.rules import CapabilityRule
from .base import Decision, RuleClass, decide_named, one_of


def decide(profile: Profile, request: CapabilityRequest) -> Decision:
    """Whether ``profile`` grants the capability."""
    return decide_named(profile, request, CapabilityRule, request.name)


def parse_text(kind: str, fields: list[str]) -> CapabilityRequest:
    if len(fields) != 1:
        raise ValueError("expected capability:NAME")
    return CapabilityRequest(one_of(fields[0], CAPABILITIES, "capability"))


def format_text(request: CapabilityRequest) -> str:
    return f"capability:{request.name}"


def audit(request: CapabilityRequest) -> tuple[str, str]:
    return "capable", (f'capability={CAPABILITIES.index(request.name)} '
                       f'capname="{request.name}"')


def describe(request: CapabilityRequest) -> str:
    return f"capability {request.name}"


def checks(engine: str) -> tuple:
    from ..verify.named_check import check_capabilities
    return (check_capabilities,)


def build(builder, decl, prefix, extra: dict) -> tuple:
    """``capability [NAMES],``: no names means every capability."""
    builder.no_owner(prefix, "capability", decl.source)
    for name in decl.names:
        if name not in CAPABILITIES:
            raise PolicyError(f"invalid capability {name!r}", decl.source.position)
    names = frozenset(decl.names) if decl.names else frozenset(CAPABILITIES)
    return (CapabilityRule(names, prefix.deny, prefix.audit, decl.source),)


def rule_json(rule: CapabilityRule) -> dict:
    return dict(kind="capability", names=sorted(rule.names))


def allow_all(source) -> tuple:
    return (CapabilityRule(frozenset(CAPABILITIES), source=source),)


# Statements that overlap one another, for the engines' agreement test.
SAMPLE_RULES = ('capability chown,', 'capability,', 'capability sys_admin net_admin,',
                'deny capability chown,', 'capability dac_override,')

CAPABILITY = RuleClass("capability", CapabilityRequest, CapabilityRule, decide, ("capability",),
                       parse_text, format_text, audit, describe, checks, ("capability",),
                       build, rule_json,
                       sample_rules=SAMPLE_RULES,
                       allow_all=allow_all)
