"""The automaton engine and the Z3 engine decide the same questions independently:
on random child/parent pairs of every string-matching class they give the same
verdict and find the same expansions, and every witness of either is confirmed by
the simulator (the child allows it, the parent denies it). The differential tests
against apparmor_parser (test_apparmor_parser_differential.py, test_mount_oracle.py,
...) run the default (automaton) engine against the compiled DFA."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lsmsim
from lsmsim.errors import PolicyError
from lsmsim.model.mount import MountRequest
from lsmsim.model.requests import ExecRequest, FileRequest
from lsmsim.simulate import decide

from .helpers import load_text
from .mount_strategies import mount_rule_lines
from .strategies import file_rule_lines, ipc_lines, profiles

# About 520 random pairs per run in all (more with LSMSIM_ENGINE_EXAMPLES).
SCALE = float(os.environ.get("LSMSIM_ENGINE_EXAMPLES", "120")) / 120


def _settings(examples: int):
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None,
                    derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def _load(text: str):
    try:
        return load_text(text)
    except PolicyError:
        return None


def _findings(result) -> set[tuple]:
    """What was found, engine-independently: per child rule and class, the letters
    (files), the transition (exec) or the group one witness stands for."""
    out = set()
    for denial in result.denials:
        access = denial.access
        line = denial.rule.line if denial.rule else None
        via = tuple(step.path for step in denial.via)
        if isinstance(access, FileRequest):
            out.update((line, "file", letter, access.owner, via) for letter in access.perms)
        elif isinstance(access, ExecRequest):
            out.add((line, "exec", access.mode, access.target, via))
        elif isinstance(access, MountRequest):
            out.add((line, "mount", access.operation, access.kind, via))
        else:
            out.add((line, access.access_class, getattr(access, "perm", None), via))
    return out


def _file_letters(result) -> dict:
    """Files: per (rule, half), every letter witnessed (witness grouping may differ)."""
    letters: dict = {}
    for denial in result.denials:
        if isinstance(denial.access, FileRequest):
            key = (denial.rule.line, denial.access.owner)
            letters.setdefault(key, set()).update(denial.access.perms)
    return letters


def _agree(child_text: str, parent_text: str) -> None:
    child, parent = _load(child_text), _load(parent_text)
    if child is None or parent is None:
        return
    automata = lsmsim.check(child, parent, engine="automata")
    solver = lsmsim.check(child, parent, engine="z3")
    if solver.undecided:  # a bounded solver may give up; the automata never guess
        assert automata.verdict is not lsmsim.Verdict.UNDECIDED or automata.undecided
        return
    assert automata.verdict is solver.verdict, (child_text, parent_text, automata, solver)
    assert {r.rule.line for r in automata.denials} == {r.rule.line for r in solver.denials}
    assert _file_letters(automata) == _file_letters(solver), (child_text, parent_text)
    def others(result) -> set:
        return {f for f in _findings(result) if f[1] != "file"}
    assert others(automata) == others(solver), (child_text, parent_text)
    for result in (automata, solver):
        for denial in result.denials:
            if denial.via or isinstance(denial.access, ExecRequest):
                continue
            assert decide(child.profiles[0], denial.access).allowed, denial
            assert not decide(parent.profiles[0], denial.access).allowed, denial


@st.composite
def file_pairs(draw):
    parent = draw(profiles("p"))
    child_lines = draw(st.lists(file_rule_lines(), min_size=1, max_size=4))
    return "profile c {\n  " + "\n  ".join(child_lines) + "\n}\n", parent


@_settings(100)
@given(file_pairs())
def test_file_rules(pair):
    _agree(*pair)


EXEC_GLOBS = ["/usr/bin/a", "/usr/bin/*", "/usr/bin/{a,b}", "/usr/**", "/usr/bin/b*"]
EXEC_MODES = ["ix", "px", "cx", "ux", "pix", "Px", "cux", "px -> t1", "cx -> k"]
ATTACHMENTS = ["/usr/bin/a", "/usr/bin/*", "/usr/bin/b*", "/usr/**", "/usr/bin/{a,c}"]
GRANTS = ["capability chown,", "capability,", "/tmp/** rw,", "/etc/passwd r,", "signal,"]


@st.composite
def exec_policy(draw, name: str) -> str:
    rules = [f"{draw(st.sampled_from(EXEC_GLOBS))} {draw(st.sampled_from(EXEC_MODES))},"
             for _ in range(draw(st.integers(1, 3)))]
    rules += draw(st.lists(st.sampled_from(GRANTS), max_size=2))
    kids = [f"profile k {{ {draw(st.sampled_from(GRANTS))} }}"]
    text = f"profile {name} {{\n  " + "\n  ".join(rules + kids) + "\n}\n"
    attached = draw(st.lists(st.sampled_from(ATTACHMENTS), max_size=3, unique=True))
    for i, glob in enumerate(attached):
        text += f"profile t{i} {glob} {{ {draw(st.sampled_from(GRANTS))} }}\n"
    if not attached or draw(st.booleans()):
        text += f"profile t1 {{ {draw(st.sampled_from(GRANTS))} }}\n"
    return text


@_settings(60)
@given(exec_policy("c"), exec_policy("p"))
def test_exec_transitions_and_attachments(child_text, parent_text):
    child, parent = _load(child_text), _load(parent_text)
    if child is None or parent is None:
        return
    automata = lsmsim.check(child, parent, "c", "p", engine="automata")
    solver = lsmsim.check(child, parent, "c", "p", engine="z3")
    if solver.undecided and not automata.undecided:
        return
    assert automata.verdict is solver.verdict, (child_text, parent_text, automata, solver)
    assert set(automata.pairs) == set(solver.pairs), (child_text, parent_text)
    assert ({(d.rule.line, type(d.access).__name__) for d in automata.denials}
            == {(d.rule.line, type(d.access).__name__) for d in solver.denials})


PEERS = ["", " peer=libvirtd", " peer=libvirt-*", " peer=unconfined", " peer={a,b}*"]


@st.composite
def signal_ptrace_lines(draw) -> str:
    deny = draw(st.sampled_from(["", "", "deny "]))
    if draw(st.booleans()):
        perms = draw(st.sampled_from(["", " send", " receive", " (send, receive)"]))
        sigs = draw(st.sampled_from(["", " set=(kill)", " set=(hup term)", " set=(int, kill)"]))
        return f"{deny}signal{perms}{sigs}{draw(st.sampled_from(PEERS))},"
    perms = draw(st.sampled_from(["", " read", " trace", " (readby, tracedby)"]))
    return f"{deny}ptrace{perms}{draw(st.sampled_from(PEERS))},"


def _profile(name: str, lines: list[str]) -> str:
    return f"profile {name} {{\n  " + "\n  ".join(lines) + "\n}\n"


@_settings(120)
@given(st.lists(signal_ptrace_lines(), min_size=1, max_size=3),
       st.lists(signal_ptrace_lines(), min_size=1, max_size=3))
def test_signal_and_ptrace_rules(child_lines, parent_lines):
    _agree(_profile("c", child_lines), _profile("p", parent_lines))


@_settings(120)
@given(st.lists(ipc_lines(), min_size=1, max_size=3),
       st.lists(ipc_lines(), min_size=1, max_size=3))
def test_dbus_and_unix_rules(child_lines, parent_lines):
    _agree(_profile("c", child_lines), _profile("p", parent_lines))


@_settings(120)
@given(st.lists(mount_rule_lines(), min_size=1, max_size=3),
       st.lists(mount_rule_lines(), min_size=1, max_size=3))
def test_mount_rules(child_lines, parent_lines):
    _agree(_profile("c", child_lines), _profile("p", parent_lines))


LINK_GLOBS = ["/a", "/a/*", "/b/**", "/{a,b}/c", "/**"]


@st.composite
def link_lines(draw) -> str:
    prefix = draw(st.sampled_from(["", "", "owner ", "deny "]))
    if draw(st.booleans()):
        subset = draw(st.sampled_from(["", "subset "]))
        return (f"{prefix}link {subset}{draw(st.sampled_from(LINK_GLOBS))} -> "
                f"{draw(st.sampled_from(LINK_GLOBS))},")
    perms = draw(st.sampled_from(["l", "rl", "rwl", "r", "ix", "px", "w"]))
    return f"{prefix}{draw(st.sampled_from(LINK_GLOBS))} {perms},"


@_settings(60)
@given(st.lists(link_lines(), min_size=1, max_size=3),
       st.lists(link_lines(), min_size=1, max_size=4))
def test_link_rules(child_lines, parent_lines):
    _agree(_profile("c", child_lines), _profile("p", parent_lines))


@st.composite
def finite_lines(draw) -> str:
    deny = draw(st.sampled_from(["", "", "deny "]))
    if draw(st.booleans()):
        caps = draw(st.sampled_from(["", " chown", " sys_admin", " chown dac_override",
                                     " net_admin net_raw"]))
        return f"{deny}capability{caps},"
    family = draw(st.sampled_from(["", " inet", " inet6", " unix", " netlink"]))
    kind = draw(st.sampled_from(["", " stream", " dgram", " raw", " tcp", " udp"]))
    return f"{deny}network{family}{kind if family or draw(st.booleans()) else ''},"


@_settings(60)
@given(st.lists(finite_lines(), min_size=1, max_size=3),
       st.lists(finite_lines(), min_size=1, max_size=3))
def test_capability_and_network_rules(child_lines, parent_lines):
    """Decided by enumeration on the automaton engine, by the solver on the other."""
    _agree(_profile("c", child_lines), _profile("p", parent_lines))


# Names past Latin-1 are matched as their UTF-8 bytes by the kernel, the DFA and the
# solver alike: a rule about "ж" grants two bytes no ASCII rule covers.
UTF8_GLOBS = ["/tmp/ж", "/tmp/ж*", "/tmp/[жз]x", "/tmp/*", "/tmp/\u00e9*", "/srv/данные/**",
              "/srv/**", "/tmp/{ж,a}"]


@_settings(40)
@given(st.lists(st.sampled_from(UTF8_GLOBS), min_size=1, max_size=2),
       st.lists(st.sampled_from(UTF8_GLOBS), max_size=3),
       st.sampled_from(["r", "rw", "ix", "px", "mr"]))
def test_non_latin1_names_on_both_engines(child_globs, parent_globs, perms):
    child = "profile c {\n" + "".join(f"  {g} {perms},\n" for g in child_globs) + "}\n"
    parent = "profile p {\n" + "".join(f"  {g} {perms},\n" for g in parent_globs) + "}\n"
    _agree(child, parent)


def test_a_rule_on_a_cyrillic_name_is_an_expansion_on_both_engines():
    child = _load("profile c {\n  /tmp/ж r,\n}\n")
    parent = _load("profile p {\n  /tmp/a r,\n  /tmp/\u00d0* r,\n}\n")
    for engine in ("automata", "z3"):
        result = lsmsim.check(child, parent, engine=engine)
        assert [d.access.path for d in result.denials] == ["/tmp/ж"], engine
