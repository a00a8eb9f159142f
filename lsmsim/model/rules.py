"""The LSM-neutral rule kinds. Each rule knows its concrete meaning (``matches``);
the Z3 encoders in :mod:`lsmsim.verify.encoders` give the same rules their
symbolic meaning, and tests hold the two against each other."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .glob import Glob
from .requests import (CapabilityRequest, FileRequest, IpcRequest, NetworkRequest,
                       PtraceRequest, SignalRequest)
from .source import Source

FILE_PERMS = "rwalkmx"  # the letters a file request can ask for


class Half(str, Enum):
    """Which half of AppArmor's file permissions a rule fills."""

    OWNER = "owner"
    OTHER = "other"


class Qualifier(str, Enum):
    """``owner``, ``other`` or neither (both halves)."""

    BOTH = "both"
    OWNER = "owner"
    OTHER = "other"

    def covers(self, half: Half) -> bool:
        return self is Qualifier.BOTH or self.value == half.value


class ExecKind(str, Enum):
    """Where an exec leads: inherit, a named/attached profile, a child profile, unconfined."""

    INHERIT = "i"
    PROFILE = "p"
    CHILD = "c"
    UNCONFINED = "u"


@dataclass(frozen=True)
class ExecMode:
    """An exec transition such as ``ix``, ``Px``, ``cix``, ``PUx`` or ``px -> name``.

    ``fallback`` is what happens when a ``p``/``c`` target profile does not exist
    (``INHERIT`` for ``pix``, ``UNCONFINED`` for ``pux``); ``safe`` is the upper-case
    form (environment scrubbed).
    """

    kind: ExecKind
    safe: bool = False
    fallback: ExecKind | None = None
    target: str | None = None

    def __str__(self) -> str:
        letters = self.kind.value
        if self.fallback is ExecKind.INHERIT:
            letters += "i"
        elif self.fallback is ExecKind.UNCONFINED:
            letters += "u"
        text = (letters.upper() if self.safe else letters) + "x"
        if self.safe and self.fallback is ExecKind.INHERIT:
            text = letters[0].upper() + "ix"
        return f"{text} -> {self.target}" if self.target else text


@dataclass(frozen=True)
class FileRule:
    """``[audit] [deny] [owner|other] PATH PERMS [-> TARGET],``.

    ``perms`` holds letters of :data:`FILE_PERMS`, normalised: ``w`` implies ``a``
    (for allow and deny alike). ``exec`` is set on allow rules that grant ``x``.
    """

    glob: Glob
    perms: frozenset[str]
    qualifier: Qualifier = Qualifier.BOTH
    deny: bool = False
    audit: bool = False
    exec: ExecMode | None = None
    source: Source | None = None

    def covers(self, request: FileRequest) -> bool:
        """Does this rule speak about the request's path and half at all?"""
        half = Half.OWNER if request.owner else Half.OTHER
        return self.qualifier.covers(half) and self.glob.matches(request.path)

    def matches(self, request: FileRequest) -> frozenset[str]:
        """The requested permissions this rule grants (allow) or removes (deny)."""
        if not self.covers(request):
            return frozenset()
        return self.perms & request.perms


@dataclass(frozen=True)
class CapabilityRule:
    """``capability [NAMES],``; ``names`` is the set of capability names covered."""

    names: frozenset[str]
    deny: bool = False
    audit: bool = False
    source: Source | None = None

    def matches(self, request: CapabilityRequest) -> bool:
        return request.name in self.names


@dataclass(frozen=True)
class NetworkRule:
    """``network [FAMILY] [TYPE|PROTOCOL],``; ``None`` fields mean any."""

    family: str | None = None
    sock_type: str | None = None
    protocol: str | None = None
    deny: bool = False
    audit: bool = False
    source: Source | None = None

    def matches(self, request: NetworkRequest) -> bool:
        return ((self.family is None or self.family == request.family)
                and (self.sock_type is None or self.sock_type == request.sock_type)
                and (self.protocol is None or self.protocol == request.protocol))


@dataclass(frozen=True)
class SignalRule:
    """``signal [PERMS] [set=(SIGNALS)] [peer=LABEL_GLOB],``; ``peer`` None means any."""

    perms: frozenset[str]
    signals: frozenset[str]
    peer: Glob | None = None
    deny: bool = False
    audit: bool = False
    source: Source | None = None

    def matches(self, request: SignalRequest) -> bool:
        return (request.perm in self.perms and request.signal in self.signals
                and (self.peer is None or self.peer.matches(request.peer)))


@dataclass(frozen=True)
class PtraceRule:
    """``ptrace [PERMS] [peer=LABEL_GLOB],``; ``peer`` None means any."""

    perms: frozenset[str]
    peer: Glob | None = None
    deny: bool = False
    audit: bool = False
    source: Source | None = None

    def matches(self, request: PtraceRequest) -> bool:
        return request.perm in self.perms and (self.peer is None
                                               or self.peer.matches(request.peer))


@dataclass(frozen=True)
class IpcRule:
    """``dbus ...,`` or ``unix ...,``: permissions and a glob per condition field it
    names (``peer=(label=...)`` becomes the field ``peer_label``); unnamed fields
    match anything."""

    kind: str
    perms: frozenset[str]
    conditions: tuple[tuple[str, Glob], ...] = ()
    deny: bool = False
    audit: bool = False
    source: Source | None = None

    def matches(self, request: IpcRequest) -> bool:
        return (request.kind == self.kind and request.perm in self.perms
                and all(glob.matches(request.value(field)) for field, glob in self.conditions))


@dataclass(frozen=True)
class OtherRule:
    """A rule of a mediation class the checker does not reason about yet
    (signal, ptrace, dbus, unix, mount, change_profile, link, ...). It is kept so
    that a child granting such access is reported as undecided, never as contained."""

    kind: str
    text: str
    deny: bool = False
    audit: bool = False
    source: Source | None = None


from .mount import MountRule  # noqa: E402 - the mount class lives in its own module
from .mqueue import MqueueRule  # noqa: E402
from .task_classes import IoUringRule, UsernsRule  # noqa: E402

Rule = (FileRule | CapabilityRule | NetworkRule | SignalRule | PtraceRule | IpcRule | MountRule
        | UsernsRule | IoUringRule | MqueueRule | OtherRule)
