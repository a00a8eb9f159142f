"""How one access looks in each layer of a stack.

AppArmor layers see the same paths and names as the task (the LXD case). A SELinux
layer sees a task of any layer below as its own ``subject`` context and an object of
the layer below through that layer's ``object_labels``; it sees a file opened by path
through its own ``file_contexts``, and a capability or socket through the classes the
kernel checks for them. An access a layer has no view of is not mediated there.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..model.requests import CapabilityRequest, FileRequest, NetworkRequest, Request
from ..model.selinux import Context, Level, SELinuxPolicy, SELinuxRequest

if TYPE_CHECKING:  # the stack module reads labels through this one
    from .stack import Layer

# Classes whose object is a task: in a parent layer the peer carries the parent's subject.
TASK_CLASSES = frozenset({"process", "process2"})

# Capabilities 32 and up are checked in class cap2.
_CAP2 = frozenset({"mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend",
                   "audit_read", "perfmon", "bpf", "checkpoint_restore"})

# What a file permission letter asks of SELinux, for files and for directories.
FILE_PERMS = {"r": ("read",), "w": ("write",), "a": ("append",), "x": ("execute",),
              "k": ("lock",), "l": ("link",), "m": ("map",)}
DIR_PERMS = {"r": ("read",), "w": ("write", "add_name", "remove_name"), "a": ("add_name",),
             "x": ("search",), "k": ("lock",), "l": ("link",), "m": ("read",)}

_SOCKET_CLASSES = {("inet", "stream"): "tcp_socket", ("inet6", "stream"): "tcp_socket",
                   ("inet", "dgram"): "udp_socket", ("inet6", "dgram"): "udp_socket",
                   ("inet", "raw"): "rawip_socket", ("inet6", "raw"): "rawip_socket",
                   ("unix", "stream"): "unix_stream_socket",
                   ("unix", "seqpacket"): "unix_stream_socket",
                   ("unix", "dgram"): "unix_dgram_socket", ("packet", None): "packet_socket",
                   ("netlink", None): "netlink_socket", ("key", None): "key_socket",
                   ("appletalk", None): "appletalk_socket"}


def socket_class(request: NetworkRequest) -> str:
    return (_SOCKET_CLASSES.get((request.family, request.sock_type))
            or _SOCKET_CLASSES.get((request.family, None)) or "socket")


def selinux_view(layer: Layer, request: Request) -> tuple[list[SELinuxRequest], str]:
    """The SELinux requests an AppArmor-style access makes in a SELinux layer (empty
    when the layer cannot see it), and a note on how they were derived."""
    subject = layer.context
    match request:
        case FileRequest(path=path, perms=perms):
            if layer.file_contexts is None:
                return [], "no file_contexts for this layer: paths have no label here"
            tclass, context, entry = layer.file_contexts.lookup(path)
            if context is None:
                why = "<<none>>" if entry else "no file_contexts line matches"
                return [], f"{path} has no label in this layer ({why})"
            table = DIR_PERMS if tclass == "dir" else FILE_PERMS
            wanted = sorted({p for letter in perms for p in table[letter]})
            return ([SELinuxRequest(subject, context, tclass, p, layer.booleans)
                     for p in wanted],
                    f"{path} is {context} (file_contexts line {entry.line})")
        case CapabilityRequest(name=name):
            tclass = "cap2" if name in _CAP2 else "capability"
            return [SELinuxRequest(subject, subject, tclass, name, layer.booleans)], ""
        case NetworkRequest():
            return [SELinuxRequest(subject, subject, socket_class(request), "create",
                                   layer.booleans)], ""
    return [], f"{request.access_class} accesses are not mediated by SELinux here"


# A child's own domain changes are invisible above it (every task of the namespace has
# the parent's subject there); executing an entrypoint is, for the parent, an exec
# that keeps the task's label.
PARENT_PERMS = {("process", "transition"): (), ("process", "dyntransition"): (),
                ("file", "entrypoint"): ("execute_no_trans",)}


def map_to_parent(child: Layer, parent: Layer,
                  request: SELinuxRequest) -> list[SELinuxRequest] | None:
    """``request`` of a task in ``child`` (or below) as ``parent`` checks it: a list of
    requests (empty when the parent checks nothing for it), or ``None`` when the
    object has no label there."""
    if request.tclass in TASK_CLASSES:
        target = parent.context
    else:
        target = child.object_label(request.tcontext.type)
        if target is None:
            return None
    perms = PARENT_PERMS.get((request.tclass, request.perm), (request.perm,))
    return [replace(request, scontext=parent.context, tcontext=target, perm=perm,
                    booleans=parent.booleans, parent_booleans=None) for perm in perms]


def level_problem(policy: SELinuxPolicy, context: Context) -> str | None:
    """Why the MLS range of ``context`` (a subject or an object label a manifest
    writes) is not valid in ``policy``, or ``None``: every sensitivity and category
    must be declared, the categories allowed at that sensitivity, and the high level
    must dominate the low one, as the kernel requires of a valid context."""
    if context.range is None:
        return None
    if not policy.sensitivities:
        return f"{policy.file} declares no MLS sensitivities; write the context without a level"
    for level in (context.range.low, context.range.high):
        problem = _level_problem(policy, level)
        if problem:
            return problem
    if not context.range.high.dominates(context.range.low, policy.sensitivity_order):
        return "the high level does not dominate the low level"
    return None


def _level_problem(policy: SELinuxPolicy, level: Level) -> str | None:
    if level.sensitivity not in policy.sensitivities:
        return f"no sensitivity {level.sensitivity!r} in {policy.file}"
    unknown = sorted(level.categories - set(policy.categories))
    if unknown:
        return f"no category {', '.join(unknown)} in {policy.file}"
    allowed = policy.sensitivity_categories.get(level.sensitivity)
    if allowed is not None and not level.categories <= allowed:
        outside = sorted(level.categories - allowed)
        return (f"category {', '.join(outside)} is not allowed at sensitivity "
                f"{level.sensitivity} in {policy.file}")
    return None
