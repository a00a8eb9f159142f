"""The checks apparmor_parser makes on the rule kinds lsmsim keeps as text
(``all``, ``set``), and the rules built from the kinds the checker models without
a grammar rule of their own (``mount`` family, ``userns``, ``io_uring``, ``mqueue``)."""
from __future__ import annotations

import re

from ...model.glob import Glob, GlobError
from ...model.rules import OtherRule
from ...model.source import Source
from ...model.task_classes import IO_URING_PERMS, IoUringRule, UsernsRule
from .mount import MOUNT_KINDS, build_mount_rule
from .mqueue import build_mqueue_rule, check_mqueue_rule


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,()]+", text) if w]


def _check_io_uring(text: str) -> None:
    for word in _words(re.sub(r"\s*=\s*", "=", text)):
        key, eq, value = word.partition("=")
        if eq:
            if key != "label" or not value:
                raise ValueError(f"invalid io_uring condition {word!r}")
        elif word not in ("sqpoll", "override_creds"):
            raise ValueError(f"invalid io_uring permission {word!r}")


def _check_userns(text: str) -> None:
    if any(w != "create" for w in _words(text)):
        raise ValueError(f"invalid userns rule body {text!r}: only 'create' is allowed")


def _check_all(text: str) -> None:
    if text:
        raise ValueError("'all' takes no permissions or conditions")


def _check_set(text: str) -> None:
    match = re.fullmatch(r"rlimit\s+(\w+)\s*<=\s*(\S.*)", text)
    if not match:
        raise ValueError("'set' only sets resource limits: set rlimit NAME <= VALUE")
    name, value = match.groups()
    if name == "rttime" and re.fullmatch(r"\d+m", value):
        raise ValueError(f"ambiguous rttime unit in {value!r} (ms or min?)")


_CHECKS = {"mqueue": check_mqueue_rule, "io_uring": _check_io_uring, "userns": _check_userns,
           "all": _check_all, "set": _check_set}


def check_other_rule(kind: str, text: str) -> None:
    """Raise ValueError with the reason when the parser would refuse the rule."""
    check = _CHECKS.get(kind)
    if check is not None:
        check(text)


def _io_uring_rule(text: str, deny: bool, audit: bool, source: Source | None) -> IoUringRule:
    _check_io_uring(text)
    words = _words(re.sub(r"\s*=\s*", "=", text))
    perms = frozenset(w for w in words if w in IO_URING_PERMS) or frozenset(IO_URING_PERMS)
    labels = [w.partition("=")[2].strip('"') for w in words if w.startswith("label=")]
    if len(labels) > 1:
        raise ValueError("io_uring label given twice")
    try:
        label = Glob.parse(labels[0]) if labels else None
    except GlobError as error:
        raise ValueError(f"bad io_uring label {labels[0]!r}: {error}") from None
    return IoUringRule(perms, label, deny, audit, source)


def _userns_rule(text: str, deny: bool, audit: bool, source: Source | None) -> UsernsRule:
    _check_userns(text)
    return UsernsRule(deny=deny, audit=audit, source=source)


MODELLED_KINDS = MOUNT_KINDS | {"userns", "io_uring", "mqueue"}


def build_modelled_rule(kind: str, text: str, deny: bool = False, audit: bool = False,
                        source: Source | None = None) -> object:
    """The rule ``kind text,`` of a kind in :data:`MODELLED_KINDS` (an
    :class:`OtherRule` where its meaning is not modelled); ValueError with the
    parser's reason when apparmor_parser refuses it."""
    if kind in MOUNT_KINDS:
        return build_mount_rule(kind, text, deny, audit, source)
    if kind == "userns":
        return _userns_rule(text, deny, audit, source)
    if kind == "io_uring":
        return _io_uring_rule(text, deny, audit, source)
    if kind == "mqueue":
        return build_mqueue_rule(text, deny, audit, source)
    check_other_rule(kind, text)
    return OtherRule(kind, text, deny, audit, source)
