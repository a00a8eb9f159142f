#!/usr/bin/env python3
"""Write a listing of real paths for ``lsmsim check --measure --paths LISTING``.

The paths are those the installed Debian packages ship (``/var/lib/dpkg/info/*.list``,
the files ``dpkg -L`` reads), plus files every Debian system has that no package
lists (``/etc/shadow``, created when the system is installed) and the standard
entries of ``/proc``, ``/sys`` and ``/dev``. Paths are written as AppArmor sees them
on this machine: a package path through a linked folder is written where the link
leads (``/bin/cat`` is ``/usr/bin/cat`` where ``/bin`` links to ``usr/bin``), and a
folder that exists ends in ``/``. One path per line, sorted; a few MB for a typical
installation.

    python scripts/make_path_listing.py -o paths.txt
    python scripts/make_path_listing.py --dpkg-info /var/lib/dpkg/info > paths.txt
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DPKG_INFO = "/var/lib/dpkg/info"

# Files the installer or maintainer scripts create, so no package lists them.
SYSTEM_FILES = """
/etc/passwd /etc/shadow /etc/group /etc/gshadow /etc/subuid /etc/subgid
/etc/hostname /etc/hosts /etc/fstab /etc/machine-id /etc/resolv.conf /etc/mtab
/etc/sudoers /etc/crypttab /etc/timezone /etc/localtime /etc/ld.so.cache
/etc/ssh/ssh_host_rsa_key /etc/ssh/ssh_host_ecdsa_key /etc/ssh/ssh_host_ed25519_key
/etc/ssl/private/ /etc/apparmor.d/ /etc/libvirt/qemu/ /var/lib/dbus/machine-id
/root/ /root/.bashrc /root/.profile /root/.ssh/ /root/.ssh/authorized_keys
/home/ /var/log/auth.log /var/log/syslog /var/log/wtmp /var/log/btmp /var/log/lastlog
/var/lib/libvirt/images/ /var/lib/libvirt/qemu/ /var/run/ /run/ /tmp/ /var/tmp/
/boot/ /boot/grub/grub.cfg /swapfile
"""

# The entries of the kernel's file systems that policies talk about, for one process
# (pid 1) and for the task itself.
PROC = """
/proc/ /proc/cmdline /proc/cpuinfo /proc/meminfo /proc/mounts /proc/filesystems
/proc/kcore /proc/kmsg /proc/kallsyms /proc/modules /proc/partitions /proc/stat
/proc/uptime /proc/version /proc/loadavg /proc/swaps /proc/sysrq-trigger /proc/keys
/proc/timer_list /proc/sched_debug /proc/acpi/ /proc/scsi/ /proc/bus/pci/devices
/proc/sys/ /proc/sys/kernel/core_pattern /proc/sys/kernel/modprobe /proc/sys/kernel/hostname
/proc/sys/kernel/randomize_va_space /proc/sys/vm/overcommit_memory /proc/sys/fs/binfmt_misc/
/proc/sys/fs/binfmt_misc/register /proc/sys/net/ipv4/ip_forward /proc/sys/net/core/somaxconn
/proc/1/ /proc/1/cmdline /proc/1/environ /proc/1/mem /proc/1/maps /proc/1/status
/proc/1/stat /proc/1/mounts /proc/1/mountinfo /proc/1/cgroup /proc/1/attr/current
/proc/1/attr/apparmor/current /proc/1/fd/ /proc/1/ns/net /proc/1/root/ /proc/1/exe
/proc/self/ /proc/self/cmdline /proc/self/environ /proc/self/mem /proc/self/maps
/proc/self/status /proc/self/mounts /proc/self/mountinfo /proc/self/attr/current
/proc/self/attr/exec /proc/self/attr/apparmor/current /proc/self/attr/apparmor/exec
/proc/self/fd/ /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2 /proc/self/exe
/proc/self/oom_score_adj /proc/self/setgroups /proc/self/uid_map /proc/self/gid_map
/proc/thread-self/ /proc/thread-self/attr/current
"""
SYS = """
/sys/ /sys/kernel/ /sys/kernel/security/ /sys/kernel/security/apparmor/
/sys/kernel/security/apparmor/policy/ /sys/kernel/security/apparmor/.replace
/sys/kernel/security/apparmor/.remove /sys/kernel/security/apparmor/profiles
/sys/kernel/debug/ /sys/kernel/mm/transparent_hugepage/enabled /sys/kernel/uevent_helper
/sys/fs/cgroup/ /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/memory.max /sys/fs/fuse/connections/
/sys/fs/pstore/ /sys/fs/bpf/ /sys/firmware/efi/efivars/ /sys/firmware/acpi/tables/
/sys/devices/system/cpu/ /sys/devices/system/cpu/online /sys/devices/system/node/
/sys/devices/virtual/dmi/id/product_uuid /sys/class/net/ /sys/class/net/lo/address
/sys/bus/pci/devices/ /sys/module/apparmor/parameters/enabled /sys/power/state
"""
DEV = """
/dev/ /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/console
/dev/ptmx /dev/pts/ /dev/pts/0 /dev/pts/ptmx /dev/shm/ /dev/mqueue/ /dev/hugepages/
/dev/mem /dev/kmem /dev/port /dev/kmsg /dev/kvm /dev/vhost-net /dev/vhost-vsock /dev/net/tun
/dev/fuse /dev/loop0 /dev/loop-control /dev/mapper/control /dev/sda /dev/sda1 /dev/vda
/dev/vda1 /dev/nvme0n1 /dev/nvme0n1p1 /dev/dm-0 /dev/sr0 /dev/tty0 /dev/tty1 /dev/ttyS0
/dev/rtc0 /dev/hpet /dev/watchdog /dev/cpu/0/msr /dev/bus/usb/ /dev/dri/card0
/dev/dri/renderD128 /dev/snd/ /dev/input/event0 /dev/log /dev/disk/by-uuid/
"""


def package_paths(info: str | Path = DPKG_INFO) -> set[str]:
    """The paths the installed packages list (``dpkg -L``), ``/.`` left out."""
    paths: set[str] = set()
    for listing in sorted(Path(info).glob("*.list")):
        text = listing.read_bytes().decode("utf-8", "surrogateescape")
        paths.update(line for line in text.splitlines()
                     if line.startswith("/") and line != "/.")
    return paths


def resolve_folders(paths: set[str], root: str = "/") -> set[str]:
    """Each path with its folder as the kernel resolves it under ``root`` (links
    followed); the last component is kept as named, and folders that do not exist
    or lead outside ``root`` are kept as they are."""
    real_root = os.path.realpath(root)
    resolved: dict[str, str] = {}
    out = set()
    for path in paths:
        head, tail = os.path.split(path.rstrip("/") or "/")
        folder = resolved.get(head)
        if folder is None:
            real = os.path.realpath(os.path.join(root, head.lstrip("/")))
            inside = os.path.relpath(real, real_root)
            folder = head if inside.startswith("..") or not os.path.isdir(real) else \
                "/" + ("" if inside == "." else inside)
            resolved[head] = folder
        out.add(os.path.join(folder, tail) + ("/" if path.endswith("/") and tail else ""))
    return out


def standard_paths() -> set[str]:
    """Files no package lists, and the kernel's file systems."""
    return set(" ".join((SYSTEM_FILES, PROC, SYS, DEV)).split())


def mark_directories(paths: set[str], root: str = "/") -> list[str]:
    """``paths`` sorted, each directory that exists under ``root`` (not through a
    link: AppArmor sees the path the link leads to) ending in ``/``."""
    out = set()
    for path in paths:
        if path.endswith("/"):
            out.add(path)
            continue
        local = os.path.join(root, path.lstrip("/"))
        out.add(path + "/" if os.path.isdir(local) and not os.path.islink(local) else path)
    return sorted(out)


def listing(info: str | Path = DPKG_INFO, root: str = "/") -> list[str]:
    """The whole listing, sorted."""
    return mark_directories(resolve_folders(package_paths(info), root) | standard_paths(),
                            root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", help="write here instead of standard output")
    parser.add_argument("--dpkg-info", default=DPKG_INFO,
                        help=f"the folder of the packages' file lists (default {DPKG_INFO})")
    parser.add_argument("--root", default="/", help="where to look for directories "
                        "(default: this machine's root)")
    args = parser.parse_args(argv)
    text = "".join(f"{path}\n" for path in listing(args.dpkg_info, args.root))
    data = text.encode("utf-8", "surrogateescape")
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
