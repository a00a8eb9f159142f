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
