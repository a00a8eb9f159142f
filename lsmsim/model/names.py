"""Finite name spaces the kernel mediates: capabilities, socket families and types."""
from __future__ import annotations

# Linux capability numbers (include/uapi/linux/capability.h), as AppArmor names them.
CAPABILITIES: tuple[str, ...] = (
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid",
    "setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
    "net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio",
    "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
    "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
    "audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
    "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
)

# Address families in kernel order (AF_* numbers), as the AppArmor parser names them.
NETWORK_FAMILIES: tuple[str, ...] = (
    "unspec", "unix", "inet", "ax25", "ipx", "appletalk", "netrom", "bridge", "atmpvc",
    "x25", "inet6", "rose", "netbeui", "security", "key", "netlink", "packet", "ash",
    "econet", "atmsvc", "rds", "sna", "irda", "pppox", "wanpipe", "llc", "ib", "mpls",
    "can", "tipc", "bluetooth", "iucv", "rxrpc", "isdn", "phonet", "ieee802154", "caif",
    "alg", "nfc", "vsock", "kcm", "qipcrtr", "smc", "xdp", "mctp",
)
NETWORK_PERM_WORDS = {"create", "bind", "connect", "listen", "accept", "send", "receive",
                      "getattr", "setattr", "getopt", "setopt", "shutdown", "r", "w", "rw",
                      "read", "write"}

# Socket types (SOCK_* numbers).
SOCKET_TYPES: dict[str, int] = {
    "stream": 1, "dgram": 2, "raw": 3, "rdm": 4, "seqpacket": 5, "dccp": 6, "packet": 10,
}

# Protocols the parser accepts in place of a type, with the socket type each implies.
PROTOCOLS: dict[str, tuple[int, tuple[str, ...]]] = {
    "tcp": (6, ("stream",)),
    "udp": (17, ("dgram",)),
    "icmp": (1, ("dgram", "raw")),
}

# Signal names the AppArmor parser accepts in ``set=(...)`` (signal.cc), plus rtmin+0..32.
SIGNALS: tuple[str, ...] = (
    "hup", "int", "quit", "ill", "trap", "abrt", "bus", "fpe", "kill", "usr1", "segv",
    "usr2", "pipe", "alrm", "term", "stkflt", "chld", "cont", "stop", "stp", "ttin", "ttou",
    "urg", "xcpu", "xfsz", "vtalrm", "prof", "winch", "io", "pwr", "sys", "emt", "exists",
    *(f"rtmin+{n}" for n in range(33)),
)
SIGNAL_PERMS: tuple[str, ...] = ("send", "receive")
# Words for signal permissions: r/read = receive, w/write = send.
SIGNAL_PERM_WORDS = {"send": "send", "write": "send", "w": "send",
                     "receive": "receive", "read": "receive", "r": "receive",
                     "rw": ("send", "receive")}
# trace and read are separate permissions in the compiled policy (neither implies the other).
PTRACE_PERMS: tuple[str, ...] = ("read", "trace", "readby", "tracedby")
PTRACE_PERM_WORDS = {"read": "read", "r": "read", "trace": "trace", "readby": "readby",
                     "tracedby": "tracedby", "w": "trace", "write": "trace",
                     "rw": ("read", "trace")}


class IpcClass:
    """The shape of one AppArmor IPC rule kind: its permissions (with their word
    aliases), its ``key=value`` conditions, its ``peer=(...)`` conditions, and
    which permissions each condition can go with."""

    def __init__(self, perms, aliases, fields, peer_fields, only_with):
        self.perms: tuple[str, ...] = perms
        self.aliases: dict[str, tuple[str, ...]] = aliases
        self.fields: tuple[str, ...] = fields
        self.peer_fields: tuple[str, ...] = peer_fields
        self.only_with: dict[str, frozenset[str]] = only_with

    @property
    def all_fields(self) -> tuple[str, ...]:
        return self.fields + tuple(f"peer_{f}" for f in self.peer_fields)


_RW = {"r": ("receive",), "read": ("receive",), "w": ("send",), "write": ("send",),
       "rw": ("send", "receive")}
_MESSAGE = frozenset({"send", "receive"})
_PEER_UNIX = frozenset({"send", "receive", "connect", "accept"})

IPC_CLASSES: dict[str, IpcClass] = {
    "dbus": IpcClass(
        ("send", "receive", "bind", "eavesdrop"), _RW,
        ("bus", "path", "interface", "member", "name"), ("name", "label"),
        {"path": _MESSAGE, "interface": _MESSAGE, "member": _MESSAGE, "peer": _MESSAGE,
         "name": frozenset({"bind"}),
         "bus": frozenset({"send", "receive", "bind", "eavesdrop"})}),
    "unix": IpcClass(
        ("create", "bind", "listen", "accept", "connect", "shutdown", "getattr", "setattr",
         "getopt", "setopt", "send", "receive"), _RW,
        ("type", "protocol", "addr"), ("addr", "label"),
        {"peer": _PEER_UNIX}),
}
