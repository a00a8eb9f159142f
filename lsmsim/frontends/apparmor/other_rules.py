"""The checks apparmor_parser makes on the rule kinds lsmsim keeps as text
(``all``, ``io_uring``, ``userns``, ``mqueue``, ``set``)."""
from __future__ import annotations

import re

from .mqueue import check_mqueue_rule


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
