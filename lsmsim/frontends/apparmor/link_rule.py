"""``link [subset] NEW -> TARGET,`` → :class:`LinkRule`."""
from __future__ import annotations

import re
from typing import Callable

from ...model.glob import Glob
from ...model.link import LinkRule
from ...model.rules import Qualifier
from ...model.source import Source
from .parser import unquote

_LINK = re.compile(r'(subset\s+)?("(?:[^"\\]|\\.)*"|\S+?)\s*->\s*("(?:[^"\\]|\\.)*"|\S+)')


def build_link_rule(body: str, qualifier: Qualifier, deny: bool, audit: bool, source: Source,
                    glob: Callable[[str], Glob]) -> LinkRule:
    """The rule for the text after ``link``; ``glob`` expands and parses a path (and
    refuses one that does not start with '/' or a variable). Raises ValueError when
    the text is not ``[subset] NEW -> TARGET``."""
    match = _LINK.fullmatch(body.strip())
    if match is None:
        raise ValueError(f"invalid link rule {body!r}: expected 'link [subset] NEW -> TARGET'")
    subset, new, target = match.groups()
    return LinkRule(glob(unquote(new)), glob(unquote(target)), bool(subset), qualifier, deny,
                    audit, source)
