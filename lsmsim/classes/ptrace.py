"""ptrace: reading or tracing a task (or being read or traced by one), decided on
automata over the peer's label."""
from __future__ import annotations

from ..model.names import PTRACE_PERM_WORDS, PTRACE_PERMS
from ..model.policy import Profile
from ..model.requests import PtraceRequest
from ..model.rules import PtraceRule
from .access_words import peer_and_signals, perm_words
from .base import Decision, RuleClass, decide_named, one_of


def decide(profile: Profile, request: PtraceRequest) -> Decision:
    """Whether ``profile`` allows the ptrace access."""
    return decide_named(profile, request, PtraceRule, request.perm)


def parse_text(kind: str, fields: list[str]) -> PtraceRequest:
    if len(fields) < 2:
        raise ValueError("expected ptrace:PERM:PEER")
    return PtraceRequest(one_of(fields[0], PTRACE_PERMS, "ptrace permission"),
                         ":".join(fields[1:]))


def format_text(request: PtraceRequest) -> str:
    return f"ptrace:{request.perm}:{request.peer}"


def audit(request: PtraceRequest) -> tuple[str, str]:
    return "ptrace", (f'requested_mask="{request.perm}" denied_mask="{request.perm}" '
                      f'peer="{request.peer}"')


def describe(request: PtraceRequest) -> str:
    return f"ptrace {request.perm} peer={request.peer}"


def checks(engine: str) -> tuple:
    from ..verify.named_check import check_ptrace
    return (check_ptrace,)


def build(builder, decl, prefix, extra: dict) -> tuple:
    """``ptrace [PERMS] [peer=LABEL],``."""
    builder.no_owner(prefix, decl.kind, decl.source)
    perms = perm_words(decl, PTRACE_PERM_WORDS, PTRACE_PERMS)
    peer, _ = peer_and_signals(builder, decl, extra, signal=False)
    return (PtraceRule(perms, peer, prefix.deny, prefix.audit, decl.source),)


def rule_json(rule: PtraceRule) -> dict:
    return dict(kind="ptrace", perms=sorted(rule.perms),
                peer=rule.peer.text if rule.peer else None)


def allow_all(source) -> tuple:
    return (PtraceRule(frozenset(PTRACE_PERMS), source=source),)


# Statements that overlap one another, for the engines' agreement test.
SAMPLE_RULES = ('ptrace read,', 'ptrace trace peer=libvirtd,', 'ptrace,',
                'deny ptrace (readby, tracedby),', 'ptrace peer={a,b}*,')

PTRACE = RuleClass("ptrace", PtraceRequest, PtraceRule, decide, ("ptrace",), parse_text,
                   format_text, audit, describe, checks, ("ptrace",), build, rule_json,
                   sample_rules=SAMPLE_RULES,
                   allow_all=allow_all)
