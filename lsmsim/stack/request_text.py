"""Requests written as one line of text (``lsmsim simulate --request``).

``CLASS:FIELD:FIELD...``, e.g. ``file:/etc/shadow:r``, ``file:/home/a/x:rw:owner``,
``exec:/usr/bin/mount``, ``capability:sys_admin``, ``network:inet:stream``,
``signal:send:kill:unconfined``, ``ptrace:trace:libvirtd``,
``dbus:send:bus=system,path=/org/x``, ``unix:connect:addr=@foo``,
``mount:/mnt:source=/dev/sda1,fstype=ext4,flags=MS_RDONLY+MS_NOSUID``, ``umount:/mnt``,
``pivot_root:NEW:OLD``, ``mqueue:open:posix:/q``, ``userns:create``, ``io_uring:sqpoll``,
``link:/tmp/l:/etc/passwd``, ``change_profile:other`` (``:onexec=/usr/bin/x`` for a change
at exec),
``selinux:SCON:TCON:CLASS:PERM[:BOOL=on|off,...]`` (contexts are
``user:role:type[:level]``; the booleans set the task's layer's own).
:func:`request_to_text` writes any request back in this form.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import PolicyError, Position, UsageError
from ..model.change_profile import ChangeProfileRequest
from ..model.link import LinkRequest
from ..model.mount import FLAG_BITS, MOUNT, PIVOT_ROOT, UMOUNT, MountRequest
from ..model.mqueue import MQUEUE_PERMS, MQUEUE_TYPES, MqueueRequest
from ..model.names import (CAPABILITIES, IPC_CLASSES, NETWORK_FAMILIES, PTRACE_PERMS,
                           SIGNAL_PERMS, SIGNALS, SOCKET_TYPES)
from ..model.requests import (CapabilityRequest, ExecRequest, FileRequest, IpcRequest,
                              NetworkRequest, PtraceRequest, Request, SignalRequest, sorted_perms)
from ..model.rules import FILE_PERMS
from ..model.selinux import SELinuxRequest, parse_context
from ..model.task_classes import IoUringRequest, UsernsRequest

_LEVEL_PART = re.compile(r"^(s\d+|c\d+)")


def _one_of(value: str, allowed, what: str) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}")
    return value


def _file(fields: list[str]) -> FileRequest:
    owner = bool(fields) and fields[-1] in ("owner", "other") and fields.pop() == "owner"
    if len(fields) < 2:
        raise ValueError("expected file:PATH:PERMS[:owner]")
    path, perms = ":".join(fields[:-1]), fields[-1]
    if not path.startswith("/") or not perms or set(perms) - set(FILE_PERMS):
        raise ValueError(f"expected an absolute path and letters of {FILE_PERMS!r}")
    return FileRequest(path, frozenset(perms), owner)


def _exec(fields: list[str]) -> ExecRequest:
    owner = bool(fields) and fields[-1] in ("owner", "other") and fields.pop() == "owner"
    path = ":".join(fields)
    if not path.startswith("/"):
        raise ValueError("expected exec:PATH[:owner]")
    return ExecRequest(path, "x", None, owner)


def _capability(fields: list[str]) -> CapabilityRequest:
    if len(fields) != 1:
        raise ValueError("expected capability:NAME")
    return CapabilityRequest(_one_of(fields[0], CAPABILITIES, "capability"))


def _network(fields: list[str]) -> NetworkRequest:
    if len(fields) not in (2, 3):
        raise ValueError("expected network:FAMILY:TYPE[:PROTOCOL]")
    return NetworkRequest(_one_of(fields[0], NETWORK_FAMILIES, "family"),
                          _one_of(fields[1], SOCKET_TYPES, "socket type"),
                          fields[2] if len(fields) == 3 else None)


def _signal(fields: list[str]) -> SignalRequest:
    if len(fields) < 3:
        raise ValueError("expected signal:send|receive:SIGNAL:PEER")
    return SignalRequest(_one_of(fields[0], SIGNAL_PERMS, "signal permission"),
                         _one_of(fields[1], SIGNALS, "signal"), ":".join(fields[2:]))


def _ptrace(fields: list[str]) -> PtraceRequest:
    if len(fields) < 2:
        raise ValueError("expected ptrace:PERM:PEER")
    return PtraceRequest(_one_of(fields[0], PTRACE_PERMS, "ptrace permission"),
                         ":".join(fields[1:]))


def _ipc(kind: str, fields: list[str]) -> IpcRequest:
    shape = IPC_CLASSES[kind]
    if not fields:
        raise ValueError(f"expected {kind}:PERM[:FIELD=VALUE,...]")
    perm = _one_of(fields[0], shape.perms, f"{kind} permission")
    given = {}
    for item in filter(None, ":".join(fields[1:]).split(",")):
        name, eq, value = item.partition("=")
        if not eq or name not in shape.all_fields:
            raise ValueError(f"{item!r}: fields of {kind} are {', '.join(shape.all_fields)}")
        given[name] = value
    return IpcRequest(kind, perm, tuple((f, given.get(f, "")) for f in shape.all_fields))


def _split_contexts(fields: list[str]) -> tuple[str, str]:
    """``user:role:type[:level]:user:role:type[:level]`` → the two contexts."""
    end = 3
    while end < len(fields) and _LEVEL_PART.match(fields[end]):
        end += 1
    return ":".join(fields[:end]), ":".join(fields[end:])


def _booleans(text: str) -> tuple[tuple[str, bool], ...]:
    values = {"on": True, "off": False}
    out = []
    for item in text.split(","):
        name, _, value = item.partition("=")
        if not name or value not in values:
            raise ValueError(f"{item!r}: booleans are written NAME=on or NAME=off")
        out.append((name, values[value]))
    return tuple(out)


def _selinux(fields: list[str]) -> SELinuxRequest:
    booleans = _booleans(fields.pop()) if fields and "=" in fields[-1] else ()
    if len(fields) < 8:
        raise ValueError("expected selinux:SCONTEXT:TCONTEXT:CLASS:PERM[:BOOL=on|off,...]")
    *contexts, tclass, perm = fields
    scon, tcon = _split_contexts(contexts)
    return SELinuxRequest(parse_context(scon), parse_context(tcon), tclass, perm, booleans)


def _fields(text: str, known: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in filter(None, text.split(",")):
        name, eq, value = item.partition("=")
        if not eq or name not in known:
            raise ValueError(f"{item!r}: fields are {', '.join(known)}")
        out[name] = value
    return out


def _link(fields: list[str]) -> LinkRequest:
    owner = bool(fields) and fields[-1] in ("owner", "other") and fields.pop() == "owner"
    if len(fields) != 2 or not all(f.startswith("/") for f in fields):
        raise ValueError("expected link:LINK:TARGET[:owner] (absolute paths)")
    return LinkRequest(fields[0], fields[1], owner)


def _change_profile(fields: list[str]) -> ChangeProfileRequest:
    exec_path = None
    if len(fields) > 1 and fields[-1].startswith("onexec="):
        exec_path = fields.pop().removeprefix("onexec=")
    if not fields or not fields[-1]:
        raise ValueError("expected change_profile:TARGET[:onexec=PATH]")
    return ChangeProfileRequest(":".join(fields), exec_path)


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


def _mqueue(fields: list[str]) -> MqueueRequest:
    if len(fields) not in (3, 4):
        raise ValueError("expected mqueue:PERM:posix|sysv:NAME[:LABEL]")
    return MqueueRequest(_one_of(fields[0], MQUEUE_PERMS, "mqueue permission"),
                         _one_of(fields[1], MQUEUE_TYPES, "mqueue type"), fields[2],
                         fields[3] if len(fields) == 4 else "")


def _userns(fields: list[str]) -> UsernsRequest:
    if fields not in ([], ["create"]):
        raise ValueError("expected userns[:create]")
    return UsernsRequest()


def _io_uring(fields: list[str]) -> IoUringRequest:
    if fields[:1] == ["sqpoll"] and len(fields) == 1:
        return IoUringRequest("sqpoll")
    if fields[:1] == ["override_creds"] and len(fields) >= 2:
        return IoUringRequest("override_creds", ":".join(fields[1:]))
    raise ValueError("expected io_uring:sqpoll or io_uring:override_creds:LABEL")


_PARSERS = {"file": _file, "exec": _exec, "capability": _capability, "network": _network,
            "signal": _signal, "ptrace": _ptrace, "selinux": _selinux, "mount": _mount,
            "umount": _umount, "pivot_root": _pivot_root, "mqueue": _mqueue,
            "userns": _userns, "io_uring": _io_uring, "link": _link,
            "change_profile": _change_profile,
            **{kind: (lambda fields, kind=kind: _ipc(kind, fields)) for kind in IPC_CLASSES}}


def parse_request(text: str) -> Request | SELinuxRequest:
    """Read one request; a malformed one raises :class:`UsageError` saying why."""
    kind, _, rest = text.strip().partition(":")
    parser = _PARSERS.get(kind)
    if parser is None:
        raise UsageError(f"request {text!r}: unknown class {kind!r}; classes: "
                         f"{', '.join(_PARSERS)}")
    try:
        return parser(rest.split(":") if rest else [])
    except ValueError as error:
        raise UsageError(f"request {text!r}: {error}") from None


def read_requests(path: str | Path) -> list[tuple[Position, Request | SELinuxRequest]]:
    """A batch of requests, one per line (``#`` starts a comment)."""
    file = str(path)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        reason = "no such file" if isinstance(error, FileNotFoundError) else \
            f"cannot read: {error.strerror}"
        raise PolicyError(reason, Position(file, 1, 1)) from None
    requests = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        position = Position(file, number, line.find(text) + 1)
        try:
            requests.append((position, parse_request(text)))
        except UsageError as error:
            raise PolicyError(str(error), position) from None
    return requests


def request_to_text(request: Request | SELinuxRequest) -> str:
    """The one-line form of ``request`` (:func:`parse_request` reads it back)."""
    match request:
        case FileRequest(path=path, perms=perms, owner=owner):
            return f"file:{path}:{''.join(sorted_perms(perms))}" + (":owner" if owner else "")
        case ExecRequest(path=path, owner=owner):
            return f"exec:{path}" + (":owner" if owner else "")
        case CapabilityRequest(name=name):
            return f"capability:{name}"
        case NetworkRequest(family=family, sock_type=sock_type, protocol=protocol):
            return f"network:{family}:{sock_type}" + (f":{protocol}" if protocol else "")
        case SignalRequest(perm=perm, signal=signal, peer=peer):
            return f"signal:{perm}:{signal}:{peer}"
        case PtraceRequest(perm=perm, peer=peer):
            return f"ptrace:{perm}:{peer}"
        case IpcRequest(kind=kind, perm=perm, fields=fields):
            return f"{kind}:{perm}:" + ",".join(f"{k}={v}" for k, v in fields if v)
        case MountRequest(operation=operation, mountpoint=point, source=source, fstype=fstype):
            if operation == UMOUNT:
                return f"umount:{point}"
            if operation == PIVOT_ROOT:
                return f"pivot_root:{point}:{source}"
            given = [("source", source), ("fstype", fstype),
                     ("flags", "+".join(request.flag_names()))]
            return f"mount:{point}" + "".join(
                f"{',' if i else ':'}{k}={v}" for i, (k, v) in
                enumerate((k, v) for k, v in given if v))
        case MqueueRequest(perm=perm, queue_type=kind, name=name, label=label):
            return f"mqueue:{perm}:{kind}:{name}" + (f":{label}" if label else "")
        case UsernsRequest():
            return "userns:create"
        case LinkRequest(link=link, target=target, owner=owner):
            return f"link:{link}:{target}" + (":owner" if owner else "")
        case ChangeProfileRequest(target=target, exec=exec_path):
            return f"change_profile:{target}" + (f":onexec={exec_path}" if exec_path else "")
        case IoUringRequest(perm=perm, label=label):
            return f"io_uring:{perm}" + (f":{label}" if label else "")
        case SELinuxRequest():
            text = f"selinux:{request.scontext}:{request.tcontext}:{request.tclass}:{request.perm}"
            return text + (":" + ",".join(f"{name}={'on' if value else 'off'}"
                                          for name, value in request.booleans)
                           if request.booleans else "")
    # Classes without a form of their own above: their JSON fields, for display.
    fields = {k: v for k, v in request.to_json().items() if k != "class"}
    return f"{request.access_class}:" + ",".join(
        f"{k}={'+'.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
        for k, v in fields.items())
