"""``child ⊆ parent`` for ``userns`` and ``io_uring``: one witness per permission.
On automata, userns is decided by enumeration (one request) and io_uring as strings
(the permission, then the label ``override_creds`` takes)."""
from __future__ import annotations

from typing import Iterator

from ..automata.encodings import IO_URING
from ..model.task_classes import (IO_URING_PERMS, USERNS_PERMS, IoUringRule, UsernsRequest,
                                  UsernsRule)
from .context import CheckContext
from .named_check import Finite, _check_named
from .task_spaces import IoUringSpace, UsernsSpace

USERNS = Finite(lambda: (UsernsRequest(perm) for perm in USERNS_PERMS),
                lambda rule, request: request.perm)


def check_userns(ctx: CheckContext) -> Iterator[object]:
    yield from _check_named(ctx, UsernsRule, UsernsSpace,
                            lambda space, rule, request: space.perm == USERNS_PERMS.index(
                                request.perm), "userns", finite=USERNS)


def check_io_uring(ctx: CheckContext) -> Iterator[object]:
    yield from _check_named(ctx, IoUringRule, IoUringSpace,
                            lambda space, rule, request: space.perm == IO_URING_PERMS.index(
                                request.perm), "io_uring", strings=IO_URING)
