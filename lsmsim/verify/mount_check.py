"""``child ⊆ parent`` for the mount class: every mount, umount and pivot_root request
a child allow rule grants must be granted by the parent (one witness per kind of
mount the rule reaches beyond the parent with)."""
from __future__ import annotations

from typing import Iterator

from ..model.mount import PIVOT_ROOT, MountRule
from .context import CheckContext, Warning
from ..automata.encodings import MOUNT_CLASS
from .mount_space import MountSpace
from .named_check import _check_named


def _block(space: MountSpace, rule: MountRule, request) -> object:
    return space.same_kind(request)


def check_mount(ctx: CheckContext) -> Iterator[object]:
    for rule in ctx.pair.child.rules_of(MountRule):
        if rule.operation == PIVOT_ROOT and rule.target and not rule.deny:
            yield Warning(f"{rule.source}: the kernel does not change profile on pivot_root; "
                          f"'-> {rule.target}' is not compared")
    yield from _check_named(ctx, MountRule, MountSpace, _block, "mount", strings=MOUNT_CLASS)
