"""mount, umount and pivot_root: the fields the kernel matches as one string per
request (:mod:`lsmsim.model.mount`), decided on automata."""
from __future__ import annotations

from ..model.mount import (FLAG_BITS, MOUNT, OPERATIONS, PIVOT_ROOT, UMOUNT, MountEntry,
                           MountRequest, MountRule, mount_audit_fields)
from ..model.policy import Profile
from .base import Decision, RuleClass, decide_named
from .statement import build_statement


def decide(profile: Profile, request: MountRequest) -> Decision:
    """Whether ``profile`` allows the mount, umount or pivot_root."""
    return decide_named(profile, request, MountRule, request.operation)


def _fields(text: str, known: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in filter(None, text.split(",")):
        name, eq, value = item.partition("=")
        if not eq or name not in known:
            raise ValueError(f"{item!r}: fields are {', '.join(known)}")
        out[name] = value
    return out


def _mount(fields: list[str]) -> MountRequest:
    if not fields or not fields[0].startswith("/"):
        raise ValueError("expected mount:MOUNTPOINT[:source=S,fstype=T,flags=F+F...]")
    given = _fields(":".join(fields[1:]), ("source", "fstype", "flags"))
    try:
        flags = frozenset(FLAG_BITS["MS_" + f.upper().removeprefix("MS_")]
                          for f in filter(None, given.get("flags", "").split("+")))
    except KeyError as error:
        raise ValueError(f"unknown mount flag {error.args[0]!r}; flags: "
                         f"{', '.join(sorted(FLAG_BITS))}") from None
    return MountRequest(MOUNT, fields[0], given.get("source", ""), given.get("fstype", ""),
                        flags)


def _umount(fields: list[str]) -> MountRequest:
    if len(fields) != 1 or not fields[0].startswith("/"):
        raise ValueError("expected umount:MOUNTPOINT")
    return MountRequest(UMOUNT, fields[0])


def _pivot_root(fields: list[str]) -> MountRequest:
    if len(fields) != 2:
        raise ValueError("expected pivot_root:NEW_ROOT:OLD_ROOT")
    return MountRequest(PIVOT_ROOT, fields[0], fields[1])


_PARSERS = {MOUNT: _mount, UMOUNT: _umount, PIVOT_ROOT: _pivot_root}


def parse_text(kind: str, fields: list[str]) -> MountRequest:
    return _PARSERS[kind](fields)


def format_text(request: MountRequest) -> str:
    if request.operation == UMOUNT:
        return f"umount:{request.mountpoint}"
    if request.operation == PIVOT_ROOT:
        return f"pivot_root:{request.mountpoint}:{request.source}"
    given = [("source", request.source), ("fstype", request.fstype),
             ("flags", "+".join(request.flag_names()))]
    return f"mount:{request.mountpoint}" + "".join(
        f"{',' if i else ':'}{k}={v}" for i, (k, v) in
        enumerate((k, v) for k, v in given if v))


def audit(request: MountRequest) -> tuple[str, str]:
    operation = {PIVOT_ROOT: "pivotroot"}.get(request.operation, request.operation)
    return operation, "error=-13 " + mount_audit_fields(request)


def checks(engine: str) -> tuple:
    from ..verify.mount_check import check_mount
    return (check_mount,)


def rule_json(rule: MountRule) -> dict:
    return dict(kind="mount", operation=rule.operation, text=rule.text,
                target=rule.target, entries=[_entry_json(e) for e in rule.entries])


def _entry_json(entry) -> dict:
    def text(glob):
        return glob.text if glob is not None else None
    return {"operation": entry.operation, "mountpoint": text(entry.mountpoint),
            "source": text(entry.source),
            "fstypes": [g.text for g in entry.fstypes] if entry.fstypes is not None else None,
            "flags": str(entry.flags)}


# The statement keywords (the front end's MOUNT_KINDS).
KEYWORDS = ("mount", "remount", "umount", "unmount", "pivot_root")

def allow_all(source) -> tuple:
    return (MountRule("mount", "every mount, umount and pivot_root",
                      tuple(MountEntry(op) for op in OPERATIONS), source=source),)


# Statements that overlap one another, for the engines' agreement test.
SAMPLE_RULES = ('mount,', 'mount fstype=ext4 /dev/sd* -> /a/,', 'umount /a/,',
                'pivot_root,', 'deny mount options=(ro) -> /a/**,', 'remount /a/,',
                'mount options=(bind) /a/ -> /b/,')

MOUNT_CLASS = RuleClass("mount", MountRequest, MountRule, decide, (MOUNT, UMOUNT, PIVOT_ROOT),
                        parse_text, format_text, audit, str, checks, KEYWORDS,
                        build_statement, rule_json,
                        sample_rules=SAMPLE_RULES,
                        allow_all=allow_all)
