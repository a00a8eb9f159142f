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

from ..classes import CLASSES
from ..errors import PolicyError, Position, UsageError
from ..model.requests import Request
from ..model.selinux import SELinuxRequest, parse_context

_LEVEL_PART = re.compile(r"^(s\d+|c\d+)")


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


def parse_request(text: str) -> Request | SELinuxRequest:
    """Read one request; a malformed one raises :class:`UsageError` saying why."""
    kind, _, rest = text.strip().partition(":")
    rule_class = CLASSES.of_text_kind(kind)
    if rule_class is None and kind != "selinux":
        raise UsageError(f"request {text!r}: unknown class {kind!r}; classes: "
                         f"{', '.join((*CLASSES.text_kinds, 'selinux'))}")
    fields = rest.split(":") if rest else []
    try:
        return rule_class.parse_text(kind, fields) if rule_class else _selinux(fields)
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
    if isinstance(request, SELinuxRequest):
        text = f"selinux:{request.scontext}:{request.tcontext}:{request.tclass}:{request.perm}"
        return text + (":" + ",".join(f"{name}={'on' if value else 'off'}"
                                      for name, value in request.booleans)
                       if request.booleans else "")
    rule_class = CLASSES.of_request(request)
    if rule_class is None:
        raise TypeError(f"no request text for {type(request).__name__}")
    return rule_class.format_text(request)
