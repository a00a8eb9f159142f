"""File permission strings (``rw``, ``mrix``, ``Px``, ``PUx``) → letters and exec mode,
with the checks the AppArmor parser makes (``parse_sub_mode``)."""
from __future__ import annotations

from ...errors import PolicyError
from ...model.rules import ExecKind, ExecMode
from ...model.source import Source

_DATA = set("rwalkm")
_QUALIFIERS = set("iupcUPCI")

# Qualifier letters before 'x' → (kind, safe, fallback).
_EXEC_FORMS: dict[str, tuple[ExecKind, bool, ExecKind | None]] = {
    "i": (ExecKind.INHERIT, False, None),
    "u": (ExecKind.UNCONFINED, False, None),
    "U": (ExecKind.UNCONFINED, True, None),
    "p": (ExecKind.PROFILE, False, None),
    "P": (ExecKind.PROFILE, True, None),
    "c": (ExecKind.CHILD, False, None),
    "C": (ExecKind.CHILD, True, None),
    "pi": (ExecKind.PROFILE, False, ExecKind.INHERIT),
    "Pi": (ExecKind.PROFILE, True, ExecKind.INHERIT),
    "ci": (ExecKind.CHILD, False, ExecKind.INHERIT),
    "Ci": (ExecKind.CHILD, True, ExecKind.INHERIT),
    "pu": (ExecKind.PROFILE, False, ExecKind.UNCONFINED),
    "PU": (ExecKind.PROFILE, True, ExecKind.UNCONFINED),
    "Pu": (ExecKind.PROFILE, True, ExecKind.UNCONFINED),
    "pU": (ExecKind.PROFILE, True, ExecKind.UNCONFINED),
    "cu": (ExecKind.CHILD, False, ExecKind.UNCONFINED),
    "CU": (ExecKind.CHILD, True, ExecKind.UNCONFINED),
    "Cu": (ExecKind.CHILD, True, ExecKind.UNCONFINED),
}


def parse_mode(text: str, deny: bool, target: str | None,
               source: Source) -> tuple[frozenset[str], ExecMode | None]:
    """Letters granted (``w`` adds ``a``) and the exec transition, or a PolicyError."""
    perms: set[str] = set()
    groups: list[str] = []  # each exec group: its qualifier letters, closed by an 'x'
    pending = ""
    for ch in text:
        if ch in "RWM":  # the parser also reads these (and X) in upper case
            ch = ch.lower()
        if ch == "X":
            ch = "x"
        if ch in _DATA:
            if pending:
                raise PolicyError(f"invalid mode {text!r}: exec qualifier '{pending}' must "
                                  "come right before 'x'", source.position)
            perms.add(ch)
        elif ch in _QUALIFIERS:
            pending += ch
        elif ch == "x":
            groups.append(pending)
            pending = ""
        else:
            raise PolicyError(f"invalid mode {text!r}: unknown permission '{ch}'",
                              source.position)
    if pending:
        raise PolicyError(f"invalid mode {text!r}: exec qualifier '{pending}' without 'x'",
                          source.position)
    if len(set(groups)) > 1:  # the parser accepts a repeated mode ("pxpx"), not two modes
        raise PolicyError(f"invalid mode {text!r}: conflicting exec modes", source.position)
    exec_seen = bool(groups)
    qualifiers = groups[0] if groups else ""
    if "w" in perms and "a" in perms:
        raise PolicyError(f"invalid mode {text!r}: 'a' and 'w' are mutually exclusive",
                          source.position)
    if "w" in perms:
        perms.add("a")
    if not exec_seen:
        if target:
            raise PolicyError(f"'-> {target}' needs an exec mode (px, cx, ...)", source.position)
        return frozenset(perms), None
    perms.add("x")
    if deny:
        if qualifiers:
            raise PolicyError(f"invalid mode {text!r}: deny rules take a plain 'x', "
                              "not an exec qualifier", source.position)
        return frozenset(perms), None
    if not qualifiers:
        raise PolicyError(f"invalid mode {text!r}: 'x' must be preceded by an exec qualifier "
                          "'i', 'p', 'c' or 'u'", source.position)
    form = _EXEC_FORMS.get(qualifiers.replace("I", "i"))
    if form is None:
        raise PolicyError(f"invalid mode {text!r}: unknown exec mode '{qualifiers}x'",
                          source.position)
    kind, safe, fallback = form
    if target and kind in (ExecKind.INHERIT, ExecKind.UNCONFINED):
        raise PolicyError(f"'{qualifiers}x' cannot name a target profile", source.position)
    if kind is ExecKind.INHERIT:
        perms.add("m")  # the parser grants mmap with inherit (process_dfa_entry)
    return frozenset(perms), ExecMode(kind, safe, fallback, target)
