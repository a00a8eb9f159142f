"""The line the kernel logs for a SELinux denial (an AVC message)."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model.selinux import SELinuxRequest


def is_selinux_request(access: object) -> bool:
    """Is ``access`` a SELinux request? One exists only once the SELinux model is
    loaded, so an AppArmor report need not load it to tell."""
    module = sys.modules.get("lsmsim.model.selinux")
    return module is not None and isinstance(access, module.SELinuxRequest)


def avc_line(request: SELinuxRequest, permissive: bool = False, detail: str = "") -> str:
    """``avc:  denied  { perm } for  scontext=... tcontext=... tclass=... permissive=0``;
    ``detail`` is what the kernel names the object by, e.g. ``path="/etc/shadow"`` or
    ``capability=21``."""
    where = f"{detail} " if detail else ""
    return (f"avc:  denied  {{ {request.perm} }} for  {where}scontext={request.scontext} "
            f"tcontext={request.tcontext} tclass={request.tclass} "
            f"permissive={int(permissive)}")


def describe_selinux(request: SELinuxRequest) -> str:
    """A one-line human description of a SELinux request."""
    text = f"{request.scontext} {request.perm} {request.tclass} {request.tcontext}"
    on = [f"{name}={'on' if value else 'off'}" for name, value in request.booleans]
    if request.parent_booleans is not None:
        parent = [f"{name}={'on' if value else 'off'}" for name, value in request.parent_booleans]
        on = ([f"child: {' '.join(on)}"] if on else []) + \
            ([f"parent: {' '.join(parent)}"] if parent else [])
        return text + (f" [{'; '.join(on)}]" if on else "")
    return text + (f" [{' '.join(on)}]" if on else "")
