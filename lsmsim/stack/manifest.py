"""Stack manifests: a TOML file that describes a tree of namespace layers.

```toml
name = "libvirt-lxd"

[layers.host]                       # one table per layer, named
lsm = "apparmor"                    # apparmor | selinux | cil (default: from the file)
policy = ["../svirt/libvirt-qemu.aa"]   # relative to the manifest
include = ["../apparmor.d"]         # AppArmor include roots
subject = "libvirt-6f1c..."         # what the tasks of this layer and every layer below
                                    # carry in this layer: a profile or a context

[layers.container]
parent = "host"                     # the layer above; none for the root
...

[layers.container.object_labels]    # SELinux: how this layer's object types appear
container_file_t = "system_u:object_r:svirt_image_t:s0:c1,c2"   # in the parent layer

[layers.host.booleans]              # SELinux: the booleans the layer runs with
virt_use_nfs = true                 # (the policy's defaults otherwise)
```

This module only reads and validates the text; :mod:`lsmsim.stack.stack` loads the
policies and builds the graph.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import PolicyError, Position

LSMS = ("apparmor", "selinux", "cil")
_LAYER_KEYS = {"lsm", "policy", "include", "subject", "parent", "object_labels", "default_label",
               "file_contexts", "booleans", "description"}
_TOP_KEYS = {"name", "description", "layers"}


@dataclass(frozen=True)
class LayerSpec:
    """One layer as the manifest describes it (paths already resolved)."""

    name: str
    lsm: str | None
    policy: tuple[Path, ...]
    include: tuple[Path, ...]
    subject: str | None
    parent: str | None
    object_labels: tuple[tuple[str, str], ...]
    default_label: str | None
    file_contexts: Path | None
    booleans: tuple[tuple[str, bool], ...]
    description: str
    position: Position


@dataclass(frozen=True)
class Manifest:
    """A whole manifest: its file, name and layers in the order written."""

    file: Path
    name: str
    description: str
    layers: tuple[LayerSpec, ...]


def _layer_position(text: str, file: str, name: str) -> Position:
    """Where ``[layers.NAME]`` is written (TOML readers keep no positions)."""
    pattern = re.compile(r"^[ \t]*\[\s*layers\s*\.\s*\"?" + re.escape(name) + r"\"?\s*\]", re.M)
    match = pattern.search(text)
    if match is None:
        return Position(file, 1, 1)
    line = text.count("\n", 0, match.start()) + 1
    return Position(file, line, match.start() - text.rfind("\n", 0, match.start()))


def _byte_position(data: bytes, offset: int, file: str) -> Position:
    """Line and column (in characters) of byte ``offset`` of ``data``."""
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return Position(file, data.count(b"\n", 0, offset) + 1, column)


def _strings(value, what: str, position: Position) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PolicyError(f"{what} must be a string or a list of strings", position)


def _optional_string(table: dict, key: str, position: Position) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise PolicyError(f"{key} must be a string", position)
    return value


def _resolve(base: Path, path: str) -> Path:
    """``path`` relative to the manifest's folder, without ``..`` detours."""
    return Path(os.path.normpath(base / path))


def _layer(name: str, table, base: Path, text: str, file: str) -> LayerSpec:
    position = _layer_position(text, file, name)
    if not isinstance(table, dict):
        raise PolicyError(f"layer {name!r} must be a table", position)
    unknown = sorted(set(table) - _LAYER_KEYS)
    if unknown:
        raise PolicyError(f"layer {name!r}: unknown key(s) {', '.join(unknown)}; known: "
                          f"{', '.join(sorted(_LAYER_KEYS))}", position)
    lsm = _optional_string(table, "lsm", position)
    if lsm is not None and lsm not in LSMS:
        raise PolicyError(f"layer {name!r}: lsm must be one of {', '.join(LSMS)}", position)
    if "policy" not in table:
        raise PolicyError(f"layer {name!r} names no policy file", position)
    policy = tuple(_resolve(base, p) for p in _strings(table["policy"], "policy", position))
    if len(policy) != 1:
        raise PolicyError(f"layer {name!r}: give exactly one policy file (it may include "
                          "others)", position)
    include = tuple(_resolve(base, p)
                    for p in _strings(table.get("include", []), "include", position))
    labels = table.get("object_labels", {})
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise PolicyError(f"layer {name!r}: object_labels maps type names to contexts "
                          "(strings)", position)
    contexts = _optional_string(table, "file_contexts", position)
    booleans = table.get("booleans", {})
    if not isinstance(booleans, dict) or not all(isinstance(v, bool) for v in booleans.values()):
        raise PolicyError(f"layer {name!r}: booleans maps names to true or false", position)
    return LayerSpec(
        name=name, lsm=lsm, policy=policy, include=include,
        subject=_optional_string(table, "subject", position),
        parent=_optional_string(table, "parent", position),
        object_labels=tuple(sorted(labels.items())),
        default_label=_optional_string(table, "default_label", position),
        file_contexts=_resolve(base, contexts) if contexts else None,
        booleans=tuple(sorted(booleans.items())),
        description=_optional_string(table, "description", position) or "",
        position=position)


def read_manifest(path: str | Path) -> Manifest:
    """Read and validate a stack manifest; errors name the file and the line."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise PolicyError("not valid UTF-8 (TOML is UTF-8 text)",
                          _byte_position(path.read_bytes(), error.start, file)) from None
    except OSError as error:
        reason = "no such file" if isinstance(error, FileNotFoundError) else \
            f"cannot read: {error.strerror}"
        raise PolicyError(reason, Position(file, 1, 1)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
        where = Position(file, int(match[1]), int(match[2])) if match else Position(file, 1, 1)
        raise PolicyError(f"not valid TOML: {re.sub(r' [(]at .*', '', str(error))}",
                          where) from None
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise PolicyError(f"unknown top-level key(s) {', '.join(unknown)}; a stack has "
                          "name, description and [layers.NAME] tables", Position(file, 1, 1))
    layers = data.get("layers")
    if not isinstance(layers, dict) or not layers:
        raise PolicyError("a stack needs at least one [layers.NAME] table", Position(file, 1, 1))
    base = path.parent
    specs = tuple(_layer(name, table, base, text, file) for name, table in layers.items())
    return Manifest(file=path, name=str(data.get("name", path.stem)),
                    description=str(data.get("description", "")), layers=specs)
