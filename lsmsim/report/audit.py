"""The line the host's kernel would log for a denial, in AppArmor's audit format."""
from __future__ import annotations

from ..model.mount import MountRequest, mount_audit_fields
from ..model.mqueue import MqueueRequest
from ..model.task_classes import IoUringRequest, UsernsRequest
from ..model.change_profile import ChangeProfileRequest
from ..model.link import LinkRequest
from ..model.names import CAPABILITIES, PROTOCOLS
from ..model.requests import (CapabilityRequest, ExecRequest, FileRequest, IpcRequest,
                              NetworkRequest, PtraceRequest, Request, SignalRequest, sorted_perms)
from ..model.selinux import SELinuxRequest
from .avc import avc_line

# Owner accesses are logged with fsuid == ouid; "other" ones with a different owner.
_OWNER_IDS = 'fsuid=1000 ouid=1000'
_OTHER_IDS = 'fsuid=1000 ouid=0'


def _file_operation(perms: frozenset[str]) -> str:
    if perms <= {"m"}:
        return "file_mmap"
    if perms <= {"k"}:
        return "file_lock"
    if perms <= {"l"}:
        return "link"
    return "open"


def audit_line(access: Request, profile: str, info: str | None = None) -> str:
    """``apparmor="DENIED" ...`` for ``access`` denied by ``profile`` (an AVC line
    for a SELinux request)."""
    head = f'apparmor="DENIED" operation="{{op}}" profile="{profile}"'
    match access:
        case FileRequest(path=path, perms=perms, owner=owner):
            mask = "".join(sorted_perms(perms))
            line = (head.format(op=_file_operation(perms)) + f' name="{path}" '
                    f'requested_mask="{mask}" denied_mask="{mask}" '
                    + (_OWNER_IDS if owner else _OTHER_IDS))
        case ExecRequest(path=path, owner=owner, target=target):
            line = (head.format(op="exec") + f' name="{path}" requested_mask="x" '
                    f'denied_mask="x" ' + (_OWNER_IDS if owner else _OTHER_IDS))
            if target:
                line += f' target="{target}"'
        case CapabilityRequest(name=name):
            line = head.format(op="capable") + (f' capability={CAPABILITIES.index(name)} '
                                                f'capname="{name}"')
        case NetworkRequest(family=family, sock_type=sock_type, protocol=protocol):
            number = PROTOCOLS[protocol][0] if protocol else 0
            line = head.format(op="create") + (f' family="{family}" sock_type="{sock_type}" '
                                               f'protocol={number} requested_mask="create" '
                                               'denied_mask="create"')
        case SignalRequest(perm=perm, signal=signal, peer=peer):
            line = head.format(op="signal") + (f' requested_mask="{perm}" denied_mask="{perm}" '
                                               f'signal={signal} peer="{peer}"')
        case PtraceRequest(perm=perm, peer=peer):
            line = head.format(op="ptrace") + (f' requested_mask="{perm}" denied_mask="{perm}" '
                                               f'peer="{peer}"')
        case IpcRequest(kind=kind, perm=perm, fields=fields):
            values = " ".join(f'{name}="{value}"' for name, value in fields)
            line = head.format(op=f"{kind}_{perm}") + (f' requested_mask="{perm}" '
                                                        f'denied_mask="{perm}" {values}')
        case MountRequest():
            op = {"pivot_root": "pivotroot"}.get(access.operation, access.operation)
            line = head.format(op=op) + " error=-13 " + mount_audit_fields(access)
        case UsernsRequest(perm=perm):
            line = head.format(op=f"userns_{perm}") + (f' class="namespace" error=-13 '
                                                       f'requested="userns_{perm}" '
                                                       f'denied="userns_{perm}"')
        case IoUringRequest(perm=perm, label=label):
            op = "uring_sqpoll" if perm == "sqpoll" else "uring_override"
            line = head.format(op=op) + (f' class="io_uring" error=-13 requested="{perm}" '
                                         f'denied="{perm}"' + (f' tcontext="{label}"' if label else ""))
        case MqueueRequest(perm=perm, queue_type=queue_type, name=name, label=label):
            line = head.format(op=f"mqueue_{perm}") + (
                f' class="{queue_type}_mqueue" error=-13 name="{name}" requested="{perm}" '
                f'denied="{perm}" peer="{label}"')
        case LinkRequest(link=link, target=target, owner=owner):
            line = (head.format(op="link") + f' name="{link}" requested_mask="l" '
                    f'denied_mask="l" ' + (_OWNER_IDS if owner else _OTHER_IDS)
                    + f' target="{target}"')
        case ChangeProfileRequest(target=target, exec=None):
            line = head.format(op="change_profile") + f' name="{target}"'
        case ChangeProfileRequest(target=target, exec=path):
            line = head.format(op="change_onexec") + f' name="{path}" target="{target}"'
        case SELinuxRequest():
            return avc_line(access)
        case _:
            raise TypeError(f"no audit format for {type(access).__name__}")
    return line + (f' info="{info}"' if info else "")
