"""An exec transition as the compiler encodes it (the exec-type bits of a file
permission), for the comparisons the parser and the kernel make on it."""
from __future__ import annotations

from .rules import ExecKind, ExecMode


def unsafe(mode: ExecMode) -> bool:
    """Is the unsafe bit (0x100: environment kept) set? Lower-case ``p``/``c``/``u``
    forms set it; ``ix`` sets it only when written ``unsafe ix``, which the model
    does not tell apart from ``ix``, so inherit reads as safe."""
    return not mode.safe and mode.kind is not ExecKind.INHERIT


def exec_type(mode: ExecMode) -> tuple:
    """What the compiler stores for ``mode`` in one half: two modes with different
    values conflict when their rules overlap."""
    return mode.kind, mode.fallback, mode.target, unsafe(mode)


def exec_subset(link: ExecMode | None, target: ExecMode | None) -> bool:
    """The kernel's ``xindex_is_subset``: the same transition, and not unsafe on the
    link where the target is safe."""
    if link is None or target is None:
        return link is target
    return (link.kind, link.fallback, link.target) == (target.kind, target.fallback,
                                                        target.target) \
        and (not unsafe(link) or unsafe(target))
