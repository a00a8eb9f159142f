"""Hard links: what the kernel asks AppArmor when a task links a new name to a file,
and the rules that answer it.

apparmor_parser compiles ``link [subset] NEW -> TARGET,`` (and the ``l`` letter of a
file rule, whose target is any path) into two file-DFA entries (parser_regex.c
``process_dfa_entry``): ``l`` on NEW alone, and ``l`` on the pair ``NEW \\0 TARGET``.
``subset`` adds bit 0x20 to the pair, in the owner half only (``LINK_TO_LINK_SUBSET``
shifts the owner link bit; an ``other`` rule never carries it); a file rule's ``l``
always adds it. A ``deny`` masks ``l`` on the pair only.

The kernel (security/apparmor/file.c ``profile_path_link``) allows a link when NEW
has ``l``, the pair has ``l``, and, where the pair carries the subset bit, every
permission held on NEW (``l`` aside) is also held on TARGET and an exec transition
on NEW is the same as the one on TARGET (``xindex_is_subset``). Both names are of
one inode, so one half (owner or other) decides for both. Each allowing pair entry
comes with its own NEW entry, so the pair decides alone.
"""
from __future__ import annotations

from dataclasses import dataclass

from .glob import Glob
from .requests import sorted_perms
from .rules import Half, Qualifier
from .source import Source

# The target of a file rule's ``l``: the parser pairs it with ``/[^/].*`` (every
# canonical path but ``/``).
ANY_TARGET = Glob.parse("/[^/]**")


@dataclass(frozen=True)
class LinkRequest:
    """Creating the hard link ``link`` to the existing file ``target``; ``owner``
    says whether the task's fsuid owns the file (AppArmor's owner half)."""

    link: str
    target: str
    owner: bool = False
    access_class = "file"

    def to_json(self) -> dict:
        return {"class": "file", "path": self.link, "perms": sorted_perms("l"),
                "target": self.target, "owner": self.owner}


@dataclass(frozen=True)
class LinkRule:
    """``[audit] [deny] [owner|other] link [subset] LINK -> TARGET,``, or the ``l`` of
    ``PATH l,`` (``target`` :data:`ANY_TARGET`, ``subset`` set)."""

    link: Glob
    target: Glob
    subset: bool = False
    qualifier: Qualifier = Qualifier.BOTH
    deny: bool = False
    audit: bool = False
    source: Source | None = None

    def covers(self, path: str, owner: bool) -> bool:
        """Does the rule put ``l`` on ``path`` alone (the first entry of the pair)?"""
        return self.qualifier.covers(Half.OWNER if owner else Half.OTHER) \
            and self.link.matches(path)

    def matches(self, request: LinkRequest) -> bool:
        """Does the rule's pair entry match the request (in the request's half)?"""
        return self.covers(request.link, request.owner) and self.target.matches(request.target)

    def requires_subset(self, half: Half) -> bool:
        """Does a match of this allow rule ask for the subset test in ``half``?"""
        return self.subset and half is Half.OWNER and self.qualifier.covers(half)
