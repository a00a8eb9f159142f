"""Requests of the string-matching classes as single strings, the way the kernel
builds the string it walks through its policy DFA: the fields in a fixed order,
separated by NUL (which no field contains). Each class says how a rule becomes
regular expressions over that string, which strings are requests the kernel can
make, and how a witness string reads back as a request."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Hashable

from ..model.glob import Glob
from ..model.mount import (BIND, BIND_REQUEST_FLAGS, CHANGE_TYPE_REQUEST_FLAGS, MOUNT, MOVE,
                           NEW_MOUNT_EXCLUDED, PIVOT_ROOT, PROPAGATION, REMOUNT, REQUEST_FLAGS,
                           UMOUNT, FlagPattern, MountEntry, MountRequest, MountRule)
from ..model.names import IPC_CLASSES, PTRACE_PERMS, SIGNAL_PERMS, SIGNALS
from ..model.mqueue import MQUEUE_PERMS, MQUEUE_TYPES, MqueueRequest, MqueueRule
from ..model.regex import ANY_CHAR, NOT_SLASH, Alt, CharSet, Lit, Regex, Seq, Star
from ..model.requests import IpcRequest, PtraceRequest, SignalRequest
from ..model.rules import IpcRule, PtraceRule, SignalRule
from ..model.task_classes import IoUringRequest, IoUringRule
from .domain import canonical_path
from .nfa import MAX_PATH

SEP = Lit("\0")
ANY = Star(ANY_CHAR)
NONEMPTY = Seq((ANY_CHAR, ANY))
EMPTY = Lit("")


def _fields(*parts: Regex) -> Regex:
    items: list[Regex] = []
    for i, part in enumerate(parts):
        if i:
            items.append(SEP)
        items.append(part)
    return Seq(tuple(items))


def _words(words) -> Regex:
    return Alt(tuple(Lit(w) for w in sorted(words)))


def _glob(glob: Glob | None) -> Regex:
    return ANY if glob is None else glob.regex


@dataclass(frozen=True)
class StringClass:
    """How one rule kind's requests are matched as strings.

    ``expressions(rule)`` are the rule's alternatives (a request matches the rule when
    it matches one); ``domain`` the requests the kernel can make, in parts fine
    enough that every ``group`` has a part of its own; ``decode`` reads a witness
    back as a request and ``group(rule, request)`` is the key under which one
    witness per rule is enough.
    """

    name: str
    kind: type
    expressions: Callable[[object], list[Regex]]
    domain: tuple[Regex, ...]
    decode: Callable[[str], object]
    group: Callable[[object, object], Hashable]
    # The longest request the kernel can make (an expression that matches nothing
    # shorter is left out); unbounded where the kernel sets no limit.
    max_length: float = float("inf")


# -- signal and ptrace: the peer label, and the permission (and signal) -----------

def _peer(rule) -> Regex:
    return NONEMPTY if rule.peer is None else rule.peer.regex


def _signal_decode(peer: str, text: str) -> SignalRequest:
    perm, signal = text.split("\0")
    return SignalRequest(perm, signal, peer)


def _signal_group(rule: SignalRule, request: SignalRequest) -> Hashable:
    # One witness per permission the rule leaves every signal open for, else per signal.
    return request.perm if rule.signals == frozenset(SIGNALS) else (request.perm, request.signal)


def _ptrace_decode(peer: str, perm: str) -> PtraceRequest:
    return PtraceRequest(perm, peer)


# -- dbus and unix: permission and every condition field -----------------------------

def ipc_class(kind: str) -> StringClass:
    """The string class of the ``dbus`` or ``unix`` rules."""
    shape = IPC_CLASSES[kind]

    def expressions(rule: IpcRule) -> list[Regex]:
        if rule.kind != kind:
            return []
        conditions = dict(rule.conditions)
        return [_fields(_words(rule.perms), *(_glob(conditions.get(f)) for f in shape.all_fields))]

    def decode(text: str) -> IpcRequest:
        perm, *values = text.split("\0")
        return IpcRequest(kind, perm, tuple(zip(shape.all_fields, values)))

    return StringClass(kind, IpcRule, expressions,
                       tuple(_fields(Lit(p), *(ANY for _ in shape.all_fields)) for p in shape.perms),
                       decode,
                       lambda rule, request: request.perm)


# -- io_uring: the permission, and the label of the task whose credentials are taken --

def _io_uring_expressions(rule: IoUringRule) -> list[Regex]:
    # sqpoll matches no label (the kernel asks it at the class entry).
    return [_fields(Lit(perm), EMPTY if perm == "sqpoll" else
                    (NONEMPTY if rule.label is None else rule.label.regex))
            for perm in sorted(rule.perms)]


def _io_uring_decode(text: str) -> IoUringRequest:
    perm, label = text.split("\0")
    return IoUringRequest(perm, label)


IO_URING = StringClass("io_uring", IoUringRule, _io_uring_expressions,
                       (_fields(Lit("sqpoll"), EMPTY), _fields(Lit("override_creds"), NONEMPTY)),
                       _io_uring_decode, lambda rule, request: request.perm)


# -- mqueue: permission, queue type, name and label ---------------------------------

def _mqueue_expressions(rule: MqueueRule) -> list[Regex]:
    types = MQUEUE_TYPES if rule.queue_type is None else (rule.queue_type,)
    # create needs no label match: a queue has no label before it exists.
    return [_fields(Lit(perm), Lit(kind), _glob(rule.name),
                    ANY if perm == "create" else _glob(rule.label))
            for perm in sorted(rule.perms) for kind in types]


def _mqueue_decode(text: str) -> MqueueRequest:
    return MqueueRequest(*text.split("\0"))


# Linux POSIX queue names are "/" and one or more bytes but "/"; System V keys decimal.
_POSIX_NAME = Seq((Lit("/"), NOT_SLASH, Star(NOT_SLASH)))
_SYSV_KEY = Alt((Lit("0"), Seq((CharSet.of([(ord("1"), ord("9"))]),
                               Star(CharSet.of([(ord("0"), ord("9"))]))))))
MQUEUE = StringClass(
    "mqueue", MqueueRule, _mqueue_expressions,
    tuple(_fields(Lit(perm), Lit(kind), _POSIX_NAME if kind == "posix" else _SYSV_KEY,
                  NONEMPTY) for perm in MQUEUE_PERMS for kind in MQUEUE_TYPES),
    _mqueue_decode, lambda rule, request: (request.perm, request.queue_type))


# -- mount, umount, pivot_root -------------------------------------------------------

_OPERATION = {MOUNT: "m", UMOUNT: "u", PIVOT_ROOT: "p"}
_OPERATION_OF = {code: op for op, code in _OPERATION.items()}


def _flags(pattern: FlagPattern) -> Regex:
    """Flag bits as the kernel writes them: one byte ``bit + 1`` per set bit, in order."""
    optional = frozenset(range(32)) if pattern.every else pattern.optional
    items: list[Regex] = []
    for bit in range(32):
        char = Lit(chr(bit + 1))
        if bit in pattern.required:
            items.append(char)
        elif bit in optional:
            items.append(Alt((char, EMPTY)))
    return Seq(tuple(items))


def _mount_entry(entry: MountEntry) -> tuple[Regex, Regex, Regex, Regex]:
    """The entry's strings: the operation with the mount point, the source, the
    filesystem type and the flag bytes. A field the operation has no use for is
    empty in every request of that operation (see :func:`_mount_domain`), and the
    entry asks for it empty: the entry matches exactly the requests it matched as
    the one string the kernel walks."""
    op = Lit(_OPERATION[entry.operation])
    point = _fields(op, _glob(entry.mountpoint))
    if entry.operation == UMOUNT:
        return point, EMPTY, EMPTY, EMPTY
    if entry.operation == PIVOT_ROOT:
        return point, _glob(entry.source), EMPTY, EMPTY
    fstype = ANY if entry.fstypes is None else Alt(tuple(g.regex for g in entry.fstypes))
    return point, _glob(entry.source), fstype, _flags(entry.flags)


def _mount_domain() -> tuple[tuple[Regex, Regex, Regex, Regex], ...]:
    path = canonical_path()
    m = Lit("m")

    def flags(required=(), optional=()) -> Regex:
        return _flags(FlagPattern(frozenset(required), frozenset(optional) - frozenset(required)))
    # A propagation change sets at least one propagation flag: split on the lowest.
    change_type = Alt(tuple(
        flags({p}, CHANGE_TYPE_REQUEST_FLAGS - {q for q in PROPAGATION if q <= p})
        for p in sorted(PROPAGATION)))
    mount_point = _fields(m, path)
    return (
        (mount_point, EMPTY, EMPTY, flags({REMOUNT}, REQUEST_FLAGS)),
        (mount_point, path, EMPTY, flags({BIND}, BIND_REQUEST_FLAGS)),
        (mount_point, EMPTY, EMPTY, change_type),
        (mount_point, path, EMPTY, flags({MOVE})),
        (mount_point, ANY, ANY, flags((), REQUEST_FLAGS - NEW_MOUNT_EXCLUDED)),
        (_fields(Lit("u"), path), EMPTY, EMPTY, EMPTY),
        (_fields(Lit("p"), path), path, EMPTY, EMPTY),
    )


def _mount_decode(point: str, source: str, fstype: str, flags: str) -> MountRequest:
    op, mountpoint = point.split("\0")
    operation = _OPERATION_OF[op]
    if operation == UMOUNT:
        return MountRequest(UMOUNT, mountpoint)
    if operation == PIVOT_ROOT:
        return MountRequest(PIVOT_ROOT, mountpoint, source)
    return MountRequest(MOUNT, mountpoint, source, fstype, frozenset(ord(c) - 1 for c in flags))


@dataclass(frozen=True)
class SplitStringClass:
    """A class whose requests are several independent strings (for mounts: the
    operation with the mount point, the source, the filesystem type and the flags),
    each rule alternative and each part of the domain a tuple with one expression
    per string. An alternative matches a request exactly when it matches every one
    of its strings, so each string is explored on its own and their signatures are
    joined, which keeps one field's DFA from multiplying another's states.

    ``decode`` takes one text per string; ``max_lengths`` bounds each string as
    ``StringClass.max_length`` bounds the one string (empty: no bound).
    """

    name: str
    kind: type
    expressions: Callable[[object], list[tuple[Regex, ...]]]
    domain: tuple[tuple[Regex, ...], ...]
    decode: Callable[..., object]
    group: Callable[[object, object], Hashable]
    max_lengths: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if any(len(part) != self.width for part in self.domain):
            raise ValueError(f"{self.name}: every domain part needs {self.width} strings")
        if self.max_lengths and len(self.max_lengths) != self.width:
            raise ValueError(f"{self.name}: one max_length per string")

    @property
    def width(self) -> int:
        """How many strings a request is."""
        return len(self.domain[0])

    def max_length(self, index: int) -> float:
        """The longest string ``index`` the kernel can hand over."""
        return self.max_lengths[index] if self.max_lengths else float("inf")


# Signals and ptrace: the peer label, then the permission (and signal), each on its own.
SIGNAL = SplitStringClass(
    "signal", SignalRule,
    lambda rule: [(_peer(rule), _fields(_words(rule.perms), _words(rule.signals)))],
    tuple((NONEMPTY, _fields(Lit(p), Lit(s))) for p in SIGNAL_PERMS for s in SIGNALS),
    _signal_decode, _signal_group)
PTRACE = SplitStringClass(
    "ptrace", PtraceRule, lambda rule: [(_peer(rule), _words(rule.perms))],
    tuple((NONEMPTY, Lit(p)) for p in PTRACE_PERMS), _ptrace_decode,
    lambda rule, request: request.perm)

MOUNT_CLASS = SplitStringClass("mount", MountRule,
                               lambda rule: [_mount_entry(e) for e in rule.entries],
                               _mount_domain(), _mount_decode,
                               lambda rule, request: (request.operation, request.kind),
                               # Paths of at most MAX_PATH bytes (after the operation
                               # and its NUL), the type a page, one byte per flag bit.
                               (MAX_PATH + 2, MAX_PATH, 4096, 32))
