"""``dbus`` and ``unix`` rules: permission words and conditions → :class:`IpcRule`,
with the checks apparmor_parser makes (unknown or repeated conditions, several
values, bad globs, conditions that do not go with the permissions asked for)."""
from __future__ import annotations

import re
from typing import Callable

from ...errors import PolicyError
from ...model.glob import Glob, GlobError, squash_into_alternations, squash_slashes
from ...model.names import IPC_CLASSES
from ...model.rules import IpcRule
from . import syntax as s
from .parser import unquote

_PEER_PAIR = re.compile(r'([A-Za-z_]+)=(\([^()]*\)|"(?:[^"\\]|\\.)*"|(?:\\.|[^\s,()\\])+)')


def _perms(decl: s.AccessDecl, shape) -> set[str]:
    perms: set[str] = set()
    for word in decl.perms:
        for item in (w for w in re.split(r"[\s,()]+", word) if w):
            if item in shape.perms:
                perms.add(item)
            elif item in shape.aliases:
                perms.update(shape.aliases[item])
            else:
                raise ValueError(f"invalid {decl.kind} permission or modifier {item!r}")
    return perms


def _conditions(decl: s.AccessDecl, shape) -> list[tuple[str, str, str]]:
    """(condition key as written, field name, value) for every condition."""
    out = []
    for key, value in decl.conditions:
        if key == "peer":
            inner = value.strip()
            if not (inner.startswith("(") and inner.endswith(")")):
                raise ValueError("peer conditions are written peer=(key=value ...)")
            pairs = _PEER_PAIR.findall(inner[1:-1])
            if not pairs:
                raise ValueError(f"empty peer condition {value!r}")
            for name, item in pairs:
                if item.startswith("("):  # a one-value list: name=(com.foo)
                    item = item[1:-1].strip()
                    if not item or re.search(r"[\s,]", item):
                        raise ValueError(f"peer {name} takes a single value")
                if name not in shape.peer_fields:
                    raise ValueError(f"invalid peer conditional {name!r}")
                out.append(("peer", f"peer_{name}", item))
        elif key in shape.fields:
            if value.startswith("("):
                value = value[1:-1].strip()
                if not value or re.search(r"[\s,]", value):
                    raise ValueError(f"{decl.kind} condition {key!r} takes a single value")
            out.append((key, key, value))
        else:
            raise ValueError(f"invalid {decl.kind} conditional {key!r}")
    fields = [field for _, field, _ in out]
    for field in set(fields):
        if fields.count(field) > 1:
            raise ValueError(f"{decl.kind} condition {field.replace('_', ' ')!r} given twice")
    return out


def build_ipc_rule(decl: s.AccessDecl, prefix: s.Prefix,
                   expand: Callable[[str], str]) -> IpcRule:
    """The rule ``decl`` stands for; ``expand`` expands variables in a value."""
    shape = IPC_CLASSES[decl.kind]
    try:
        perms = _perms(decl, shape)
        conditions = _conditions(decl, shape)
        # Without permissions the rule grants those its conditions go with.
        allowed = set(shape.perms)
        for key, _, _ in conditions:
            allowed &= shape.only_with.get(key, set(shape.perms))
        if perms and not perms <= allowed:
            keys = sorted({k for k, _, _ in conditions if not perms <= shape.only_with.get(
                k, set(shape.perms))})
            raise ValueError(f"{decl.kind} {', '.join(sorted(perms))} cannot be used with "
                             f"the condition(s) {', '.join(keys)}")
        if not perms and not allowed:
            raise ValueError(f"{decl.kind} conditions that go with no common permission")
        globs = []
        for _, field, value in conditions:
            text = expand(unquote(value))
            if field in ("path", "addr", "peer_addr"):  # slash-squashed like file paths
                text = squash_into_alternations(squash_slashes(text))
            try:
                globs.append((field, Glob.parse(text)))
            except GlobError as error:
                raise ValueError(f"bad {field.replace('_', ' ')} {text!r}: {error}") from None
    except ValueError as error:
        raise PolicyError(str(error), decl.source.position) from None
    return IpcRule(decl.kind, frozenset(perms or allowed), tuple(globs), prefix.deny,
                   prefix.audit, decl.source)
