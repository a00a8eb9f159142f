"""Address conditions of AppArmor 4 network rules (``ip=``, ``port=``, ``peer=(...)``),
validated as apparmor_parser does: addresses, ``addr/len`` prefixes and ``lo-hi``
ranges of one family, ``none``; ports and port ranges within 0..65535."""
from __future__ import annotations

import ipaddress
import re

_PEER_FAMILIES = ("inet", "inet6")


def check_ip(value: str) -> None:
    """Raise ValueError unless ``value`` is a valid ``ip=`` operand."""
    if value == "none":
        return
    if "/" in value:
        address, _, length = value.partition("/")
        ip = ipaddress.ip_address(address)
        if not length.isdigit() or int(length) > ip.max_prefixlen:
            raise ValueError(f"invalid prefix length in {value!r}")
        return
    if "-" in value:
        low, _, high = value.partition("-")
        lo, hi = ipaddress.ip_address(low), ipaddress.ip_address(high)
        if lo.version != hi.version or lo > hi:
            raise ValueError(f"invalid address range {value!r}")
        return
    ipaddress.ip_address(value)


def check_port(value: str) -> None:
    """Raise ValueError unless ``value`` is a port or an ascending port range."""
    parts = value.split("-")
    if len(parts) > 2 or not all(p.isdigit() and int(p) <= 65535 for p in parts):
        raise ValueError(f"invalid port {value!r}")
    if len(parts) == 2 and int(parts[0]) > int(parts[1]):
        raise ValueError(f"invalid port range {value!r}")


_CHECKS = {"ip": check_ip, "port": check_port}


# Only these permissions involve a peer address.
_PEER_PERMS = {"send", "receive", "connect", "accept", "r", "w", "rw", "read", "write"}


def check_conditions(conditions: list[tuple[str, str]], family: str | None,
                     perms: frozenset[str] = frozenset()) -> None:
    """Validate ``ip``/``port``/``peer`` conditions (ValueError with the reason)."""
    keys = [key for key, _ in conditions]
    for key in set(keys):
        if keys.count(key) > 1:
            raise ValueError(f"network condition {key!r} given twice")
    for key, value in conditions:
        if key == "peer":
            if perms and not perms <= _PEER_PERMS:
                raise ValueError(f"'peer=' does not apply to {', '.join(sorted(perms - _PEER_PERMS))}")
            inner = re.findall(r"([A-Za-z_]+)=([^\s()]+)", value.strip("()"))
            if not inner:
                raise ValueError(f"empty peer condition {value!r}")
            check_conditions(inner, family)
            continue
        if key not in _CHECKS:
            raise ValueError(f"invalid network condition {key!r}")
        if family is not None and family not in _PEER_FAMILIES:
            raise ValueError(f"'{key}=' applies to inet and inet6 only, not {family}")
        for item in re.split(r"[\s,()]+", value):
            if item:
                _CHECKS[key](item)
