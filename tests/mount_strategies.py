"""Hypothesis strategies for mount-class rules and the requests the kernel makes."""
from __future__ import annotations

from hypothesis import strategies as st

from lsmsim.model.mount import (BIND, MOVE, PROPAGATION, REC, REMOUNT, SILENT, MountRequest,
                                request_flags_valid)

# Option words apparmor_parser 3.0.8 knows, so that the compiler can judge the rules.
OPTION_WORDS = ["ro", "rw", "nosuid", "suid", "nodev", "noexec", "exec", "sync", "async",
                "remount", "mand", "dirsync", "noatime", "nodiratime", "bind", "rbind", "move",
                "silent", "loud", "acl", "unbindable", "runbindable", "private", "rprivate",
                "slave", "rslave", "shared", "rshared", "make-private", "relatime",
                "norelatime", "iversion", "strictatime", "user", "nouser"]
RULE_PATHS = ["/a", "/a/", "/a/*", "/a/**", "/b", "/{a,b}", "/**", "/a/b", "none", "proc",
              "/dev/sd*"]
RULE_FSTYPES = ["ext4", "proc", "ext*", "{ext4,xfs}", "fuse.*"]
REQUEST_PATHS = ["/", "/a", "/a/", "/a/b", "/a/b/", "/b", "/c/"]
REQUEST_SOURCES = REQUEST_PATHS + ["none", "proc", "/dev/sda", ""]
REQUEST_FSTYPES = ["", "ext4", "proc", "xfs", "fuse.x"]
COMMON_FLAGS = [0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24]


@st.composite
def mount_rule_lines(draw, kinds=("mount", "mount", "mount", "remount", "umount",
                                  "pivot_root")) -> str:
    kind = draw(st.sampled_from(kinds))
    parts = [kind]
    if kind == "pivot_root":
        if draw(st.booleans()):
            parts.append("oldroot=" + draw(st.sampled_from(RULE_PATHS)))
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(RULE_PATHS)))
        return " ".join(parts) + ","
    if kind != "umount":
        for _ in range(draw(st.integers(0, 2))):
            words = draw(st.lists(st.sampled_from(OPTION_WORDS), min_size=1, max_size=3,
                                  unique=True))
            keyword = draw(st.sampled_from(["options=(", "options in ("]))
            parts.append(keyword + ", ".join(words) + ")")
        if kind == "mount" and draw(st.integers(0, 3)) == 0:
            parts.append("fstype=" + draw(st.sampled_from(RULE_FSTYPES)))
    if kind == "mount":
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(RULE_PATHS)))
        if draw(st.booleans()):
            parts.append("-> " + draw(st.sampled_from(RULE_PATHS)))
    elif draw(st.booleans()):
        parts.append(draw(st.sampled_from(RULE_PATHS)))
    return " ".join(parts) + ","


@st.composite
def mount_flags(draw) -> frozenset[int]:
    """Flag sets of each kind of mount, as the kernel passes them on."""
    kind = draw(st.sampled_from(["remount", "bind", "change type", "move", "new", "new"]))
    if kind == "bind":
        return frozenset({BIND} | draw(st.sets(st.just(REC))))
    if kind == "change type":
        props = draw(st.sets(st.sampled_from(sorted(PROPAGATION)), min_size=1, max_size=2))
        return frozenset(props | draw(st.sets(st.sampled_from([REC, SILENT]))))
    if kind == "move":
        return frozenset({MOVE})
    base = draw(st.sets(st.sampled_from(COMMON_FLAGS), max_size=3))
    if kind == "remount":
        return frozenset(base | {REMOUNT})
    flags = frozenset(b for b in base if b not in (REMOUNT, BIND, MOVE) and b not in PROPAGATION)
    return flags


@st.composite
def mount_requests(draw) -> MountRequest:
    op = draw(st.sampled_from(["mount", "mount", "mount", "umount", "pivot_root"]))
    point = draw(st.sampled_from(REQUEST_PATHS))
    if op == "umount":
        return MountRequest("umount", point)
    if op == "pivot_root":
        return MountRequest("pivot_root", point, draw(st.sampled_from(REQUEST_PATHS)))
    flags = draw(mount_flags())
    assert request_flags_valid(flags)
    kind = MountRequest("mount", point, flags=flags).kind
    if kind in ("remount", "change type"):
        return MountRequest("mount", point, "", "", flags)
    if kind in ("bind", "move"):
        return MountRequest("mount", point, draw(st.sampled_from(REQUEST_PATHS)), "", flags)
    return MountRequest("mount", point, draw(st.sampled_from(REQUEST_SOURCES)),
                        draw(st.sampled_from(REQUEST_FSTYPES)), flags)


MOUNT_PERMS = {"mount": 0x2, "umount": 0x4, "pivot_root": 0x1}  # mount.h AA_MAY_*


def kernel_string(request: MountRequest) -> bytes:
    """What security/apparmor/mount.c matches in the policy DFA for ``request``, class
    byte (AA_CLASS_MOUNT) first: fields joined by NUL, then one byte per flag."""
    fields = [request.mountpoint]
    if request.operation == "pivot_root":
        fields.append(request.source)
    elif request.operation == "mount":
        fields += [request.source, request.fstype, ""]
    text = b"\x07" + b"\0".join(f.encode() for f in fields)
    if request.operation == "mount":
        text += bytes(bit + 1 for bit in sorted(request.flags))
    return text
