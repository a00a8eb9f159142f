"""What ``signal`` and ``ptrace`` statements share: permission words, a ``peer=``
label glob and (signal only) ``set=``."""
from __future__ import annotations

import re

from ..errors import PolicyError
from ..model.glob import Glob, GlobError
from ..model.names import SIGNALS


def perm_words(decl, words: dict, every: tuple[str, ...]) -> frozenset:
    """The permissions the statement's words name (``every`` when it names none)."""
    perms: set[str] = set()
    for word in decl.perms:
        if word not in words:
            raise PolicyError(f"invalid {decl.kind} permission {word!r}", decl.source.position)
        value = words[word]
        perms.update((value,) if isinstance(value, str) else value)
    return frozenset(perms) if perms else frozenset(every)


def peer_and_signals(builder, decl, extra: dict, signal: bool) -> tuple[Glob | None, set[str]]:
    """The statement's ``peer=`` glob (None when it names none) and the signals of
    its ``set=`` (read only where ``signal``; empty when it names none)."""
    peer, signals = None, set()
    if [key for key, _ in decl.conditions].count("peer") > 1:
        raise PolicyError(f"{decl.kind} peer given twice", decl.source.position)
    for key, value in decl.conditions:
        if key == "peer":
            text = builder.expand(value.strip('"'), decl.source, extra)
            try:
                peer = Glob.parse(text)
            except GlobError as error:
                raise PolicyError(f"bad peer {text!r}: {error}", decl.source.position) from None
        elif key == "set" and signal:
            for name in re.split(r"[\s,()\"]+", value):
                if not name:
                    continue
                name = re.sub(r"^rtmin\+0*(\d)", r"rtmin+\1", name)
                if name not in SIGNALS:
                    raise PolicyError(f"unknown signal {name!r}", decl.source.position)
                signals.add(name)
        else:
            raise PolicyError(f"invalid {decl.kind} condition {key!r}", decl.source.position)
    return peer, signals
