"""The line the host's kernel would log for a denial, in AppArmor's audit format."""
from __future__ import annotations

from ..classes import CLASSES
from ..model.requests import Request
from .avc import avc_line, is_selinux_request


def audit_line(access: Request, profile: str, info: str | None = None) -> str:
    """``apparmor="DENIED" ...`` for ``access`` denied by ``profile`` (an AVC line
    for a SELinux request)."""
    if is_selinux_request(access):
        return avc_line(access)
    rule_class = CLASSES.of_request(access)
    if rule_class is None:
        raise TypeError(f"no audit format for {type(access).__name__}")
    operation, fields = rule_class.audit(access)
    line = f'apparmor="DENIED" operation="{operation}" profile="{profile}" {fields}'
    return line + (f' info="{info}"' if info else "")
