"""``mqueue`` rules are refused where apparmor_parser 4 refuses them (parser_yacc.y,
mqueue.cc)."""
from __future__ import annotations

import pytest

from lsmsim.errors import PolicyError

from .helpers import load_text


def _load(line: str):
    return load_text("profile p {\n  " + line + "\n}\n")


@pytest.mark.parametrize("line", [
    "mqueue,", "mqueue type=posix,", "mqueue type=sysv,", "mqueue label=bar,", "mqueue 1234,",
    "mqueue /bar,", "mqueue type=sysv 1234,", "mqueue type=posix label=bar /baz,",
    "mqueue (create, getattr, setattr),", "mqueue (open delete),", "mqueue rw,",
    "mqueue (create, write) type=posix label=baz /bar,", "deny mqueue,", "audit allow mqueue,",
])
def test_accepted(line):
    _load(line)


@pytest.mark.parametrize("line,message", [
    ("mqueue label=,", "label"),
    ("mqueue type=,", "type"),
    ("mqueue type=sysv /queuename,", "positive integer"),
    ("mqueue type=posix 1234,", "begin with a /"),
    ("mqueue invalidaccess /queuename,", "invalidaccess"),
    ("mqueue type=posixfoo,", "posixfoo"),
    ("mqueue foo,", "invalid name"),
    ("mqueue 1234foo,", "invalid name"),
    ("mqueue (create, bogus),", "bogus"),
    ("mqueue peer=x,", "conditional"),
    ("owner mqueue,", "owner prefix"),
])
def test_refused(line, message):
    with pytest.raises(PolicyError, match=message):
        _load(line)
