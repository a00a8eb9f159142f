"""Ground truth for the SELinux tests: checkpolicy compiles, libsepol decides
(``selinux.audit2why``, the kernel's access computation in userspace) and setools
lists rules. Every helper skips its test with the reason when a tool is absent."""
from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DIST_PACKAGES = "/usr/lib/python3/dist-packages"
HERE = Path(__file__).resolve().parent / "selinux"


def checkpolicy(source: Path, out: Path, mls: bool = True) -> subprocess.CompletedProcess:
    if shutil.which("checkpolicy") is None:
        pytest.skip("checkpolicy is not installed (Debian package checkpolicy)")
    args = ["checkpolicy", *(["-M"] if mls else []), "-c", "33", "-o", str(out), str(source)]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def compile_policy(source: Path, out: Path) -> Path:
    proc = checkpolicy(source, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _import(name: str):
    if DIST_PACKAGES not in sys.path:
        sys.path.append(DIST_PACKAGES)
    try:
        return __import__(name, fromlist=["*"])
    except ImportError as error:
        pytest.skip(f"{name} is not importable ({error}); install the Debian package "
                    f"{'python3-setools' if name == 'setools' else 'python3-selinux'}")


class _AVDecision(ctypes.Structure):
    _fields_ = [("allowed", ctypes.c_uint32), ("decided", ctypes.c_uint32),
                ("auditallow", ctypes.c_uint32), ("auditdeny", ctypes.c_uint32),
                ("seqno", ctypes.c_uint32)]


class Libsepol:
    """libsepol's ``sepol_compute_av`` (the kernel's services.c in userspace) over one
    binary policy. audit2why is not used: it reports a typebounds mask even when the
    requested permission is not the one masked."""

    def __init__(self, binary: Path):
        try:
            self.lib = ctypes.CDLL("libsepol.so.2")
        except OSError as error:
            pytest.skip(f"libsepol is not installed ({error}; Debian package libsepol2)")
        libc = ctypes.CDLL(None)
        libc.fopen.restype = ctypes.c_void_p
        libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        libc.fclose.argtypes = [ctypes.c_void_p]
        handle = libc.fopen(str(binary).encode(), b"r")
        self.lib.sepol_set_policydb_from_file.argtypes = [ctypes.c_void_p]
        rc = self.lib.sepol_set_policydb_from_file(handle)
        libc.fclose(handle)
        assert rc == 0, f"libsepol cannot load {binary}"
        self._sids: dict[str, int] = {}

    def sid(self, context: str) -> int:
        if context not in self._sids:
            value = ctypes.c_uint32()
            data = context.encode()
            rc = self.lib.sepol_context_to_sid(ctypes.c_char_p(data), len(data) + 1,
                                               ctypes.byref(value))
            assert rc == 0, f"libsepol rejects the context {context}"
            self._sids[context] = value.value
        return self._sids[context]

    def allowed(self, scontext: str, tcontext: str, tclass: str, perm: str) -> bool:
        cls, bit = ctypes.c_uint16(), ctypes.c_uint32()
        assert self.lib.sepol_string_to_security_class(tclass.encode(), ctypes.byref(cls)) == 0
        assert self.lib.sepol_string_to_av_perm(cls, perm.encode(), ctypes.byref(bit)) == 0
        avd = _AVDecision()
        rc = self.lib.sepol_compute_av(self.sid(scontext), self.sid(tcontext), cls, bit.value,
                                       ctypes.byref(avd))
        assert rc == 0
        return bool(avd.allowed & bit.value)


def user_contexts(policy) -> list:
    """Every user:role:type a policy's users and roles allow (no level)."""
    from lsmsim.model.selinux import OBJECT_R, Context
    return [Context(user.name, role, type_, None)
            for user in sorted(policy.users.values(), key=lambda u: u.name)
            for role in sorted(user.roles - {OBJECT_R})
            for type_ in sorted(policy.roles[role])]


def compare_every_access(policy, binary: Path, source_ranges, target_ranges) -> tuple[int, int]:
    """lsmsim's decision for every subject, object, class permission and level pair
    equals libsepol's on the compiled ``binary``; returns (checked, allowed)."""
    import itertools

    from lsmsim.model.selinux import OBJECT_R, Context, SELinuxRequest
    from lsmsim.simulate.selinux import decide
    sepol = Libsepol(binary)
    subjects = user_contexts(policy)
    objects = [Context("alice_u", OBJECT_R, t) for t in policy.types]
    checked = allowed = 0
    for s, (tclass, perms) in itertools.product(subjects, policy.classes.items()):
        targets = subjects if tclass == "process" else objects
        for t, perm in itertools.product(targets, sorted(perms)):
            for s_range, t_range in itertools.product(source_ranges, target_ranges):
                scon = Context(s.user, s.role, s.type, s_range)
                tcon = Context(t.user, t.role, t.type, t_range)
                expected = sepol.allowed(str(scon), str(tcon), tclass, perm)
                mine = decide(policy, SELinuxRequest(scon, tcon, tclass, perm)).allowed
                assert mine == expected, (str(scon), str(tcon), tclass, perm, expected)
                checked += 1
                allowed += expected
    return checked, allowed


def audit2why():
    return _import("selinux.audit2why")


def setools():
    return _import("setools")


def secilc(sources: list[Path], out: Path, *options: str) -> Path:
    """Compile CIL files with secilc (the test fails with secilc's message if it refuses)."""
    if shutil.which("secilc") is None:
        pytest.skip("secilc is not installed (Debian package secilc)")
    proc = subprocess.run(["secilc", *options, "-o", str(out), "-f", "/dev/null",
                           *map(str, sources)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def te_permissions(st, compiled, policy, stype: str, ttype: str, tclass: str,
                   booleans: dict[str, bool]) -> set[str]:
    """What setools' TERuleQuery finds allowed for one (source, target, class), with
    the active branch of each conditional rule under ``booleans``."""
    out: set[str] = set()
    for rule in st.TERuleQuery(compiled, ruletype=["allow"], source=stype, target=ttype,
                               tclass=[tclass]).results():
        try:
            cond = rule.conditional
        except Exception:  # noqa: BLE001 - unconditional rules raise here
            cond = None
        if cond is not None and cond.evaluate(**booleans) != rule.conditional_block:
            continue
        sources = {str(t) for t in rule.source.expand()}
        targets = {str(t) for t in rule.target.expand()}
        if stype in sources and ttype in targets:
            out |= set(rule.perms)
    return out
