"""dbus and unix sockets: a permission and a string per condition field, decided on
automata over the strings the kernel matches."""
from __future__ import annotations

from ..model.names import IPC_CLASSES
from ..model.policy import Profile
from ..model.requests import IpcRequest
from ..model.rules import IpcRule
from .base import Decision, RuleClass, decide_named, one_of


def decide(profile: Profile, request: IpcRequest) -> Decision:
    """Whether ``profile`` allows the dbus or unix access."""
    return decide_named(profile, request, IpcRule, request.perm)


def parse_text(kind: str, fields: list[str]) -> IpcRequest:
    shape = IPC_CLASSES[kind]
    if not fields:
        raise ValueError(f"expected {kind}:PERM[:FIELD=VALUE,...]")
    perm = one_of(fields[0], shape.perms, f"{kind} permission")
    given = {}
    for item in filter(None, ":".join(fields[1:]).split(",")):
        name, eq, value = item.partition("=")
        if not eq or name not in shape.all_fields:
            raise ValueError(f"{item!r}: fields of {kind} are {', '.join(shape.all_fields)}")
        given[name] = value
    return IpcRequest(kind, perm, tuple((f, given.get(f, "")) for f in shape.all_fields))


def format_text(request: IpcRequest) -> str:
    return f"{request.kind}:{request.perm}:" + ",".join(
        f"{k}={v}" for k, v in request.fields if v)


def audit(request: IpcRequest) -> tuple[str, str]:
    values = " ".join(f'{name}="{value}"' for name, value in request.fields)
    return f"{request.kind}_{request.perm}", (f'requested_mask="{request.perm}" '
                                              f'denied_mask="{request.perm}" {values}')


def describe(request: IpcRequest) -> str:
    return f"{request.kind} {request.perm} " + " ".join(
        f"{name}={value!r}" for name, value in request.fields if value)


def checks(engine: str) -> tuple:
    from ..verify.named_check import check_ipc
    return (check_ipc,)


def build(builder, decl, prefix, extra: dict) -> tuple:
    """``dbus ...,`` and ``unix ...,``."""
    from ..frontends.apparmor.ipc import build_ipc_rule
    rule = build_ipc_rule(decl, prefix,
                          lambda text: builder.expand(text, decl.source, extra))
    builder.no_owner(prefix, decl.kind, decl.source)
    return (rule,)


def rule_json(rule: IpcRule) -> dict:
    return dict(kind=rule.kind, perms=sorted(rule.perms),
                conditions={field: glob.text for field, glob in rule.conditions})


def allow_all(source) -> tuple:
    """Every permission of dbus and of unix sockets, whatever the fields."""
    return tuple(IpcRule(kind, frozenset(shape.perms), source=source)
                 for kind, shape in IPC_CLASSES.items())


# Statements that overlap one another, for the engines' agreement test.
SAMPLE_RULES = ('dbus send bus=session,', 'dbus,', 'dbus bind name=org.*,',
                'unix (connect) type=stream,', 'unix addr=@a,', 'deny unix send,',
                'dbus receive peer=(label=libvirtd),')

IPC = RuleClass("ipc", IpcRequest, IpcRule, decide, tuple(IPC_CLASSES), parse_text,
                format_text, audit, describe, checks, tuple(IPC_CLASSES), build, rule_json,
                sample_rules=SAMPLE_RULES,
                allow_all=allow_all)
