r"""Ask the real AppArmor compiler (apparmor_parser 3.0.8) what a profile permits.

``compile_profile`` runs ``apparmor_parser -Q -K -M FEATURES --config-file=/dev/null -S
-D dfa-states`` once (blob on stdout, DFA dump on stderr) and ``-N`` once (profile names),
under a timeout that kills the process group.  See docs/apparmor.md 5 and DESIGN 7.

Dump format (``DFA::dump``), one blank-line separated section per DFA::

    {1} <== (allow/deny/audit/quiet)      start state (its masks follow if it accepts)
    {3} (0x a/0/0/0)                      accepting state: allow/deny/audit/quiet in hex
    {2} perms: none                       a state with at least one live edge, then:
        f 0x66 -> {3}  (0x a/0/0/0)       an edge on one byte (the hex is authoritative)
        [^\x0/] -> {8}                    the default edge; the listed bytes are dead

Bytes without an edge take the default edge, or die when there is none.  ``[^..]`` lists
bytes in increasing order as raw characters, ``\a \e \f \n \r \t \| \* \+ \[ \] \( \) \.
\<space>`` or unpadded ``\x<hex>``, which can be ambiguous (``\x1f``; ``\a`` = BEL or
backslash + 'a').  All increasing readings are kept; a walk that reaches a byte on which
they disagree raises AmbiguousDump instead of guessing.

Which DFA is which: the dump has no labels.  Per profile it prints [xmatch] [file]
policydb, profiles in the order of the ``-S`` blob and of ``-N``.  The blob tells which
exist: in each ``profile`` struct an ``aadfa`` before ``flags`` is the xmatch DFA (absent
for a plain path name without a separate attachment), the ``policydb`` struct holds the
policydb DFA, an ``aadfa`` after it is the file DFA (absent without file rules).  Check:
each policydb DFA has a start edge on a class byte < 0x20, which no path begins with.
Capabilities are the blob's unnamed u32 allow/audit/quiet after ``flags`` (high words in
``caps64``); exec index i >= 4 names ``xtable`` entry i - 4.

Findings with 3.0.8 (tests/test_oracle_selftest.py checks them):

- A variable whose values end in '/' followed by '/' IS slash-squashed:
  ``@{HOME}=/home/*/ /root/`` + ``@{HOME}/foo r,`` becomes ``{/home/*,/root}/foo``:
  ``/home/u/foo`` and ``/root/foo`` get r, ``/home/u//foo`` does not, and since that
  ``*`` now sits inside braces it may be empty, so ``/home//foo`` gets r too.
- Doubled slashes across a literal alternation are NOT squashed: ``/{a/,b/}/x r,`` gives
  r on ``/a//x`` but not ``/a/x``; likewise ``@{D}={/a/,/b/}`` + ``@{D}/x``.  (A rule may
  not begin with ``{``.)
- ``/tmp/{,**} r,`` is ``/tmp/(|[^\0]*)``: r on ``/tmp/``, ``/tmp//``, ``/tmp/a``, not
  ``/tmp``.  ``/tmp{,/**} r,`` is ``/tmp(|/[^\0]*)``: r on ``/tmp``, ``/tmp/`` and below.
  A ``*``/``**`` inside braces loses the at-least-one-character rule of ``/tmp/**``.
- Exec bits per half: ix 0x241 (x m inherit), Px 0x801, px 0x901, Ux 0x401, pix 0xb41,
  PUx 0x881, Cx 0xc01; ``deny x`` clears all of them.
- A plain ``deny`` of an ungranted permission changes the blob (quiet bits); ``audit
  deny`` of it does not.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple

FEATURES_REL = Path("shared/corpus/apparmor/parser-tests-3.0.8/features_files/features.all")
LETTERS = (("r", 0x4), ("w", 0x2), ("a", 0x8), ("l", 0x10), ("k", 0x20), ("m", 0x40), ("x", 0x1))
HALF = 0x3FFF
CAPABILITIES = (
    "chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap "
    "linux_immutable net_bind_service net_broadcast net_admin net_raw ipc_lock ipc_owner "
    "sys_module sys_rawio sys_chroot sys_ptrace sys_pacct sys_admin sys_boot sys_nice "
    "sys_resource sys_time sys_tty_config mknod lease audit_write audit_control setfcap "
    "mac_override mac_admin syslog wake_alarm block_suspend audit_read perfmon bpf "
    "checkpoint_restore").split()
Dirs = Iterable[str | os.PathLike[str]]


def find_parser() -> str | None:
    """Path of apparmor_parser, or None when it is not installed."""
    paths = ("/usr/sbin/apparmor_parser", "/sbin/apparmor_parser")
    found = shutil.which("apparmor_parser")
    return found or next((p for p in paths if os.access(p, os.X_OK)), None)


def features_file() -> Path | None:
    """The 3.0.8 ``features.all`` under ``<repo>/../shared/corpus``, or None when absent."""
    path = Path(__file__).resolve().parents[2].parent / FEATURES_REL
    return path if path.is_file() else None


class CompileError(Exception):
    """apparmor_parser rejected the policy or was killed; ``stderr`` holds its output."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(f"{message}\n{stderr}".strip())
        self.stderr = stderr


class CompileTimeout(CompileError):
    """apparmor_parser ran past the timeout and its process group was killed."""


class AmbiguousDump(Exception):
    """A walk reached a byte whose ``[^..]`` membership the text dump does not settle."""


class Masks(NamedTuple):
    """The masks of an accepting state (all zero for a non-match)."""
    allow: int = 0
    deny: int = 0
    audit: int = 0
    quiet: int = 0


@dataclass
class DFA:
    """A dumped DFA: byte edges, default edges (target, dead bytes, unsure bytes), masks."""
    start: int
    edges: dict[int, dict[int, int]] = field(default_factory=dict)
    default: dict[int, tuple[int, frozenset[int], frozenset[int]]] = field(default_factory=dict)
    accept: dict[int, Masks] = field(default_factory=dict)

    def walk(self, data: bytes) -> Masks:
        """Masks of the state reached from the start over ``data`` (zero once dead)."""
        state: int | None = self.start
        for byte in data:
            if state is None:
                break
            nxt = self.edges.get(state, {}).get(byte)
            if nxt is None and state in self.default:
                target, dead, unsure = self.default[state]
                if byte in unsure:
                    raise AmbiguousDump(f"byte {byte:#x} in the [^..] list of state {state}")
                nxt = None if byte in dead else target
            state = nxt
        return Masks() if state is None else self.accept.get(state, Masks())


_ESC = dict(zip("aefnrt|*+[](). ", b"\a\x1b\f\n\r\t|*+[](). "))
_HEX = "0123456789abcdef"
_MASKS = r"\(0x ([0-9a-f]+)/([0-9a-f]+)/([0-9a-f]+)/([0-9a-f]+)\)"
_HEADER = re.compile(r"^\{(\d+)\} <== \(allow/deny/audit/quiet\)")
_ACCEPT = re.compile(r"^\{(\d+)\}\s*" + _MASKS + r"\s*$")
_STATE = re.compile(r"^\{(\d+)\} perms: ")
_DEFAULT = re.compile(r"^    \[(?:\^(.*))?\] -> \{(\d+)\}(?:\s+" + _MASKS + r")?\s*$")
_EDGE = re.compile(r"^    (?:.*? )?0x([0-9a-f]+) -> \{(\d+)\}(?:\s+" + _MASKS + r")?\s*$")


def _class_parses(s: str) -> list[frozenset[int]]:
    """Every reading of a ``[^..]`` body as strictly increasing bytes (at most 16)."""
    out: list[frozenset[int]] = []

    def rec(i: int, prev: int, acc: tuple[int, ...]) -> None:
        if i == len(s):
            out.append(frozenset(acc))
            return
        opts = [(i + 1, ord(s[i]))] if 32 <= ord(s[i]) < 127 and s[i] not in "|*+[](). " else []
        if s[i] == "\\" and s[i + 1:i + 2] in _ESC:
            opts.append((i + 2, _ESC[s[i + 1]]))
        for k in (1, 2) if s[i:i + 2] == "\\x" else ():
            h = s[i + 2:i + 2 + k]
            if len(h) == k and all(c in _HEX for c in h) and not (k == 2 and h[0] == "0"):
                if ((v := int(h, 16)) < 32 or v >= 127) and v not in _ESC.values():
                    opts.append((i + 2 + k, v))
        for j, v in opts:
            if v > prev and len(out) < 16:
                rec(j, v, acc + (v,))

    rec(0, -1, ())
    return out


def parse_dump(text: str) -> list[DFA]:
    """All DFAs of a ``-D dfa-states`` dump in order; other lines are ignored."""
    dfas: list[DFA] = []
    state: int | None = None
    for line in text.splitlines():
        if m := _HEADER.match(line):
            dfas.append(DFA(start=int(m[1])))
            state = None
            if acc := re.search(_MASKS, line):
                dfas[-1].accept[int(m[1])] = Masks(*(int(g, 16) for g in acc.groups()))
        elif dfas and (m := _ACCEPT.match(line)):
            dfas[-1].accept[int(m[1])] = Masks(*(int(g, 16) for g in m.groups()[1:]))
        elif dfas and (m := _STATE.match(line)):
            state = int(m[1])
        elif state is not None and (m := _DEFAULT.match(line)):
            sets = _class_parses(m[1] or "")
            if not sets:
                raise CompileError(f"cannot read default edge {line!r}")
            sure = frozenset.intersection(*sets)
            dfas[-1].default[state] = (int(m[2]), sure, frozenset().union(*sets) - sure)
        elif state is not None and (m := _EDGE.match(line)):
            dfas[-1].edges.setdefault(state, {})[int(m[1], 16)] = int(m[2])
    return dfas


def parse_blob(blob: bytes) -> list[tuple[str | None, Any]]:
    """The ``-S`` stream as nested ``(name, value)`` pairs; structs and arrays are lists."""
    root: list[tuple[str | None, Any]] = []
    stack, name, pos = [root], None, 0
    fixed = {0: "<B", 1: "<H", 2: "<I", 3: "<Q", 5: "<H", 6: "<I"}
    while pos < len(blob):
        code, pos = blob[pos], pos + 1
        if code == 4:
            (n,) = struct.unpack_from("<H", blob, pos)
            name, pos = blob[pos + 2:pos + 2 + n].rstrip(b"\0").decode(), pos + 2 + n
            continue
        if code in (7, 9, 11):
            pos += 2 if code == 11 else 0
            stack[-1].append((name, []))
            stack.append(stack[-1][-1][1])
        elif code in (8, 10, 12):
            stack.pop()
        elif code in fixed:
            (v,) = struct.unpack_from(fixed[code], blob, pos)
            pos += struct.calcsize(fixed[code])
            if code in (5, 6):
                v, pos = blob[pos:pos + v], pos + v
            stack[-1].append((name, v))
        else:
            raise CompileError(f"unknown blob code {code:#x} at offset {pos - 1}")
        name = None
    return root


def _profile_structs(tree: list[tuple[str | None, Any]]) -> Iterator[list[tuple[str | None, Any]]]:
    for name, value in tree:
        if isinstance(value, list):
            yield from ([value] if name == "profile" else [])
            yield from _profile_structs(value)


@dataclass
class Profile:
    """One compiled profile: its DFAs, capability masks and exec-target table."""
    name: str
    policydb: DFA
    file: DFA | None = None
    xmatch: DFA | None = None
    caps_allow: int = 0
    caps_audit: int = 0
    caps_quiet: int = 0
    exec_targets: tuple[str, ...] = ()  # exec index i >= 4 names exec_targets[i - 4]


@dataclass(frozen=True)
class FileHalf:
    """The owner or the other half of a file permission (14 bits of allow and deny)."""
    allow: int
    deny: int

    @property
    def bits(self) -> int:
        """The verdict ``allow & ~deny``."""
        return self.allow & ~self.deny & HALF

    @property
    def letters(self) -> frozenset[str]:
        """The granted letters among r w a l k m x."""
        return frozenset(c for c, bit in LETTERS if self.bits & bit)

    @property
    def exec_index(self) -> int | None:
        """Bits 10-13 when x is granted: 0 ix, 1 ux, 2 px, 3 cx, >= 4 named target + 4."""
        return (self.bits >> 10) & 0xF if self.bits & 0x1 else None

    @property
    def exec_type(self) -> str | None:
        """'ix' 'ux' 'px' 'cx' 'pix' 'pux' 'cix' 'cux' (a named target reads as 'px')."""
        idx, bits = self.exec_index, self.bits
        if idx is None or idx == 0:
            return None if idx is None else "ix" if bits & 0x200 else "x"
        base = {1: "u", 3: "c"}.get(idx, "p")
        tail = "" if base == "u" else "i" if bits & 0x200 else "u" if bits & 0x80 else ""
        return base + tail + "x"

    @property
    def exec_safe(self) -> bool | None:
        """True for the scrubbing upper-case forms (0x100 unsafe bit clear)."""
        return None if self.exec_index is None else not self.bits & 0x100


@dataclass(frozen=True)
class FilePerms:
    """What a file DFA grants one path: the raw masks and the owner/other halves."""
    masks: Masks

    @property
    def owner(self) -> FileHalf:
        return FileHalf(self.masks.allow & HALF, self.masks.deny & HALF)

    @property
    def other(self) -> FileHalf:
        return FileHalf((self.masks.allow >> 14) & HALF, (self.masks.deny >> 14) & HALF)


@dataclass
class CompiledPolicy:
    """Every profile of one compiled file (keyed by ``-N`` name), the blob and the dump."""
    profiles: dict[str, Profile]
    blob: bytes
    dump: str

    def profile(self, name: str | None = None) -> Profile:
        """A profile by its ``-N`` name; None means the only top-level profile."""
        if name is not None:
            return self.profiles[name]
        top = [p for n, p in self.profiles.items() if "//" not in re.sub(r"^:[^:]*:", "", n)]
        if len(top) != 1:
            raise KeyError(f"name one of {sorted(self.profiles)}")
        return top[0]

    def file_perms(self, path: str, profile: str | None = None) -> FilePerms:
        """Walk the file DFA over ``path`` (directories end with '/')."""
        dfa = self.profile(profile).file
        return FilePerms(dfa.walk(path.encode("utf-8", "surrogateescape")) if dfa else Masks())

    def capabilities(self, profile: str | None = None) -> frozenset[str]:
        """Names of the capabilities the profile allows (after deny)."""
        mask = self.profile(profile).caps_allow
        return frozenset(n for i, n in enumerate(CAPABILITIES) if mask >> i & 1)


def run_killable(args: list[str], timeout: float) -> tuple[bytes, str]:
    """Run in a new process group; on timeout kill the whole group and raise."""
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        err = proc.communicate()[1]
        raise CompileTimeout(f"{args[0]} timed out after {timeout}s",
                             err.decode("latin-1")) from None
    if proc.returncode != 0:
        raise CompileError(f"{args[0]} exited {proc.returncode}", err.decode("latin-1"))
    return out, err.decode("latin-1")


def _parse(text: str, include_dirs: Dirs, timeout: float,
           *modes: list[str]) -> list[tuple[bytes, str]]:
    parser, features = find_parser(), features_file()
    if parser is None or features is None:
        raise CompileError("apparmor_parser or the 3.0.8 features file is missing")
    base = [parser, "-Q", "-K", "-M", str(features), "--config-file=/dev/null"]
    base += [f"-I{d}" for d in include_dirs]
    with tempfile.TemporaryDirectory(prefix="aa-oracle-") as tmp:
        (src := Path(tmp, "policy")).write_text(text)
        return [run_killable(base + mode + [str(src)], timeout) for mode in modes]


def compile_profile(text: str, include_dirs: Dirs = (), timeout: float = 30) -> CompiledPolicy:
    """Compile ``text``; read every profile's DFAs, capabilities and exec targets back."""
    (blob, dump), (names, _) = _parse(text, list(include_dirs), timeout,
                                      ["-S", "-D", "dfa-states"], ["-N"])
    structs, dfas = list(_profile_structs(parse_blob(blob))), iter(parse_dump(dump))
    order = names.decode().splitlines()
    if len(structs) != len(order):
        raise CompileError(f"{len(order)} names but {len(structs)} profiles in the blob")
    profiles: dict[str, Profile] = {}
    for name, items in zip(order, structs):
        keys = [k for k, _ in items]
        flags = keys.index("flags")
        has_file = "policydb" in keys and "aadfa" in keys[keys.index("policydb"):]
        try:
            xmatch = next(dfas) if "aadfa" in keys[:flags] else None
            file, policydb = (next(dfas) if has_file else None), next(dfas)
        except StopIteration:
            raise CompileError("the dump holds fewer DFAs than the blob", dump) from None
        if not any(b < 0x20 for b in policydb.edges.get(policydb.start, {})):
            raise CompileError(f"DFA order mismatch at profile {name}", dump)
        low = [v for k, v in items[flags + 1:] if k is None and isinstance(v, int)][:3]
        high = ([v for _, v in dict(items).get("caps64", [])] + [0, 0, 0])[:3]
        table = [v for _, arr in dict(items).get("xtable", []) for _, v in arr]
        profiles[name] = Profile(
            name, policydb, file, xmatch, *(lo | hi << 32 for lo, hi in zip(low, high)),
            exec_targets=tuple(v.rstrip(b"\0").decode() for v in table))
    if next(dfas, None) is not None:
        raise CompileError("the dump holds more DFAs than the blob", dump)
    return CompiledPolicy(profiles, blob, dump)


def compile_blob(text: str, include_dirs: Dirs = (), timeout: float = 30) -> bytes:
    """Only the ``-S`` binary policy of ``text``."""
    return _parse(text, include_dirs, timeout, ["-S"])[0][0]


def same_blob(text_a: str, text_b: str, include_dirs: Dirs = (), timeout: float = 30) -> bool:
    """DESIGN section 7: do both policies compile to byte-identical ``-S`` output?

    With ``text_a`` = parent P and ``text_b`` = P plus the child's allow rules (the child
    has no deny, audit or exec-target changes), True means P already grants them all.
    """
    dirs = list(include_dirs)
    return compile_blob(text_a, dirs, timeout) == compile_blob(text_b, dirs, timeout)


def pytest_marks() -> list:
    """Marks for a test module that needs the real compiler: skipped, with the
    reason, where apparmor_parser or the corpus features file is absent."""
    import pytest
    return [
        pytest.mark.oracle,
        pytest.mark.skipif(find_parser() is None,
                           reason="apparmor_parser not installed (Debian package apparmor)"),
        pytest.mark.skipif(features_file() is None,
                           reason=f"features file missing: <repo>/../{FEATURES_REL}"),
    ]
