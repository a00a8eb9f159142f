"""``userns`` and ``io_uring``: what a task may do beyond files and sockets
(AppArmor 4; security/apparmor ``aa_profile_ns_perm`` and ``profile_uring``).

- userns: creating a user namespace (``create``).
- io_uring: ``sqpoll`` (a kernel polling thread; no label is matched) and
  ``override_creds`` (running ring work with another task's credentials: the rule's
  ``label=`` is matched against that task's label).
"""
from __future__ import annotations

from dataclasses import dataclass

from .glob import Glob
from .source import Source

USERNS_PERMS = ("create",)
IO_URING_PERMS = ("sqpoll", "override_creds")


@dataclass(frozen=True)
class UsernsRequest:
    """Creating a user namespace."""

    perm: str = "create"
    access_class = "userns"

    def to_json(self) -> dict:
        return {"class": "userns", "perms": [self.perm]}

    def __str__(self) -> str:
        return f"userns {self.perm}"


@dataclass(frozen=True)
class IoUringRequest:
    """An io_uring ``sqpoll`` or ``override_creds`` (with the label of the task whose
    credentials are taken; empty for ``sqpoll``)."""

    perm: str
    label: str = ""
    access_class = "io_uring"

    def to_json(self) -> dict:
        out = {"class": "io_uring", "perms": [self.perm]}
        if self.perm == "override_creds":
            out["label"] = self.label
        return out

    def __str__(self) -> str:
        return f"io_uring {self.perm}" + (f" label={self.label}" if self.label else "")


@dataclass(frozen=True)
class UsernsRule:
    """``userns [create],``."""

    perms: frozenset[str] = frozenset(USERNS_PERMS)
    deny: bool = False
    audit: bool = False
    source: Source | None = None

    def matches(self, request: UsernsRequest) -> bool:
        return request.perm in self.perms


@dataclass(frozen=True)
class IoUringRule:
    """``io_uring [sqpoll|override_creds] [label=LABEL],``; ``label`` None means any.
    The label only narrows ``override_creds``: the parser stores the permissions at
    the class entry too, where ``sqpoll`` is decided."""

    perms: frozenset[str] = frozenset(IO_URING_PERMS)
    label: Glob | None = None
    deny: bool = False
    audit: bool = False
    source: Source | None = None

    def matches(self, request: IoUringRequest) -> bool:
        return request.perm in self.perms and (
            request.perm == "sqpoll" or self.label is None or self.label.matches(request.label))
