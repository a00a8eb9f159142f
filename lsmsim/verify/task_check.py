"""``child ⊆ parent`` for ``userns`` and ``io_uring``: one witness per permission."""
from __future__ import annotations

from typing import Iterator

from ..model.task_classes import IO_URING_PERMS, USERNS_PERMS, IoUringRule, UsernsRule
from .context import CheckContext
from .named_check import _check_named
from .task_spaces import IoUringSpace, UsernsSpace


def check_userns(ctx: CheckContext) -> Iterator[object]:
    yield from _check_named(ctx, UsernsRule, UsernsSpace,
                            lambda space, rule, request: space.perm == USERNS_PERMS.index(
                                request.perm), "userns")


def check_io_uring(ctx: CheckContext) -> Iterator[object]:
    yield from _check_named(ctx, IoUringRule, IoUringSpace,
                            lambda space, rule, request: space.perm == IO_URING_PERMS.index(
                                request.perm), "io_uring")
