"""Sockets: a finite set of (family, type, protocol), decided by enumeration on
automata. Rules with permissions or address conditions (AppArmor 4) are kept as
text and make the class undecided."""
from __future__ import annotations

import re

from ..errors import PolicyError
from ..model.names import NETWORK_FAMILIES, NETWORK_PERM_WORDS, PROTOCOLS, SOCKET_TYPES
from ..model.policy import Profile
from ..model.requests import NetworkRequest
from ..model.rules import NetworkRule, OtherRule
from .base import Decision, RuleClass, decide_named, one_of


def decide(profile: Profile, request: NetworkRequest) -> Decision:
    """Whether ``profile`` lets the task create the socket."""
    return decide_named(profile, request, NetworkRule, "create")


def parse_text(kind: str, fields: list[str]) -> NetworkRequest:
    if len(fields) not in (2, 3):
        raise ValueError("expected network:FAMILY:TYPE[:PROTOCOL]")
    return NetworkRequest(one_of(fields[0], NETWORK_FAMILIES, "family"),
                          one_of(fields[1], SOCKET_TYPES, "socket type"),
                          fields[2] if len(fields) == 3 else None)


def format_text(request: NetworkRequest) -> str:
    return (f"network:{request.family}:{request.sock_type}"
            + (f":{request.protocol}" if request.protocol else ""))


def audit(request: NetworkRequest) -> tuple[str, str]:
    number = PROTOCOLS[request.protocol][0] if request.protocol else 0
    return "create", (f'family="{request.family}" sock_type="{request.sock_type}" '
                      f'protocol={number} requested_mask="create" denied_mask="create"')


def describe(request: NetworkRequest) -> str:
    return (f"network {request.family} {request.sock_type}"
            + (f" {request.protocol}" if request.protocol else ""))


def checks(engine: str) -> tuple:
    from ..verify.named_check import check_network
    return (check_network,)


def build(builder, decl, prefix, extra: dict) -> tuple:
    """``network [perms] [family] [type|protocol] [conditions],``. Rules with
    permissions or address conditions (AppArmor 4) are validated and kept as
    :class:`OtherRule`: the checker does not reason about them yet."""
    from ..frontends.apparmor.netconds import check_conditions
    builder.no_owner(prefix, "network", decl.source)
    family = sock_type = protocol = None
    perms: list[str] = []
    conditions = list(decl.conditions)
    words = list(decl.names)
    try:
        while words:
            word = words.pop(0)
            if word.startswith("("):
                items = [w for w in re.split(r"[\s,()]+", word) if w]
                if not items or not set(items) <= NETWORK_PERM_WORDS:
                    raise ValueError(f"invalid network permissions {word!r}")
                perms.extend(items)
            elif word in NETWORK_PERM_WORDS and family is sock_type is protocol is None:
                perms.append(word)
            elif word in NETWORK_FAMILIES and family is sock_type is protocol is None:
                family = word
            elif word in SOCKET_TYPES and sock_type is None and protocol is None:
                sock_type = word
            elif word in PROTOCOLS and sock_type is None and protocol is None:
                protocol = word
            else:
                raise ValueError(f"invalid network entry {word!r}")
        check_conditions(conditions, family, frozenset(perms))
    except ValueError as error:
        raise PolicyError(str(error), decl.source.position) from None
    if perms or conditions:
        return (OtherRule("network", " ".join((*decl.names, *(f"{k}={v}" for k, v in
                                                              decl.conditions))),
                          prefix.deny, prefix.audit, decl.source),)
    return (NetworkRule(family, sock_type, protocol, prefix.deny, prefix.audit, decl.source),)


def rule_json(rule: NetworkRule) -> dict:
    return dict(kind="network", family=rule.family, type=rule.sock_type, protocol=rule.protocol)


def allow_all(source) -> tuple:
    return (NetworkRule(source=source),)


# Statements that overlap one another, for the engines' agreement test.
SAMPLE_RULES = ('network inet stream,', 'network,', 'network inet6,', 'deny network inet,',
                'network unix dgram,', 'network tcp,')

NETWORK = RuleClass("network", NetworkRequest, NetworkRule, decide, ("network",), parse_text,
                    format_text, audit, describe, checks, ("network",), build, rule_json,
                    sample_rules=SAMPLE_RULES,
                    allow_all=allow_all)
