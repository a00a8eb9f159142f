"""``mount``/``remount``/``umount``/``pivot_root`` rules are kept as text for now;
this module makes the checks apparmor_parser makes on them (unknown options,
options that contradict each other, propagation or remount with a source)."""
from __future__ import annotations

import re

_FLAG_WORDS = {
    "ro", "r", "read-only", "rw", "w", "suid", "nosuid", "dev", "nodev", "exec", "noexec",
    "sync", "async", "remount", "mand", "nomand", "dirsync", "symfollow", "nosymfollow",
    "atime", "noatime", "diratime", "nodiratime", "bind", "B", "move", "M", "rbind", "R",
    "verbose", "silent", "loud", "acl", "noacl", "relatime", "norelatime", "iversion",
    "noiversion", "strictatime", "nostrictatime", "lazytime", "nolazytime", "user", "nouser",
}
_PROPAGATION = {f"{make}{rec}{kind}" for make in ("", "make-") for rec in ("", "r")
                for kind in ("unbindable", "private", "slave", "shared")}
OPTIONS = _FLAG_WORDS | _PROPAGATION
_SAME = {"r": "ro", "read-only": "ro", "w": "rw"}
_OPPOSITES = [("ro", "rw"), ("strictatime", "nostrictatime"), ("lazytime", "nolazytime"),
              ("symfollow", "nosymfollow")]
_CONDITION = re.compile(r"(options|fstype|vfstype)\s*(=|\s+in\s)\s*(\([^()]*\)|\S+)")


def check_mount_rule(text: str) -> None:
    """Raise ValueError with the parser's reason if the rule body is refused."""
    for key, op, value in _CONDITION.findall(text):
        if not value.startswith("("):
            if op.strip() == "in" or "," in re.sub(r"\{[^{}]*\}", "", value):
                raise ValueError(f"{key} lists are written in parentheses: {key}=(a, b)")
            items = [value]
        else:
            items = [w for w in re.split(r"[\s,]+", value[1:-1]) if w]
        if key != "options":
            continue
        unknown = [w for w in items if w not in OPTIONS]
        if unknown:
            raise ValueError(f"unknown mount option {unknown[0]!r}")
        if op.strip() == "=":
            chosen = {_SAME.get(w, w) for w in items}
            for a, b in _OPPOSITES:
                if a in chosen and b in chosen:
                    raise ValueError(f"mount options {a!r} and {b!r} contradict each other")
        paths = re.sub(r"(options|fstype|vfstype)\s*(=|\s+in\s)\s*(\([^()]*\)|\S+)", "", text)
        has_source = bool(paths.split("->")[0].strip()) and "->" in paths
        if has_source and (set(items) & _PROPAGATION or "remount" in items):
            raise ValueError("propagation and remount options take a mount point only, "
                             "not a source")
