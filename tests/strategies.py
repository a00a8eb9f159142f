"""Hypothesis strategies for globs, paths and small AppArmor profiles."""
from __future__ import annotations

from hypothesis import strategies as st

# A small alphabet makes collisions between globs and paths likely.
NAMES = ["a", "b", "ab", "x.y", ".a", "..", "."]
PERM_SETS = ["r", "w", "rw", "a", "rk", "m", "l", "rwk", "ra", "rm", "wl"]


@st.composite
def glob_component(draw) -> str:
    kind = draw(st.sampled_from(["name", "star", "dstar", "q", "alt", "class", "mixed"]))
    if kind == "name":
        return draw(st.sampled_from(NAMES))
    if kind == "star":
        return "*"
    if kind == "dstar":
        return "**"
    if kind == "q":
        return draw(st.sampled_from(["?", "a?", "?b"]))
    if kind == "alt":
        # ",," is a syntax error for apparmor_parser too: at most one empty branch
        branches = draw(st.lists(st.sampled_from(["a", "b", "a/b", "*", "ab"]),
                                 min_size=1, max_size=3, unique=True))
        if len(branches) == 1 or draw(st.booleans()):
            branches.append("")  # "{a}" alone is a parser error: two branches at least
        return "{" + ",".join(branches) + "}"
    if kind == "class":
        return draw(st.sampled_from(["[ab]", "[^a]", "[a-c]x", "[^/]"]))
    return draw(st.sampled_from(["a*", "*b", "a**", "**b", "x*y"]))


@st.composite
def globs(draw) -> str:
    parts = draw(st.lists(glob_component(), min_size=1, max_size=3))
    text = "/" + "/".join(parts)
    if draw(st.booleans()):
        text += "/"
    return text


@st.composite
def paths(draw) -> str:
    parts = draw(st.lists(st.sampled_from(NAMES + ["c", "bb", "a/b", "zz"]), min_size=0,
                          max_size=4))
    text = "/" + "/".join(parts)
    if parts and draw(st.booleans()):
        text += "/"
    return text


@st.composite
def file_rule_lines(draw) -> str:
    prefix = draw(st.sampled_from(["", "", "owner ", "other ", "deny ", "deny owner ",
                                   "audit "]))
    glob = draw(globs())
    perms = draw(st.sampled_from(PERM_SETS))
    return f"{prefix}{glob} {perms},"


@st.composite
def profiles(draw, name: str = "t") -> str:
    lines = draw(st.lists(file_rule_lines(), min_size=1, max_size=6))
    return f"profile {name} {{\n  " + "\n  ".join(lines) + "\n}\n"


@st.composite
def ipc_lines(draw) -> str:
    if draw(st.booleans()):
        perms = draw(st.sampled_from(["", " send", " receive", " (send, receive)", " bind"]))
        if perms == " bind":
            conds = draw(st.sampled_from(["", " name=org.a", " name=org.*", " bus=session"]))
        else:
            conds = draw(st.sampled_from(["", " bus=session", " bus=system path=/org/*",
                                          " member={Hello,Bye}", " peer=(label=libvirtd)",
                                          " interface=org.a peer=(name=org.b)"]))
        return f"dbus{perms}{conds},"
    perms = draw(st.sampled_from(["", " (send, receive)", " (connect)", " (create, bind)",
                                  " send"]))
    conds = draw(st.sampled_from(["", " type=stream", " type=dgram addr=@a*", " addr=@a"]))
    peer = "" if perms in (" (create, bind)",) else draw(st.sampled_from(
        ["", " peer=(label=libvirtd)", " peer=(addr=@b*)"]))
    return f"unix{perms}{conds}{peer},"


CHANGE_PROFILE_EXECS = ("/bin/a", "/bin/*", "/bin/{a,b}", "/usr/**", "/bin/a*")


@st.composite
def change_profile_lines(draw, targets, prefixes=("", "", "audit ", "deny "),
                         execs=(None, *CHANGE_PROFILE_EXECS)) -> str:
    """One ``change_profile`` rule: a prefix, an optional exec condition (safe or
    unsafe) and an optional target, each drawn from the choices given (a choice
    listed twice is drawn twice as often)."""
    prefix = draw(st.sampled_from(prefixes))
    words = ["change_profile"]
    exec_glob = draw(st.sampled_from(execs))
    if exec_glob:
        words += [w for w in (draw(st.sampled_from([None, "safe", "unsafe"])), exec_glob) if w]
    target = draw(st.sampled_from([None, *targets]))
    if target:
        words += ["->", target]
    return prefix + " ".join(words) + ","
