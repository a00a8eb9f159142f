"""Signals: sending or receiving a signal to or from a task's label, decided on
automata over the string the kernel matches."""
from __future__ import annotations

from ..model.names import SIGNAL_PERM_WORDS, SIGNAL_PERMS, SIGNALS
from ..model.policy import Profile
from ..model.requests import SignalRequest
from ..model.rules import SignalRule
from .access_words import peer_and_signals, perm_words
from .base import Decision, RuleClass, decide_named, one_of


def decide(profile: Profile, request: SignalRequest) -> Decision:
    """Whether ``profile`` lets the task send or receive the signal."""
    return decide_named(profile, request, SignalRule, request.perm)


def parse_text(kind: str, fields: list[str]) -> SignalRequest:
    if len(fields) < 3:
        raise ValueError("expected signal:send|receive:SIGNAL:PEER")
    return SignalRequest(one_of(fields[0], SIGNAL_PERMS, "signal permission"),
                         one_of(fields[1], SIGNALS, "signal"), ":".join(fields[2:]))


def format_text(request: SignalRequest) -> str:
    return f"signal:{request.perm}:{request.signal}:{request.peer}"


def audit(request: SignalRequest) -> tuple[str, str]:
    return "signal", (f'requested_mask="{request.perm}" denied_mask="{request.perm}" '
                      f'signal={request.signal} peer="{request.peer}"')


def describe(request: SignalRequest) -> str:
    return f"signal {request.perm} {request.signal} peer={request.peer}"


def checks(engine: str) -> tuple:
    from ..verify.named_check import check_signal
    return (check_signal,)


def build(builder, decl, prefix, extra: dict) -> tuple:
    """``signal [PERMS] [set=(SIGNALS)] [peer=LABEL],``."""
    builder.no_owner(prefix, decl.kind, decl.source)
    perms = perm_words(decl, SIGNAL_PERM_WORDS, SIGNAL_PERMS)
    peer, signals = peer_and_signals(builder, decl, extra, signal=True)
    return (SignalRule(perms, frozenset(signals or SIGNALS), peer, prefix.deny, prefix.audit,
                       decl.source),)


def rule_json(rule: SignalRule) -> dict:
    return dict(kind="signal", perms=sorted(rule.perms), signals=sorted(rule.signals),
                peer=rule.peer.text if rule.peer else None)


def allow_all(source) -> tuple:
    return (SignalRule(frozenset(SIGNAL_PERMS), frozenset(SIGNALS), source=source),)


# Statements that overlap one another, for the engines' agreement test.
SAMPLE_RULES = ('signal send set=(kill) peer=libvirtd,', 'signal,', 'signal receive,',
                'deny signal send set=(hup term),',
                'signal (send, receive) peer=libvirt-*,')

SIGNAL = RuleClass("signal", SignalRequest, SignalRule, decide, ("signal",), parse_text,
                   format_text, audit, describe, checks, ("signal",), build, rule_json,
                   sample_rules=SAMPLE_RULES,
                   allow_all=allow_all)
