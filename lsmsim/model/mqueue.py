"""``mqueue``: POSIX and System V message queues (AppArmor 4, ``mqueue.cc``).

A rule grants its permissions on queues of its type (both when none is given)
whose name matches (a path glob for POSIX queues, a key for System V ones) and,
with ``label=``, whose label matches. ``create`` needs no label match: the parser
stores it at the name, since a queue has no label before it exists.
"""
from __future__ import annotations

from dataclasses import dataclass

from .glob import Glob
from .source import Source

MQUEUE_PERMS = ("create", "open", "delete", "read", "write", "getattr", "setattr")
MQUEUE_TYPES = ("posix", "sysv")


@dataclass(frozen=True)
class MqueueRequest:
    """``perm`` on the queue ``name`` (``/name`` for POSIX, the decimal key for System V)
    whose label is ``label``."""

    perm: str
    queue_type: str
    name: str
    label: str
    access_class = "mqueue"

    def to_json(self) -> dict:
        return {"class": "mqueue", "perms": [self.perm], "type": self.queue_type,
                "name": self.name, "label": self.label}

    def __str__(self) -> str:
        return f"mqueue {self.perm} type={self.queue_type} label={self.label} {self.name}"


@dataclass(frozen=True)
class MqueueRule:
    """``mqueue [PERMS] [type=posix|sysv] [label=LABEL] [NAME],``; ``None`` fields
    match anything."""

    perms: frozenset[str]
    queue_type: str | None = None
    name: Glob | None = None
    label: Glob | None = None
    deny: bool = False
    audit: bool = False
    source: Source | None = None

    def matches(self, request: MqueueRequest) -> bool:
        return (request.perm in self.perms
                and self.queue_type in (None, request.queue_type)
                and (self.name is None or self.name.matches(request.name))
                and (request.perm == "create" or self.label is None
                     or self.label.matches(request.label)))
