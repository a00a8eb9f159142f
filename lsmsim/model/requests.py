"""Concrete accesses a task can make: what the simulator decides and witnesses show."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileRequest:
    """Open/exec of ``path`` (directories end in ``/``) for ``perms`` letters.

    ``owner`` says whether the task's fsuid owns the file (AppArmor's owner half).
    """

    path: str
    perms: frozenset[str]
    owner: bool = False
    access_class = "file"

    def to_json(self) -> dict:
        return {"class": "file", "path": self.path, "perms": sorted_perms(self.perms),
                "owner": self.owner}


@dataclass(frozen=True)
class ExecRequest:
    """Executing ``path``: ``mode`` is the child's transition, ``target`` where it leads."""

    path: str
    mode: str
    target: str | None
    owner: bool = False
    access_class = "exec"

    def to_json(self) -> dict:
        return {"class": "exec", "path": self.path, "mode": self.mode, "target": self.target,
                "owner": self.owner}


@dataclass(frozen=True)
class CapabilityRequest:
    """Use of one capability."""

    name: str
    access_class = "capability"

    def to_json(self) -> dict:
        return {"class": "capability", "name": self.name}


@dataclass(frozen=True)
class NetworkRequest:
    """Creating a socket of ``family``/``sock_type`` (``protocol`` if the rule names one)."""

    family: str
    sock_type: str
    protocol: str | None = None
    access_class = "network"

    def to_json(self) -> dict:
        out = {"class": "network", "family": self.family, "type": self.sock_type}
        if self.protocol:
            out["protocol"] = self.protocol
        return out


@dataclass(frozen=True)
class SignalRequest:
    """Sending (``send``) or receiving (``receive``) ``signal`` to or from the task
    labelled ``peer``."""

    perm: str
    signal: str
    peer: str
    access_class = "signal"

    def to_json(self) -> dict:
        return {"class": "signal", "perms": [self.perm], "signal": self.signal, "peer": self.peer}


@dataclass(frozen=True)
class PtraceRequest:
    """``read``/``trace`` of, or being ``readby``/``tracedby``, the task labelled ``peer``."""

    perm: str
    peer: str
    access_class = "ptrace"

    def to_json(self) -> dict:
        return {"class": "ptrace", "perms": [self.perm], "peer": self.peer}


@dataclass(frozen=True)
class IpcRequest:
    """A dbus or unix-socket access: ``perm`` with a value for every condition field
    of the kind (``peer_label``, ``path``, ``addr``, ...)."""

    kind: str
    perm: str
    fields: tuple[tuple[str, str], ...]

    @property
    def access_class(self) -> str:
        return self.kind

    def value(self, field: str) -> str:
        return dict(self.fields)[field]

    def to_json(self) -> dict:
        return {"class": self.kind, "perms": [self.perm], **dict(self.fields)}


from .mount import MountRequest  # noqa: E402 - the mount class lives in its own module
from .mqueue import MqueueRequest  # noqa: E402
from .task_classes import IoUringRequest, UsernsRequest  # noqa: E402

Request = (FileRequest | ExecRequest | CapabilityRequest | NetworkRequest | SignalRequest
           | PtraceRequest | IpcRequest | MountRequest | UsernsRequest | IoUringRequest
           | MqueueRequest)

PERM_ORDER = "rwalkmx"


def sorted_perms(perms) -> list[str]:
    return sorted(perms, key=PERM_ORDER.index)
