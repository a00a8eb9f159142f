"""The checks apparmor_parser makes on ``mqueue`` rules (``mqueue.cc``):
``mqueue [PERMS] [type=posix|sysv] [label=LABEL] [NAME],`` where a POSIX queue is
named by a path and a System V queue by a positive integer."""
from __future__ import annotations

import re

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
    tokens = _TOKEN.findall(text)
    queue_type = name = None
    for position, token in enumerate(tokens):
        key, eq, value = token.partition("=")
        if eq and re.fullmatch(r"[A-Za-z_]+", key):
            value = value.strip('"')
            if key == "label":
                if not value:
                    raise ValueError("mqueue label= needs a value")
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
            _perm_words(token)
        elif position == len(tokens) - 1 and name is None:
            name = token.strip('"')
        else:
            raise ValueError(f"unexpected {token!r} in mqueue rule")
    if name is None:
        return
    if name.startswith("/"):
        if queue_type == "sysv":
            raise ValueError(f"mqueue type=sysv invalid name {name!r}: System V message "
                             "queues are identified by a positive integer")
    elif name.isdigit():
        if queue_type == "posix":
            raise ValueError(f"mqueue type=posix invalid name {name!r}: POSIX message queue "
                             "names begin with a /")
    else:
        raise ValueError(f"mqueue invalid name {name!r}: message queue names begin with a / "
                         "or are a positive integer")
