"""``mount``/``remount``/``umount``/``pivot_root`` rules → :class:`MountRule`.

The rule body is read as apparmor_parser reads it (``parser_yacc.y`` ``mnt_rule``):
conditions (``options=``, ``options in``, ``fstype=``/``vfstype=``), an optional
source (``mount``) or mount point (``remount``, ``umount``, ``pivot_root``), then
``-> MOUNTPOINT`` (``mount``) or ``-> PROFILE`` (``pivot_root``, after an optional
``oldroot=``).

The entries follow ``mnt_rule::gen_policy_re`` of apparmor_parser 3.0.8, the
compiler this project checks against: the option words become a required flag set
and an optional one (``options in`` makes its flags optional; ``remount`` makes every
flag it names required and adds ``MS_REMOUNT``; no options at all allow every flag),
and one entry is made for each kind of mount the flags name (remount, bind,
propagation change, move) plus a new-mount entry for the flags outside those
commands, each with the fields that kind of mount can be conditional on. A rule
that yields no entry is refused, as the parser refuses it ("Encoding of mount rule
failed"). AppArmor 4 compiles some rules differently (it keeps several ``options``
conditions apart, lets ``remount`` flags be optional, and takes a lone source as
the mount point of a propagation change); only the last, which 3.0.8 refuses, is
taken from it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...model.glob import Glob, GlobError, squash_slashes
from ...model.mount import (ANY_FLAGS, MOUNT, PIVOT_ROOT, UMOUNT, FlagPattern, MountEntry,
                            MountRule)
from ...model.rules import OtherRule
from ...model.source import Source

_BIT = {name: 1 << bit for name, bit in (
    ("RDONLY", 0), ("NOSUID", 1), ("NODEV", 2), ("NOEXEC", 3), ("SYNC", 4), ("REMOUNT", 5),
    ("MAND", 6), ("DIRSYNC", 7), ("NOSYMFOLLOW", 8), ("NOATIME", 10), ("NODIRATIME", 11),
    ("BIND", 12), ("MOVE", 13), ("REC", 14), ("SILENT", 15), ("ACL", 16), ("UNBINDABLE", 17),
    ("PRIVATE", 18), ("SLAVE", 19), ("SHARED", 20), ("RELATIME", 21), ("IVERSION", 23),
    ("STRICTATIME", 24), ("LAZYTIME", 25), ("NOUSER", 31))}
_B = _BIT
_RBIND, _RUNBINDABLE = _B["BIND"] | _B["REC"], _B["UNBINDABLE"] | _B["REC"]
_RPRIVATE, _RSLAVE, _RSHARED = (_B[n] | _B["REC"] for n in ("PRIVATE", "SLAVE", "SHARED"))

# Option word → (flags it sets, flags it clears), as in mount.cc ``mnt_opts_table``.
OPTION_FLAGS: dict[str, tuple[int, int]] = {
    "ro": (_B["RDONLY"], 0), "r": (_B["RDONLY"], 0), "read-only": (_B["RDONLY"], 0),
    "rw": (0, _B["RDONLY"]), "w": (0, _B["RDONLY"]),
    "suid": (0, _B["NOSUID"]), "nosuid": (_B["NOSUID"], 0),
    "dev": (0, _B["NODEV"]), "nodev": (_B["NODEV"], 0),
    "exec": (0, _B["NOEXEC"]), "noexec": (_B["NOEXEC"], 0),
    "sync": (_B["SYNC"], 0), "async": (0, _B["SYNC"]),
    "remount": (_B["REMOUNT"], 0),
    "mand": (_B["MAND"], 0), "nomand": (0, _B["MAND"]),
    "dirsync": (_B["DIRSYNC"], 0),
    "symfollow": (0, _B["NOSYMFOLLOW"]), "nosymfollow": (_B["NOSYMFOLLOW"], 0),
    "atime": (0, _B["NOATIME"]), "noatime": (_B["NOATIME"], 0),
    "diratime": (0, _B["NODIRATIME"]), "nodiratime": (_B["NODIRATIME"], 0),
    "bind": (_B["BIND"], 0), "B": (_B["BIND"], 0),
    "move": (_B["MOVE"], 0), "M": (_B["MOVE"], 0),
    "rbind": (_RBIND, 0), "R": (_RBIND, 0),
    "verbose": (_B["SILENT"], 0), "silent": (_B["SILENT"], 0), "loud": (0, _B["SILENT"]),
    "acl": (_B["ACL"], 0), "noacl": (0, _B["ACL"]),
    "unbindable": (_B["UNBINDABLE"], 0), "make-unbindable": (_B["UNBINDABLE"], 0),
    "runbindable": (_RUNBINDABLE, 0), "make-runbindable": (_RUNBINDABLE, 0),
    "private": (_B["PRIVATE"], 0), "make-private": (_B["PRIVATE"], 0),
    "rprivate": (_RPRIVATE, 0), "make-rprivate": (_RPRIVATE, 0),
    "slave": (_B["SLAVE"], 0), "make-slave": (_B["SLAVE"], 0),
    "rslave": (_RSLAVE, 0), "make-rslave": (_RSLAVE, 0),
    "shared": (_B["SHARED"], 0), "make-shared": (_B["SHARED"], 0),
    "rshared": (_RSHARED, 0), "make-rshared": (_RSHARED, 0),
    # 3.0.8 clears MS_NORELATIME, which is 0: "norelatime" names no flag at all
    # (AppArmor 4 clears MS_RELATIME).
    "relatime": (_B["RELATIME"], 0), "norelatime": (0, 0),
    "iversion": (_B["IVERSION"], 0), "noiversion": (0, _B["IVERSION"]),
    "strictatime": (_B["STRICTATIME"], 0), "nostrictatime": (0, _B["STRICTATIME"]),
    "lazytime": (_B["LAZYTIME"], 0), "nolazytime": (0, _B["LAZYTIME"]),
    "user": (0, _B["NOUSER"]), "nouser": (_B["NOUSER"], 0),
}
OPTIONS = frozenset(OPTION_FLAGS)

# mount.h: the flag groups each kind of mount entry keeps. MS_ALL_FLAGS leaves out
# MS_NOUSER, so entries that mask with it drop "nouser".
ALL_FLAGS = 0
for _set, _clear in OPTION_FLAGS.values():
    ALL_FLAGS |= _set | _clear
ALL_FLAGS &= ~_B["NOUSER"]
_MNT_FLAGS = (_B["NOSUID"] | _B["NOEXEC"] | _B["NODEV"] | _B["NOATIME"] | _B["NODIRATIME"]
              | _B["RELATIME"] | _B["STRICTATIME"])
_MAKE_CMDS = _B["UNBINDABLE"] | _B["PRIVATE"] | _B["SLAVE"] | _B["SHARED"]
BIND_FLAGS = _B["BIND"] | _RBIND
MAKE_FLAGS = _MAKE_CMDS | _RUNBINDABLE | _RPRIVATE | _RSLAVE | _RSHARED | (ALL_FLAGS & ~_MNT_FLAGS)
MOVE_FLAGS = _B["MOVE"]
CMDS = _B["MOVE"] | _B["REMOUNT"] | BIND_FLAGS | _MAKE_CMDS | _RUNBINDABLE | _RPRIVATE \
    | _RSLAVE | _RSHARED
REMOUNT_FLAGS = ALL_FLAGS & ~(CMDS & ~_B["REMOUNT"] & ~BIND_FLAGS)

_KINDS = {"mount": MOUNT, "remount": "remount", "umount": UMOUNT, "unmount": UMOUNT,
          "pivot_root": PIVOT_ROOT}
MOUNT_KINDS = frozenset(_KINDS)
_MOUNT_CONDITIONS = ("options", "option", "fstype", "vfstype")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\([^()]*\)|->|(?:[^\s()"-]|-(?!>))+|\S')
_COND = re.compile(r"([A-Za-z_]+)=(.*)", re.S)


@dataclass
class _Condition:
    name: str
    equals: bool  # "=" rather than "in"
    values: list[str] = field(default_factory=list)


def _values(text: str, key: str) -> list[str]:
    if text.startswith("("):
        return [_unquote(v) for v in re.findall(r'"(?:[^"\\]|\\.)*"|[^\s,"]+', text[1:-1])]
    if "," in re.sub(r"\{[^{}]*\}", "", text):
        raise ValueError(f"{key} lists are written in parentheses: {key}=(a, b)")
    return [_unquote(text)]


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _parse(kind: str, text: str) -> tuple[list[_Condition], str | None, str | None]:
    """(conditions, the word before ``->``, the word after it)."""
    tokens = _TOKEN.findall(text)
    conditions: list[_Condition] = []
    i = 0
    while i < len(tokens):
        word = tokens[i]
        if (re.fullmatch(r"[A-Za-z_]+", word) and i + 1 < len(tokens)
                and tokens[i + 1].startswith("=")):  # "options = (ro)"
            word = word + tokens[i + 1]
            del tokens[i + 1]
        match = _COND.fullmatch(word)
        if match and not word.startswith(('"', "/", "@")):
            name, value = match.groups()
            if not value:
                if i + 1 >= len(tokens) or tokens[i + 1] == "->":
                    raise ValueError(f"missing value for the condition {name!r}")
                value, i = tokens[i + 1], i + 1
            conditions.append(_Condition(name, True, _values(value, name)))
        elif i + 2 < len(tokens) and tokens[i + 1] == "in" and re.fullmatch(r"[A-Za-z_]+", word):
            if not tokens[i + 2].startswith("("):
                raise ValueError(f"{word} lists are written in parentheses: {word} in (a, b)")
            conditions.append(_Condition(word, False, _values(tokens[i + 2], word)))
            i += 2
        else:
            break
        i += 1
    rest = tokens[i:]
    first = second = None
    if rest and rest[0] != "->":
        first, rest = _unquote(rest[0]), rest[1:]
    if rest and rest[0] == "->":
        if len(rest) < 2:
            raise ValueError("'->' must be followed by a mount point or profile")
        if _COND.fullmatch(rest[1]) and not rest[1].startswith(('"', "/", "@")):
            raise ValueError("mount point conditions not currently supported")
        if kind in ("remount", "umount", "unmount"):
            raise ValueError(f"{kind} rules take a mount point only, without '->'")
        second, rest = _unquote(rest[1]), rest[2:]
    if rest:
        raise ValueError(f"unexpected {rest[0]!r} in {kind} rule")
    if first is not None and first.startswith("("):
        raise ValueError(f"unexpected {first!r} in {kind} rule")
    return conditions, first, second


def _flags(words: list[str]) -> tuple[int, int]:
    flags = inverse = 0
    for word in words:
        if word not in OPTION_FLAGS:
            raise ValueError(f"unknown mount option {word!r}")
        flags |= OPTION_FLAGS[word][0]
        inverse |= OPTION_FLAGS[word][1]
    return flags, inverse


def _glob(text: str, what: str, squash: bool = True) -> Glob:
    if squash:
        text = squash_slashes(text)
    try:
        return Glob.parse(text)
    except GlobError as error:
        raise ValueError(f"bad {what} {text!r}: {error}") from None


def _bits(mask: int) -> frozenset[int]:
    return frozenset(b for b in range(32) if mask >> b & 1)


def _pattern(flags: int, inverse: int) -> FlagPattern:
    """``build_mnt_flags``: a flag in both sets is optional, in ``flags`` only required."""
    if flags == ALL_FLAGS:
        return ANY_FLAGS
    return FlagPattern(_bits(flags & ~inverse), _bits(flags & inverse))


def _keep(flags: int, mask: int) -> int:
    return flags if flags == ALL_FLAGS else flags & mask


def _mount_entries(flags: int, inverse: int, device: Glob | None, mountpoint: Glob | None,
                   fstypes: tuple[Glob, ...] | None) -> list[MountEntry]:
    entries = []
    if flags & _B["REMOUNT"] and device is None and fstypes is None:
        entries.append(MountEntry(MOUNT, mountpoint, None, None,
                                  _pattern(_keep(flags, REMOUNT_FLAGS), inverse)))
    if flags & _B["BIND"] and fstypes is None:
        entries.append(MountEntry(MOUNT, mountpoint, device, None,
                                  _pattern(_keep(flags, BIND_FLAGS), inverse)))
    if flags & _MAKE_CMDS and device is None and fstypes is None:
        entries.append(MountEntry(MOUNT, mountpoint, None, None,
                                  _pattern(_keep(flags, MAKE_FLAGS), inverse)))
    if flags & _B["MOVE"] and fstypes is None:
        entries.append(MountEntry(MOUNT, mountpoint, device, None,
                                  _pattern(_keep(flags, MOVE_FLAGS), inverse)))
    if (flags | inverse) & ~CMDS:
        entries.append(MountEntry(MOUNT, mountpoint, device, fstypes,
                                  _pattern(_keep(flags, ~CMDS), _keep(inverse, ~CMDS))))
    return entries


def build_mount_rule(kind: str, text: str, deny: bool = False, audit: bool = False,
                     source: Source | None = None) -> MountRule | OtherRule:
    """The rule ``kind text,`` stands for; ValueError with the parser's reason when
    apparmor_parser refuses it. A rule only AppArmor 4 accepts, with a meaning not
    modelled here, is kept as text (:class:`OtherRule`): the check leaves it undecided."""
    conditions, first, second = _parse(kind, text)
    operation = _KINDS[kind]
    if operation == PIVOT_ROOT:
        return _pivot_root(conditions, first, second, text, deny, audit, source)
    for cond in conditions:
        if cond.name not in _MOUNT_CONDITIONS:
            raise ValueError(f"invalid mount conditional {cond.name!r}")
        if not cond.values:
            raise ValueError(f"empty mount condition {cond.name!r}")
    mountpoint = device = None
    if operation == MOUNT:
        device, mountpoint = first, second
    else:
        mountpoint = first
    fstype_values = [v for c in conditions if c.name in ("fstype", "vfstype") for v in c.values]
    fstypes = tuple(_glob(v, "fstype", squash=False) for v in fstype_values) or None
    flags = inverse = 0
    equal = [c for c in conditions if c.name in ("options", "option") and c.equals]
    among = [c for c in conditions if c.name in ("options", "option") and not c.equals]
    for cond in equal:
        f, i = _flags(cond.values)
        if operation == "remount":
            f |= _B["REMOUNT"]
        if f & i:
            raise ValueError("conflicting flags in the rule: "
                             + ", ".join(w for w in cond.values if OPTION_FLAGS[w][0] & i))
        flags, inverse = flags | f, inverse | i
    for cond in among:
        f, i = _flags(cond.values)
        flags, inverse = flags | f | i, inverse | f | i
    mount_glob = _glob(mountpoint, "mount point") if mountpoint is not None else None
    entries: list[MountEntry]
    if operation == UMOUNT:
        entries = [MountEntry(UMOUNT, mount_glob)]
    else:
        if operation == "remount":
            flags, inverse = flags | _B["REMOUNT"], 0
        elif not flags | inverse:
            flags = inverse = ALL_FLAGS
        device_glob = _glob(device, "source") if device is not None else None
        entries = _mount_entries(flags, inverse, device_glob, mount_glob, fstypes)
        if not entries and flags & _MAKE_CMDS and device is not None and mountpoint is None:
            if len(equal) == 1 and not among and fstypes is None:
                # AppArmor 4 takes a lone source as the mount point of a propagation
                # change (deprecated); 3.0.8 refuses the rule.
                entries = [MountEntry(MOUNT, device_glob, None, None,
                                      _pattern(_keep(flags, MAKE_FLAGS), 0))]
            else:  # accepted by AppArmor 4 only, with a meaning not modelled here
                return OtherRule("mount", text, deny, audit, source)
        if not entries:
            raise ValueError("these mount options do not go with a source and a mount point "
                             "(propagation and remount options take a mount point only)")
    return MountRule("remount" if operation == "remount" else operation, text, tuple(entries),
                     None, deny, audit, source)


def _pivot_root(conditions: list[_Condition], new_root: str | None, target: str | None,
                text: str, deny: bool, audit: bool, source: Source | None) -> MountRule:
    # The parser looks at the last condition written only, and at its first value.
    old_root = None
    if conditions:
        last = conditions[-1]
        if last.name != "oldroot" or not last.equals:
            raise ValueError(f"invalid pivotroot conditional {last.name!r}")
        old_root = last.values[0] if last.values else None
    entry = MountEntry(PIVOT_ROOT, _glob(new_root, "new root") if new_root is not None else None,
                       _glob(old_root, "old root") if old_root is not None else None)
    return MountRule(PIVOT_ROOT, text, (entry,), target, deny, audit, source)


def check_mount_rule(text: str, kind: str = "mount") -> None:
    """Raise ValueError with the parser's reason if the rule body is refused."""
    build_mount_rule(kind, text)

