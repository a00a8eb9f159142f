"""The checks apparmor_parser makes on ``mqueue`` rules (``mqueue.cc``):
``mqueue [PERMS] [type=posix|sysv] [label=LABEL] [NAME],`` where a POSIX queue is
named by a path and a System V queue by a positive integer."""
from __future__ import annotations

import re

from ...model.glob import Glob, GlobError
from ...model.mqueue import MqueueRule
from ...model.source import Source

MQUEUE_PERMS = frozenset({"create", "open", "delete", "getattr", "setattr", "write", "read"})
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\([^()]*\)|[^\s()"]+')


def _perm_words(word: str) -> list[str]:
    items = [w for w in re.split(r"[\s,()]+", word) if w]
    for item in items:
        # A mode string such as "rw" names read and write.
        if item not in MQUEUE_PERMS and not re.fullmatch(r"[rw]+", item):
            raise ValueError(f"invalid mqueue permission {item!r}")
    return items


def check_mqueue_rule(text: str) -> None:
    """Raise ValueError with the parser's reason if the rule body is refused."""
    build_mqueue_rule(text)


def build_mqueue_rule(text: str, deny: bool = False, audit: bool = False,
                      source: Source | None = None) -> MqueueRule:
    """The rule ``mqueue text,``; ValueError with the parser's reason when refused."""
    tokens = _TOKEN.findall(text)
    queue_type = name = label = None
    perms: set[str] = set()
    for position, token in enumerate(tokens):
        key, eq, value = token.partition("=")
        if eq and re.fullmatch(r"[A-Za-z_]+", key):
            value = value.strip('"')
            if key == "label":
                if not value:
                    raise ValueError("mqueue label= needs a value")
                label = value
            elif key == "type":
                if value not in ("posix", "sysv"):
                    raise ValueError(f"mqueue invalid type={value!r}")
                queue_type = value
            else:
                raise ValueError(f"invalid mqueue rule conditional {key!r}")
        elif token == "in":
            raise ValueError('keyword "in" is not allowed in mqueue rules')
        elif position == 0 and (token.startswith("(") or token in MQUEUE_PERMS
                                or re.fullmatch(r"[rw]+", token)):
            for word in _perm_words(token):
                perms.update((word,) if word in MQUEUE_PERMS else
                             ({"r": "read", "w": "write"}[letter] for letter in word))
        elif position == len(tokens) - 1 and name is None:
            name = token.strip('"')
        else:
            raise ValueError(f"unexpected {token!r} in mqueue rule")
    if name is not None:
        queue_type = _queue_type(name, queue_type)
    try:
        name_glob = None if name is None else Glob.parse(
            name if name.startswith("/") else str(int(name)))
        label_glob = None if label is None else Glob.parse(label)
    except GlobError as error:
        raise ValueError(f"bad mqueue name or label: {error}") from None
    return MqueueRule(frozenset(perms or MQUEUE_PERMS), queue_type, name_glob, label_glob,
                      deny, audit, source)


def _queue_type(name: str, queue_type: str | None) -> str:
    """The type a queue name implies, checked against the one given."""
    if name.startswith("/"):
        if queue_type == "sysv":
            raise ValueError(f"mqueue type=sysv invalid name {name!r}: System V message "
                             "queues are identified by a positive integer")
        return "posix"
    if name.isdigit():
        if queue_type == "posix":
            raise ValueError(f"mqueue type=posix invalid name {name!r}: POSIX message queue "
                             "names begin with a /")
        return "sysv"
    raise ValueError(f"mqueue invalid name {name!r}: message queue names begin with a / "
                     "or are a positive integer")
