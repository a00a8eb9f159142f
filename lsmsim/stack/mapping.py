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

from ..model.names import CAPABILITIES
from ..model.requests import (CapabilityRequest, FileRequest, NetworkRequest, PtraceRequest,
                              Request, SignalRequest)
from ..model.selinux import Context, Level, SELinuxPolicy, SELinuxRequest

if TYPE_CHECKING:  # the stack module reads labels through this one
    from .stack import Layer

# Classes whose object is a task: in a parent layer the peer carries the parent's subject.
TASK_CLASSES = frozenset({"process", "process2"})

# Capabilities 32 and up are checked in class cap2 (cap2_userns inside a user namespace).
_CAP2 = frozenset({"mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend",
                   "audit_read", "perfmon", "bpf", "checkpoint_restore"})

# What an AppArmor file permission letter lets a task do, as the SELinux permissions the
# kernel checks for it on the object itself (README, "AppArmor under SELinux"). 'r' also
# covers stat and a readable mmap; 'w' also covers create, delete, chmod/chown, rename
# and a shared writable mmap (the kernel's map_old_perms); an exec opens the program for
# reading and maps it; 'm' maps it executable.
FILE_PERMS: dict[str, tuple[str, ...]] = {
    "r": ("read", "open", "getattr", "map"),
    "w": ("write", "append", "open", "create", "unlink", "setattr", "rename", "map"),
    "a": ("append", "open"),
    "x": ("execute", "execute_no_trans", "read", "open", "map"),
    "m": ("map", "execute"),
    "l": ("link",),
    "k": ("lock",),
}
# The same for a directory (a path with a trailing '/'): 'r' lists and walks it, 'w'
# makes, removes and changes it and its entries.
DIR_PERMS: dict[str, tuple[str, ...]] = {
    "r": ("read", "open", "getattr", "search"),
    "w": ("write", "add_name", "remove_name", "create", "rmdir", "setattr", "rename"),
    "a": ("write", "add_name"),
    "x": ("search",),
    "m": ("map",),
    "l": ("link",),
    "k": ("lock",),
}
# Permissions that add or remove a name also ask the directory that holds it for these.
PARENT_DIR_PERMS: dict[str, tuple[str, ...]] = {
    "create": ("add_name", "search", "write"), "link": ("add_name", "search", "write"),
    "unlink": ("remove_name", "search", "write"), "rmdir": ("remove_name", "search", "write"),
    "rename": ("add_name", "remove_name", "search", "write"),
}

# AppArmor network permissions (all of them for a rule that names none), as SELinux
# checks them on the socket itself.
SOCKET_PERMS = ("create", "bind", "connect", "listen", "accept", "read", "write", "getattr",
                "setattr", "getopt", "setopt", "shutdown")
_SOCKET_CLASSES = {("inet", "stream"): "tcp_socket", ("inet6", "stream"): "tcp_socket",
                   ("inet", "dgram"): "udp_socket", ("inet6", "dgram"): "udp_socket",
                   ("inet", "raw"): "rawip_socket", ("inet6", "raw"): "rawip_socket",
                   ("unix", "stream"): "unix_stream_socket",
                   ("unix", "seqpacket"): "unix_stream_socket",
                   ("unix", "dgram"): "unix_dgram_socket", ("packet", None): "packet_socket",
                   ("key", None): "key_socket", ("appletalk", None): "appletalk_socket"}
# Protocols that keep the class of their socket type (others, e.g. icmp or sctp, get a
# class of their own depending on the policy's capabilities).
_PLAIN_PROTOCOLS = {None, "tcp", "udp"}


def file_perms(tclass: str, letters) -> tuple[str, ...]:
    """The SELinux permissions of ``tclass`` (``file`` or ``dir``) that the AppArmor
    file permission ``letters`` let a task use on the object."""
    table = DIR_PERMS if tclass == "dir" else FILE_PERMS
    return tuple(sorted({perm for letter in letters for perm in table[letter]}))


def parent_dir_perms(perms) -> tuple[str, ...]:
    """The ``dir`` permissions the directory holding an object must grant for
    ``perms`` on the object (adding or removing its name)."""
    return tuple(sorted({p for perm in perms for p in PARENT_DIR_PERMS.get(perm, ())}))


def parent_directory(path: str) -> str | None:
    """The directory holding ``path``, written with its trailing ``/`` (None for
    ``/``, which has none)."""
    bare = path.rstrip("/")
    if not bare:
        return None
    return bare[:bare.rindex("/") + 1]


def audit_name(path: str) -> str:
    """How an AVC line names a file: ``path="..."`` without the trailing ``/``."""
    return f'path="{path.rstrip("/") or "/"}"'


def capability_classes(name: str) -> tuple[str, str]:
    """The classes a capability is checked in: in the task's own user namespace's
    owner (``capability``/``cap2``) or in a user namespace it created
    (``cap_userns``/``cap2_userns``); a namespaced task may meet either."""
    return ("cap2", "cap2_userns") if name in _CAP2 else ("capability", "cap_userns")


def socket_class(request: NetworkRequest) -> str | None:
    """The SELinux class of a socket, or ``None`` where it depends on the policy's
    capabilities (``extended_socket_class``) or on a protocol the request leaves open."""
    if request.protocol not in _PLAIN_PROTOCOLS:
        return None
    return (_SOCKET_CLASSES.get((request.family, request.sock_type))
            or _SOCKET_CLASSES.get((request.family, None)))


def selinux_accesses(subject: Context, request: Request) -> tuple[list[tuple[str, str]], str]:
    """What a non-file access asks of a SELinux layer whose tasks all run as
    ``subject``: (class, permission) pairs on the subject itself, or none, with why."""
    match request:
        case CapabilityRequest(name=name):
            return [(tclass, name) for tclass in capability_classes(name)], ""
        case NetworkRequest():
            tclass = socket_class(request)
            if tclass is None:
                return [], ("the socket's SELinux class depends on its protocol or on the "
                            "policy's capabilities (extended_socket_class)")
            return [(tclass, perm) for perm in SOCKET_PERMS], ""
        case SignalRequest(perm="receive") | PtraceRequest(perm="readby" | "tracedby"):
            return [], "SELinux checks this as a permission of the other task"
        case SignalRequest() | PtraceRequest():
            return [], ("the other task's SELinux context is not known from its AppArmor "
                        "label")
    return [], f"{request.access_class} accesses have no SELinux mapping"


def selinux_view(layer: Layer, request: Request
                 ) -> tuple[list[SELinuxRequest], str, list[str]]:
    """The SELinux requests an AppArmor-style access makes in a SELinux layer (empty
    when the layer cannot see it), a note on how they were derived, and for each
    request what its AVC line names the object by. A file's own label answers for the
    object, its directory's for adding or removing its name."""
    subject = layer.context
    if isinstance(request, FileRequest):
        if layer.file_contexts is None:
            return [], "no file_contexts for this layer: paths have no label here", []
        tclass, context, entry = layer.file_contexts.lookup(request.path)
        if context is None:
            why = "<<none>>" if entry else "no file_contexts line matches"
            return [], f"{request.path} has no label in this layer ({why})", []
        perms = file_perms(tclass, request.perms)
        requests = [SELinuxRequest(subject, context, tclass, perm, layer.booleans)
                    for perm in perms]
        details = [audit_name(request.path)] * len(requests)
        notes = [f"{request.path} is {context} (file_contexts line {entry.line})"]
        holder = parent_directory(request.path)
        if holder is not None and parent_dir_perms(perms):
            _, above, line = layer.file_contexts.lookup(holder)
            if above is None:
                notes.append(f"its directory {holder} has no label here")
            else:
                requests += [SELinuxRequest(subject, above, "dir", perm, layer.booleans)
                             for perm in parent_dir_perms(perms)]
                details += [audit_name(holder)] * len(parent_dir_perms(perms))
                notes.append(f"its directory {holder} is {above} (file_contexts line "
                             f"{line.line})")
        return requests, "; ".join(notes), details
    pairs, note = selinux_accesses(subject, request)
    detail = (f"capability={CAPABILITIES.index(request.name)}"
              if isinstance(request, CapabilityRequest) else "")
    return ([SELinuxRequest(subject, subject, tclass, perm, layer.booleans)
             for tclass, perm in pairs], note, [detail] * len(pairs))


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
