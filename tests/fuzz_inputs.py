"""Hostile inputs for the never-crash tests: real policies, mutated, run through the CLI.

A *seed* is a real policy file (the shipped models, the small SELinux test policies,
the stack manifests, any profiles installed under /etc/apparmor.d) with the commands
that read it. A *mutation* is a small edit of its bytes: a flipped byte, a cut, a
line deleted or doubled, an odd token, deep nesting, a huge line, invalid UTF-8.
:func:`run_case` writes the mutated file, runs ``lsmsim.cli.main`` in this process
under a time bound and returns what a user would see: the exit code and the output.
Both the hypothesis test (``test_fuzz.py``) and the long run (``bench_fuzz.py``) use
these pieces.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from lsmsim.cli import main

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
INCLUDE = MODELS / "apparmor.d"
SYSTEM_PROFILES = Path("/etc/apparmor.d")

# The exit codes an input may earn; 4 (a bug) and a hang never.
INPUT_EXITS = frozenset({0, 1, 2, 3})
POSITIONED = re.compile(r"^(?:lsmsim: )?(?:layer '[^']*': )?[^\s:][^:]*:\d+:\d+: \S")


@dataclass(frozen=True)
class Seed:
    """A real input and how each command reads it (``{file}`` is the mutated copy)."""

    name: str
    path: Path
    commands: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Mutation:
    """One edit: ``kind`` at the fraction ``where`` of the text, with ``arg``."""

    kind: str
    where: float
    arg: int = 0


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool

    def problems(self) -> list[str]:
        """What breaks the contract: a bug, a hang, a traceback, an input error
        that is not one line with a position."""
        found = []
        if self.timed_out:
            found.append(f"no answer within the bound ({self.seconds:.1f} s)")
        elif self.exit_code not in INPUT_EXITS:
            found.append(f"exit {self.exit_code}")
        if "Traceback" in self.stdout or "Traceback" in self.stderr:
            found.append("a traceback in the output")
        if self.exit_code == 2 and not self.positioned():
            found.append("an input error without one positioned line")
        return found

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines()
                if line and not line.startswith("lsmsim: warning:")]

    def positioned(self) -> bool:
        lines = self.error_lines()
        return len(lines) == 1 and bool(POSITIONED.match(lines[0]))


# Tokens a mutation inserts: brackets, separators, quotes, control and non-UTF-8 bytes,
# and fragments of each language that change what follows.
TOKENS = (b"{", b"}", b"(", b")", b"[", b"]", b",", b";", b"\"", b"#", b"\0", b"\xff\xfe",
          b"\xc3", b"\n", b" ", b"\\", b"=", b"->", b"**", b"@{", b"${", b"@{var}",
          b"include <abstractions/base>", b"include <../../../etc>", b"include \"/etc/shadow\"",
          b"include if exists <nothing>", b"if $b {", b"} else {", b"deny ", b"owner ",
          b"audit ", b"profile x {", b"hat ^h {", b"flags=(complain)", b"px -> ",
          b"capability sys_admin,", b"/** rwlkmix,", b"-1", b"99999999999999999999",
          b"s7:c1,c-1", b"s0:c1.c1023", b"system_u:object_r:none_t:s9", b"type t;",
          b"attribute a;", b"allow a b:file *;", b"(block b", b"(in b", b"(optional o",
          b"(blockinherit b)", b"(call m)", b"(macro m ((type t)))", b"(allow a b (file (read)))",
          b"(typeattributeset a (not (all)))", b"[layers.x]", b"parent = \"x\"",
          b"policy = \"/etc/passwd\"", b"policy = \"/\"", b"subject = \"\"", b"lsm = \"cil\"",
          b"= [", b"= {", b"\t", b"\r")

# (opening, closing) pairs nested to build deep inputs of each language.
NESTINGS = ((b"if $b {\n", b"}\n"), (b"{", b"}"), (b"(", b")"), (b"if (b) {\n", b"}\n"),
            (b"(block b", b")"), (b"[", b"]"), (b"a = {", b"}"), (b"/a{b,", b"}"))

KINDS = ("flip", "cut", "delete_line", "double_line", "insert", "nest", "long_line",
         "bad_utf8", "swap_lines")


def mutate(data: bytes, mutations: tuple[Mutation, ...]) -> bytes:
    """``data`` with every mutation applied in turn."""
    for mutation in mutations:
        data = _apply(data, mutation)
    return data


def _apply(data: bytes, m: Mutation) -> bytes:
    at = int(m.where * len(data))
    lines = data.split(b"\n")
    line = int(m.where * len(lines)) if lines else 0
    match m.kind:
        case "flip":
            return data[:at] + bytes([m.arg % 256]) + data[at + 1:]
        case "cut":
            return data[:at]
        case "delete_line":
            return b"\n".join(lines[:line] + lines[line + 1:])
        case "double_line":
            return b"\n".join(lines[:line + 1] + lines[line:])
        case "swap_lines":
            other = m.arg % max(1, len(lines))
            lines[line % len(lines)], lines[other] = lines[other], lines[line % len(lines)]
            return b"\n".join(lines)
        case "insert":
            return data[:at] + TOKENS[m.arg % len(TOKENS)] + data[at:]
        case "nest":
            opening, closing = NESTINGS[m.arg % len(NESTINGS)]
            depth = (50, 120, 1_000, 10_000)[m.arg // len(NESTINGS) % 4]
            return data[:at] + opening * depth + closing * depth + data[at:]
        case "long_line":
            return data[:at] + b"/a" * (100_000 * (1 + m.arg % 5)) + data[at:]
        case "bad_utf8":
            return data[:at] + b"\xe9\x80\xfe" + data[at:]
    raise ValueError(f"unknown mutation {m.kind}")


def seeds() -> list[Seed]:
    """Every seed present on this machine."""
    aa = ("-I", str(INCLUDE))
    out: list[Seed] = []
    small_parent = str(MODELS / "containers" / "vm-agent-within.aa")
    for path in sorted(MODELS.glob("*/*.aa")):
        out.append(Seed(path.name, path, (
            ("parse", "{file}", *aa), ("graph", "{file}", *aa),
            ("check", "--child", "{file}", "--parent", small_parent, *aa))))
    for path in _system_profiles():
        out.append(Seed(path.name, path, (("parse", "{file}", "-I", str(SYSTEM_PROFILES)),)))
    selinux = [*sorted((MODELS / "selinux").glob("*.conf")),
               *sorted((REPO / "tests" / "selinux").glob("*.conf")),
               *sorted((MODELS / "selinux").glob("*.cil")),
               *sorted((REPO / "tests" / "selinux").glob("*.cil"))]
    for path in selinux:
        lsm = "cil" if path.suffix == ".cil" else "selinux"
        out.append(Seed(path.name, path, (
            ("parse", "{file}", "--lsm", lsm), ("graph", "{file}", "--lsm", lsm),
            ("check", "--child", "{file}", "--parent", str(path), "--lsm", lsm))))
    for path in sorted((MODELS / "stacks").glob("*.toml")):
        if not _small_stack(path):
            continue
        out.append(Seed(path.name, path, (
            ("check", "{file}"), ("graph", "{file}"),
            ("simulate", "{file}", "--request", "file:/etc/shadow:r",
             "--request", "capability:net_admin", "--request", "network:inet:stream"))))
    return out


# A stack over a whole distribution policy takes a minute to load: not a fuzz seed.
_LARGEST_POLICY = 200_000


def _small_stack(manifest: Path) -> bool:
    """Every policy the manifest names is one file of moderate size."""
    named = re.findall(r'^\s*policy\s*=\s*"([^"]*)"', manifest.read_text(), re.M)
    files = [manifest.parent / name for name in named]
    return all(f.is_file() and f.stat().st_size <= _LARGEST_POLICY for f in files)


def _system_profiles(limit: int = 40) -> list[Path]:
    if not SYSTEM_PROFILES.is_dir():
        return []
    return sorted(p for p in SYSTEM_PROFILES.iterdir() if p.is_file())[:limit]


def seed_bytes(seed: Seed) -> bytes:
    """The seed's text; a manifest's relative paths are made absolute so that the
    mutated copy, written elsewhere, still names the shipped policies."""
    data = seed.path.read_bytes()
    if seed.path.suffix == ".toml":
        folder = str(seed.path.parent).encode()
        data = re.sub(rb'"(\.\./[^"]*)"', lambda m: b'"' + folder + b"/" + m.group(1) + b'"',
                      data)
    return data


def run_case(argv: list[str], bound: float) -> Outcome:
    """``lsmsim ARGV`` in this process; past ``bound`` seconds it is interrupted as a
    user would (SIGINT) and counted as a hang."""
    out, err = io.StringIO(), io.StringIO()
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def interrupt() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(bound, interrupt)
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            timer.start()
            try:
                try:
                    code = main(argv)
                finally:
                    timer.cancel()
                    with lock:
                        state["done"] = True
            except SystemExit as stop:  # argparse refusing the command line
                code = stop.code if isinstance(stop.code, int) else 2
    except KeyboardInterrupt:
        code = 130
    return Outcome(code, out.getvalue(), err.getvalue(), time.perf_counter() - start,
                   state["fired"])


def command_line(seed: Seed, command: tuple[str, ...], file: Path) -> list[str]:
    return [str(file) if word == "{file}" else word for word in command]
