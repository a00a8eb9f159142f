"""``@{VAR}`` expansion: a variable stands for the alternation of its values."""
from __future__ import annotations

import re

from ...errors import PolicyError
from ...model.source import Source

_VAR = re.compile(r"@\{([A-Za-z0-9_]+)\}")


class Variables:
    """The preamble's variables (``=`` defines, ``+=`` appends)."""

    def __init__(self):
        self.values: dict[str, tuple[str, ...]] = {}

    def define(self, name: str, values: tuple[str, ...], append: bool, source: Source) -> None:
        if append:
            if name not in self.values:
                raise PolicyError(f"@{{{name}}} += before @{{{name}}} is defined", source.position)
            self.values[name] = self.values[name] + values
        elif name in self.values and self.values[name] != values:
            raise PolicyError(f"@{{{name}}} is defined twice", source.position)
        else:
            self.values[name] = values

    def expand(self, text: str, source: Source, extra: dict[str, str] | None = None,
               _seen: tuple[str, ...] = ()) -> str:
        """``text`` with each variable replaced by ``{v1,v2,...}`` (a single value as is).

        Only the variable's own trailing ``/`` is squashed against a following
        ``/``; doubled slashes written inside a literal alternation stay, as in
        apparmor_parser 3.0.8.
        """
        def replace(match: re.Match) -> str:
            name = match.group(1)
            if extra and name in extra:
                return extra[name]
            if name not in self.values:
                raise PolicyError(f"undefined variable @{{{name}}}", source.position)
            if name in _seen:
                raise PolicyError(f"variable @{{{name}}} refers to itself", source.position)
            values = [self.expand(v, source, extra, (*_seen, name)) for v in self.values[name]]
            if match.string.startswith("/", match.end()):
                # The parser drops a value's trailing '/' before a '/' ("@{HOME}/x").
                values = [v[:-1] if v.endswith("/") else v for v in values]
            return values[0] if len(values) == 1 else "{" + ",".join(values) + "}"
        return _VAR.sub(replace, text)


def escape_glob(text: str) -> str:
    """``text`` with glob specials escaped, as ``@{profile_name}`` is; a ``,`` stays
    bare, so inside ``{...}`` it still separates alternatives (as in the parser)."""
    return re.sub(r"([*?\[\]{}\\])", r"\\\1", text)
