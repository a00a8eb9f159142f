"""The CIL front end: what it reads, what it refuses (with file:line:column), the
shipped CIL children against their policy.conf twins, and the command line."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import lsmsim
from lsmsim.errors import PolicyError
from lsmsim.frontends.selinux import load_cil_text, load_selinux
from lsmsim.frontends.selinux.cil_syntax import parse_cil

from .conftest import MODELS
from .selinux_oracle import HERE, secilc

SELINUX = MODELS / "selinux"
PARENT = SELINUX / "svirt-parent.conf"

HEADER = """(class file (read write getattr))
(classorder (file))
(sid kernel)
(sidorder (kernel))
(sensitivity s0)
(sensitivityorder (s0))
(category c0)
(categoryorder (c0))
(sensitivitycategory s0 (c0))
(role object_r)
(role r)
(user u)
(userrole u r)
(userrole u object_r)
(userlevel u (s0))
(userrange u ((s0) (s0 (c0))))
(type k)
(roletype r k)
(roletype object_r k)
(sidcontext kernel (u r k ((s0) (s0))))
(allow k k (file (read)))
"""


def load(body: str):
    return load_cil_text(HEADER + body, "t.cil")


def error_of(body: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        load(body)
    return info.value


@pytest.mark.parametrize("body,line,column,words", [
    ("(allow k nosuch_t (file (read)))", 22, 1, "unknown type nosuch_t"),
    ("(frobnicate k)", 22, 1, "unknown or unsupported CIL statement 'frobnicate'"),
    ("(type k)", 22, 1, "re-declaration of k"),
    ("(allow k k (file (fly)))", 22, 12, "permission fly is not defined for class file"),
    ("(macro m ((type t)) (allow t t (file (read))))\n(call m (k k))", 23, 1,
     "takes 1 arguments, 2 given"),
    ("(block b (blockinherit b))", 22, 10, "inherits itself"),
    ("(booleanif nob (true (allow k k (file (write)))))", 22, 1, "unknown boolean nob"),
    ("(allow self k (file (read)))", 22, 1, "'self' is only allowed as a target"),
    ("(typeattribute a)\n(typeattributeset a (a))", 23, 1, "contains itself"),
    ("(mlsconstrain (file (read)) (dom t1 t2))", 22, 29, "compares roles or levels"),
    ("(userlevel u (s0 (c1)))", 22, 14, "unknown category c1"),
    ("(type x)\n(filecon \"/x\" file (u r x ((s0) (s0))))", 23, 1,
     "type x is not authorised for role r"),
])
def test_errors_carry_positions(body, line, column, words):
    error = error_of(body)
    assert error.position is not None and error.position.file == "t.cil"
    assert (error.position.line, error.position.column) == (line, column), str(error)
    assert words in error.message


@pytest.mark.parametrize("text,line,column", [("(a (b)", 1, 1), ("(a))", 1, 4),
                                               ("(a\n  (b (c)\n(d))", 1, 1), ("(a \"x)", 1, 4)])
def test_syntax_errors(text, line, column):
    with pytest.raises(PolicyError) as info:
        parse_cil(text, "s.cil")
    assert (info.value.position.line, info.value.position.column) == (line, column)


def test_optional_with_a_missing_name_is_dropped_whole():
    policy = load("(optional o (allow k k (file (write))) (allow k nosuch_t (file (read))))\n"
                  "(optional p (allow k k (file (getattr))))")
    perms = set().union(*(r.perms_for("file") for r in policy.rules))
    assert perms == {"read", "getattr"}


def test_optional_declaring_a_name_others_use_drops_them_too():
    policy = load("(optional o (type t) (allow k nosuch_t (file (read))))\n"
                  "(optional p (allow k t (file (write))))")
    assert "t" not in policy.types
    assert all("write" not in r.perms_for("file") for r in policy.rules)


def test_tunable_branches_are_decided_when_compiling():
    policy = load("(tunable tu false)\n(tunableif tu (true (allow k k (file (write))))"
                  " (false (allow k k (file (getattr)))))")
    assert [sorted(r.perms_for("file")) for r in policy.rules] == [["read"], ["getattr"]]
    assert all(r.condition is None for r in policy.rules)


def test_permission_expressions_and_classmaps():
    policy = load("(classmap io (in))\n(classmapping io in (file (read getattr)))\n"
                  "(allow k k (file (not (read))))\n(allow k k (file (all)))\n"
                  "(allow k k (io (in)))")
    assert [r.perms_for("file") for r in policy.rules[1:]] == [
        {"write", "getattr"}, {"read", "write", "getattr"}, {"read", "getattr"}]


def test_unknown_name_outside_an_optional_is_an_error_even_in_a_macro():
    error = error_of("(macro m ((type t)) (allow t nosuch_t (file (read))))\n(call m (k))")
    assert "unknown type nosuch_t" in error.message and error.position.line == 22


def test_mls_false_keeps_mls_statements_out_of_decisions():
    text = HEADER.replace("(sensitivity s0)", "(mls false)\n(sensitivity s0)")
    policy = load_cil_text(text + "(mlsconstrain (file (read)) (dom l1 l2))", "t.cil")
    assert not policy.mls and not policy.constraints
    assert [k.kind for k in policy.kept if k.kind == "mlsconstrain"] == ["mlsconstrain"]


@pytest.mark.parametrize("name", ["container-within", "container-expands"])
def test_cil_children_match_their_conf_twins(name, tmp_path):
    """The CIL child compiles with secilc and holds the same rules, constraints,
    attributes, booleans and users as its policy.conf twin."""
    cil_path = SELINUX / f"{name}.cil"
    secilc([cil_path], tmp_path / "x.bin")
    cil, conf = lsmsim.load(cil_path), load_selinux(SELINUX / f"{name}.conf")
    assert set(cil.types) == set(conf.types) and cil.attributes == conf.attributes
    assert cil.aliases == conf.aliases and cil.booleans == conf.booleans

    def rules(policy):
        return sorted((r.kind, tuple(sorted(r.sources.names)), tuple(sorted(r.targets.names)),
                       r.targets.self_, tuple(sorted((c, tuple(sorted(p))) for c, p in r.perms)),
                       str(r.condition.expr) if r.condition else "", bool(r.condition and
                                                                          r.condition.branch))
                      for r in policy.rules)

    def constraints(policy):
        return sorted((c, tuple(sorted(p)), str(k.expr))
                      for k in policy.constraints for c, p in k.perms)

    def users(policy):
        return {n: (u.roles - {"object_r"}, u.level, u.range) for n, u in policy.users.items()}
    assert rules(cil) == rules(conf)
    assert constraints(cil) == constraints(conf)
    assert users(cil) == users(conf)
    assert cil.categories == conf.categories and cil.sensitivities == conf.sensitivities


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "lsmsim.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_cli_checks_cil_children_within_a_conf_parent():
    within = _cli("check", "--child", str(SELINUX / "container-within.cil"), "--parent",
                  str(PARENT))
    assert within.returncode == 0, within.stdout + within.stderr
    expands = _cli("check", "--child", str(SELINUX / "container-expands.cil"), "--parent",
                   str(PARENT), "--format", "json")
    assert expands.returncode == 1, expands.stderr
    report = json.loads(expands.stdout)
    twin = json.loads(_cli("check", "--child", str(SELINUX / "container-expands.conf"),
                           "--parent", str(PARENT), "--format", "json").stdout)

    def kinds(r):
        return sorted((d["access"]["tclass"], d["access"]["perms"][0]) for d in r["denials"])
    assert kinds(report) == kinds(twin)
    assert all(d["rule"]["file"].endswith(".cil") for d in report["denials"])


def test_cli_reports_cil_errors_with_position(tmp_path):
    bad = tmp_path / "bad.cil"
    bad.write_text(HEADER + "(allow k nosuch_t (file (read)))\n")
    proc = _cli("parse", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"{bad}:22:1: unknown type nosuch_t"


def test_detects_cil_and_a_directory_of_cil(tmp_path):
    (tmp_path / "a.cil").write_text((HERE / "oracle.cil").read_text()
                                    .replace("BOOLVALUE", "true").replace("TUNVALUE", "true"))
    assert lsmsim.detect_lsm(tmp_path / "a.cil") == "cil"
    assert lsmsim.detect_lsm(tmp_path) == "cil"
    assert "vm1.t" in lsmsim.load(tmp_path).types


# Every list shape the parser reads: access rules, pairs, flat lists, lists deeper than
# a run holds, quoted strings, comments, lists across lines and blanks inside lists.
SHAPES = """(allow a_t b_t (file (read open)))
  (typeattributeset x (y z))(roletype r t)
(optional o
  (allow a_t b_t (dir ( search ) ))
  (filecon "/usr/bin/x" file (u r x_t ((s0) (s0)))) ; a comment
  (typeattributeset x (and (y) (not (z)))))
(booleanif b (true (optional p (allow a b (file (write))) (allow a b
   (file (read))))))
(a (b (c (d (e (f (g (h)))))))) (q "word") (
 lone )
"""


def _opened(text: str) -> list[tuple[int, int]]:
    """Line and column of each '(' outside strings and comments, in order."""
    out, line, column, in_string, in_comment = [], 1, 1, False, False
    for ch in text:
        if in_comment:
            in_comment = ch != "\n"
        elif in_string:
            in_string = ch != '"'
        elif ch == ";":
            in_comment = True
        elif ch == '"':
            in_string = True
        elif ch == "(":
            out.append((line, column))
        line, column = (line + 1, 1) if ch == "\n" else (line, column + 1)
    return out


def test_every_list_is_read_with_its_position_and_text():
    """Lists read whole from a run and lists read item by item carry the same facts:
    position, the text they span, and their items in order."""
    from lsmsim.frontends.selinux.cil_syntax import SList, Quoted, source_of

    found = []

    def walk(item):
        if type(item) is SList:
            found.append(item)
            for sub in item.items:
                walk(sub)
    top = parse_cil(SHAPES, "s.cil")
    for item in top:
        walk(item)
    assert [(node.line, node.column) for node in found] == _opened(SHAPES)
    for node in found:
        assert SHAPES[node.start] == "(" and SHAPES[node.end - 1] == ")"
    rule = found[0]
    assert rule.items[:3] == ("allow", "a_t", "b_t") and rule.items[3].items[0] == "file"
    assert rule.items[3].items[1].items == ("read", "open")
    searched = next(n for n in found if n.items and n.items[0] == "dir")
    assert searched.items[1].items == ("search",)
    filecon = next(n for n in found if n.items and n.items[0] == "filecon")
    assert type(filecon.items[1]) is Quoted and filecon.items[1] == "/usr/bin/x"
    assert top[-2].items == ("q", "word") and type(top[-2].items[1]) is Quoted
    assert top[-1].items == ("lone",) and (top[-1].line, top[-1].column) == (9, 44)
    split = next(n for n in found if n.items[:3] == ("allow", "a", "b")
                 and n.items[3].items[1].items == ("read",))
    column = SHAPES.splitlines()[6].rindex("(allow") + 1
    assert (source_of(split).line, source_of(split).column) == (7, column)
    assert source_of(split).text == "(allow a b (file (read)))"


def test_a_rule_source_is_read_from_the_file_when_asked_and_acts_as_a_source():
    """A rule's source equals, hashes and pickles as the plain Source with the same
    fields; dataclasses.replace gives a copy with the change."""
    import dataclasses
    import pickle

    from lsmsim.model.source import Source

    policy = load("(allow k\n    k (file\n (getattr)))")
    source = policy.rules[-1].source
    plain = Source("t.cil", 22, 1, "(allow k k (file (getattr)))")
    assert source == plain and plain == source and hash(source) == hash(plain)
    assert source.to_json() == plain.to_json() and str(source) == "t.cil:22:1"
    copied = pickle.loads(pickle.dumps(source))
    assert type(copied) is Source and copied == plain
    changed = dataclasses.replace(source, text="x")
    assert (changed.file, changed.line, changed.column, changed.text) == ("t.cil", 22, 1, "x")
    assert source.text == plain.text
