"""The mount class: what the kernel asks AppArmor about mounts, and the table
entries a ``mount``/``remount``/``umount``/``pivot_root`` rule stands for.

The kernel (security/apparmor/mount.c) matches one string per request in the
profile's policy DFA:

- mount: ``MOUNTPOINT \\0 SOURCE \\0 FSTYPE \\0 FLAG-BYTES`` (one byte ``bit + 1`` per
  ``MS_*`` flag set, in increasing order) and needs the mount permission there;
- umount: ``MOUNTPOINT`` and the umount permission;
- pivot_root: ``NEW-ROOT \\0 OLD-ROOT`` and the pivot_root permission.

A rule compiles into several such entries (one per kind of mount it covers, see
:mod:`lsmsim.frontends.apparmor.mount`). An entry matches a request when every
field matches; a profile allows a request when an allow rule's entry matches and
no deny rule's entry does. Mount data (``-o`` strings a filesystem parses) is never
matched: the parser refuses options it cannot turn into flags, so no entry asks
for it.
"""
from __future__ import annotations

from dataclasses import dataclass

from .glob import Glob
from .source import Source

MOUNT = "mount"
UMOUNT = "umount"
PIVOT_ROOT = "pivot_root"
OPERATIONS = (MOUNT, UMOUNT, PIVOT_ROOT)

# Kernel names of the mount flags by bit (include/uapi/linux/mount.h).
FLAG_NAMES: dict[int, str] = {
    0: "MS_RDONLY", 1: "MS_NOSUID", 2: "MS_NODEV", 3: "MS_NOEXEC", 4: "MS_SYNCHRONOUS",
    5: "MS_REMOUNT", 6: "MS_MANDLOCK", 7: "MS_DIRSYNC", 8: "MS_NOSYMFOLLOW", 9: "MS_0x200",
    10: "MS_NOATIME", 11: "MS_NODIRATIME", 12: "MS_BIND", 13: "MS_MOVE", 14: "MS_REC",
    15: "MS_SILENT", 16: "MS_POSIXACL", 17: "MS_UNBINDABLE", 18: "MS_PRIVATE", 19: "MS_SLAVE",
    20: "MS_SHARED", 21: "MS_RELATIME", 22: "MS_KERNMOUNT", 23: "MS_I_VERSION",
    24: "MS_STRICTATIME", 25: "MS_LAZYTIME", 26: "MS_SUBMOUNT", 27: "MS_NOREMOTELOCK",
    28: "MS_NOSEC", 29: "MS_BORN", 30: "MS_ACTIVE", 31: "MS_NOUSER"}
FLAG_BITS = {name: bit for bit, name in FLAG_NAMES.items()}

RDONLY, REMOUNT, BIND, MOVE, REC, SILENT = 0, 5, 12, 13, 14, 15
UNBINDABLE, PRIVATE, SLAVE, SHARED = 17, 18, 19, 20
PROPAGATION = frozenset({UNBINDABLE, PRIVATE, SLAVE, SHARED})

# Flags a mount request can carry when AppArmor sees it: apparmor_sb_mount clears
# MS_KERNMOUNT, MS_NOSEC, MS_BORN and MS_ACTIVE, and path_mount refuses MS_NOUSER
# before asking the LSM.
REQUEST_FLAGS = frozenset(range(32)) - {22, 28, 29, 30, 31}
# What each kind of mount passes on (apparmor_sb_mount picks the kind in this order).
BIND_REQUEST_FLAGS = frozenset({BIND, REC})
CHANGE_TYPE_REQUEST_FLAGS = frozenset({REC, SILENT}) | PROPAGATION
NEW_MOUNT_EXCLUDED = frozenset({REMOUNT, BIND, MOVE}) | PROPAGATION


def mount_kind(flags: frozenset[int]) -> str:
    """Which kernel path handles a mount with ``flags`` (apparmor_sb_mount)."""
    if REMOUNT in flags:
        return "remount"
    if BIND in flags:
        return "bind"
    if flags & PROPAGATION:
        return "change type"
    if MOVE in flags:
        return "move"
    return "new"


def request_flags_valid(flags: frozenset[int]) -> bool:
    """Can the kernel ask about a mount with exactly these flags?"""
    kind = mount_kind(flags)
    if kind == "bind":
        return flags <= BIND_REQUEST_FLAGS
    if kind == "change type":
        return flags <= CHANGE_TYPE_REQUEST_FLAGS
    if kind == "move":
        return flags == {MOVE}
    return flags <= REQUEST_FLAGS


@dataclass(frozen=True)
class MountRequest:
    """One mediated mount-class access.

    ``operation`` is ``mount`` (any mount(2) call: new, bind, move, remount or a
    propagation change), ``umount`` or ``pivot_root``. For ``mount`` the fields are
    what the kernel matches: the mount point, the source (a resolved path for bind
    and move mounts and for block-device filesystems, the device string as given
    otherwise, empty for remount and propagation changes), the filesystem type
    (empty except for new mounts) and the flag bits. For ``pivot_root``
    ``mountpoint`` is the new root and ``source`` the old root (``put_old``).
    Directories end in ``/``, as the kernel names them.
    """

    operation: str
    mountpoint: str
    source: str = ""
    fstype: str = ""
    flags: frozenset[int] = frozenset()
    access_class = "mount"

    @property
    def kind(self) -> str:
        return mount_kind(self.flags) if self.operation == MOUNT else self.operation

    def flag_names(self) -> list[str]:
        return [FLAG_NAMES[b] for b in sorted(self.flags)]

    def to_json(self) -> dict:
        out: dict = {"class": "mount", "operation": self.operation}
        if self.operation == PIVOT_ROOT:
            out.update(new_root=self.mountpoint, old_root=self.source)
        elif self.operation == UMOUNT:
            out.update(mountpoint=self.mountpoint)
        else:
            out.update(kind=self.kind, mountpoint=self.mountpoint, source=self.source,
                       fstype=self.fstype, flags=self.flag_names())
        return out

    def __str__(self) -> str:
        if self.operation == PIVOT_ROOT:
            return f"pivot_root new_root={self.mountpoint!r} old_root={self.source!r}"
        if self.operation == UMOUNT:
            return f"umount {self.mountpoint!r}"
        return (f"mount ({self.kind}) source={self.source!r} -> {self.mountpoint!r} "
                f"fstype={self.fstype!r} flags={','.join(self.flag_names()) or 'none'}")


# How the kernel logs mount flags (mount.c audit_mnt_flags): "ro" or "rw" first.
_AUDIT_FLAGS = ((1, "nosuid"), (2, "nodev"), (3, "noexec"), (4, "sync"), (5, "remount"),
                (6, "mand"), (7, "dirsync"), (10, "noatime"), (11, "nodiratime"),
                (BIND, "bind"), (MOVE, "move"), (SILENT, "silent"), (16, "acl"),
                (UNBINDABLE, "unbindable"), (PRIVATE, "private"), (SLAVE, "slave"),
                (SHARED, "shared"), (21, "relatime"), (23, "iversion"), (24, "strictatime"),
                (31, "nouser"))
_RECURSIVE = {BIND, UNBINDABLE, PRIVATE, SLAVE, SHARED}


def audit_flags(flags: frozenset[int]) -> str:
    words = ["ro" if RDONLY in flags else "rw"]
    for bit, word in _AUDIT_FLAGS:
        if bit in flags:
            words.append(("r" + word) if bit in _RECURSIVE and REC in flags else word)
    return ", ".join(words)


def mount_audit_fields(request: "MountRequest") -> str:
    """The ``name=``, ``srcname=``, ``fstype=`` and ``flags=`` fields the kernel logs
    for a denied mount-class request (mount.c audit_cb)."""
    parts = [f'name="{request.mountpoint}"']
    if request.operation == PIVOT_ROOT:
        parts.append(f'srcname="{request.source}"')
    elif request.operation == MOUNT:
        if request.fstype:
            parts.append(f'fstype="{request.fstype}"')
        if request.source:
            parts.append(f'srcname="{request.source}"')
        if request.flags:
            parts.append(f'flags="{audit_flags(request.flags)}"')
    return " ".join(parts)


@dataclass(frozen=True)
class FlagPattern:
    """The flag sets an entry accepts: all of ``required``, any of ``optional`` and no
    other flag; ``every`` accepts every set (the parser's match-anything pattern)."""

    required: frozenset[int] = frozenset()
    optional: frozenset[int] = frozenset()
    every: bool = False

    def matches(self, flags: frozenset[int]) -> bool:
        return self.every or (self.required <= flags <= self.required | self.optional)

    def __str__(self) -> str:
        if self.every:
            return "any"
        names = [FLAG_NAMES[b] for b in sorted(self.required)]
        names += [FLAG_NAMES[b] + "?" for b in sorted(self.optional)]
        return ",".join(names) or "none"


ANY_FLAGS = FlagPattern(every=True)


@dataclass(frozen=True)
class MountEntry:
    """One entry of the profile's mount table. ``None`` fields match anything."""

    operation: str
    mountpoint: Glob | None = None
    source: Glob | None = None
    fstypes: tuple[Glob, ...] | None = None
    flags: FlagPattern = ANY_FLAGS

    def matches(self, request: MountRequest) -> bool:
        return (request.operation == self.operation
                and (self.mountpoint is None or self.mountpoint.matches(request.mountpoint))
                and (self.source is None or self.source.matches(request.source))
                and (self.fstypes is None
                     or any(g.matches(request.fstype) for g in self.fstypes))
                and self.flags.matches(request.flags))


@dataclass(frozen=True)
class MountRule:
    """``mount``, ``remount``, ``umount`` or ``pivot_root`` with the entries it
    compiles into. ``target`` is a pivot_root rule's ``-> PROFILE`` (recorded; the
    kernel does not apply it)."""

    operation: str
    text: str
    entries: tuple[MountEntry, ...]
    target: str | None = None
    deny: bool = False
    audit: bool = False
    source: Source | None = None

    def matches(self, request: MountRequest) -> bool:
        return any(entry.matches(request) for entry in self.entries)
