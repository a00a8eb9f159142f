"""``PAIRS.jsonl``: one pair or stack per line, read with positions for errors.

A line is a JSON object: ``{"child": FILE, "parent": FILE}`` with optional
``"include"`` (a list of folders), ``"child_profile"``, ``"parent_profile"``, ``"lsm"``
and ``"id"``; or ``{"stack": STACK.toml}``. Relative paths are relative to the pairs
file's folder. A pair without ``"id"`` is known by a hash of its line's content.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import PolicyError, Position

_KEYS = {"id", "child", "parent", "include", "child_profile", "parent_profile", "lsm", "stack"}


@dataclass(frozen=True)
class FleetPair:
    """One line of a pairs file, paths resolved."""

    id: str
    child: str | None = None
    parent: str | None = None
    include: tuple[str, ...] = ()
    child_profile: str | None = None
    parent_profile: str | None = None
    lsm: str | None = None
    stack: str | None = None

    def to_json(self) -> dict:
        return {key: value for key, value in
                (("child", self.child), ("parent", self.parent), ("stack", self.stack),
                 ("include", list(self.include)), ("child_profile", self.child_profile),
                 ("parent_profile", self.parent_profile), ("lsm", self.lsm))
                if value not in (None, [])}


def _pair(entry: object, base: Path, where: Position) -> FleetPair:
    if not isinstance(entry, dict):
        raise PolicyError("a pair is a JSON object", where)
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise PolicyError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})",
                          where)
    if ("stack" in entry) == ("child" in entry or "parent" in entry):
        raise PolicyError('a pair names "child" and "parent", or a "stack"', where)
    if "stack" not in entry and not ("child" in entry and "parent" in entry):
        raise PolicyError('a pair names both "child" and "parent"', where)
    include = entry.get("include", [])
    texts = [entry.get(k) for k in ("child", "parent", "stack", "child_profile",
                                    "parent_profile", "lsm")]
    if not isinstance(include, list) or not all(isinstance(i, str) for i in include) or \
            not all(t is None or isinstance(t, str) for t in texts):
        raise PolicyError('"include" is a list of folders, the other values are strings',
                          where)

    def path(value: str | None) -> str | None:
        return None if value is None else str(base / value)
    canonical = json.dumps({k: v for k, v in entry.items() if k != "id"}, sort_keys=True)
    return FleetPair(str(entry.get("id") or hashlib.sha256(canonical.encode()).hexdigest()[:16]),
                     path(entry.get("child")), path(entry.get("parent")),
                     tuple(path(i) for i in include), entry.get("child_profile"),
                     entry.get("parent_profile"), entry.get("lsm"), path(entry.get("stack")))


def read_pairs(path: str | Path) -> list[FleetPair]:
    """Every pair of the file, in order; blank lines and lines starting with ``#`` are
    skipped. Two pairs with one id are an error."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise PolicyError(f"cannot read pairs file: {error.strerror}",
                          Position(str(path), 1, 1)) from None
    pairs, seen = [], {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            raise PolicyError(f"not JSON: {error.msg}",
                              Position(str(path), number, error.colno)) from None
        pair = _pair(entry, path.parent, Position(str(path), number, 1))
        if pair.id in seen:
            raise PolicyError(f"pair id {pair.id!r} is already used on line {seen[pair.id]}",
                              Position(str(path), number, 1))
        seen[pair.id] = number
        pairs.append(pair)
    return pairs
