"""The policy.conf front end: what it reads, and one ``file:line:col`` line (exit 2)
for what it cannot, on inputs checkpolicy also rejects."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import lsmsim
from lsmsim.frontends.selinux import load_selinux
from lsmsim.model.selinux import Level

from .conftest import MODELS
from .selinux_oracle import checkpolicy

PARENT = MODELS / "selinux" / "svirt-parent.conf"

MINIMAL = """class file
sid kernel
class file { read write }
sensitivity s0;
dominance { s0 }
category c0; category c1;
level s0:c0.c1;
mlsconstrain file read ( l1 dom l2 );
type t;
BODY
role r;
role r types t;
user u roles r level s0 range s0 - s0:c0.c1;
sid kernel u:r:t:s0
"""


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lsmsim.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_detects_and_reads_the_svirt_parent():
    """Types, attribute membership, aliases, booleans, MCS levels and constraints."""
    assert lsmsim.detect_lsm(PARENT) == "selinux"
    policy = lsmsim.load(PARENT)
    assert policy.mls and len(policy.categories) == 1024
    assert policy.attributes["mcs_constrained_type"] == {"svirt_t"}
    assert policy.aliases == {"qemu_t": "svirt_t"}
    assert policy.booleans == {"virt_use_nfs": False}
    assert policy.users["guest1_u"].level == Level("s0", frozenset({"c1", "c2"}))
    assert len(policy.constraints) == 6 and all(c.mls for c in policy.constraints)
    conditional = [r for r in policy.rules if r.condition]
    assert len(conditional) == 1 and str(conditional[0].condition.expr) == "virt_use_nfs"
    rule = policy.rules[0]
    assert (rule.source.line, rule.source.column) == (118, 1)
    assert rule.source.text.startswith("allow virtd_t virt_image_type:file {")


def test_full_coverage_statements(tmp_path):
    """The statements docs/selinux.md §2.1 lists, in a policy checkpolicy compiles."""
    text = """class process
class file
class dir
sid kernel
sid unlabeled
common file { read write open getattr execute ioctl }
class process { transition signal }
class file inherits file { entrypoint }
class dir inherits file { search }
default_range file target low;
sensitivity s0 alias unclassified;
sensitivity s1;
dominance { s0 s1 }
category c0; category c1; category c2;
level s0:c0.c2;
level s1:c0.c2;
mlsconstrain file { read write } ( h1 dom h2 );
mlsvalidatetrans file ( l1 domby h2 );
policycap network_peer_controls;
attribute domain;
attribute files;
type a_t, domain;
type b_t alias b_alias_t, domain;
type f_t, files;
typealias f_t alias { f2_t };
typeattribute f_t files;
type sub_t;
typebounds a_t sub_t;
permissive a_t;
bool b1 true;
bool b2 false;
tunable tun false;
type_transition a_t f_t:file f_t;
type_transition a_t f_t:file f_t "name";
type_change a_t f_t:file f_t;
range_transition a_t f_t:process s0 - s1:c0;
allow domain self:process signal;
allow a_t f_t:file { read write };
allow { domain -b_t } files:dir *;
dontaudit a_t f_t:file execute;
auditallow a_t f_t:file read;
neverallow b_t f_t:file write;
allowxperm a_t f_t:file ioctl { 0x8927 0x5401-0x5410 };
if (b1 && !b2) { allow b_t f_t:file read; } else { allow b_t f_t:file getattr; }
if (tun) { allow b_t f_t:file write; }
role r;
role r2x;
attribute_role ra;
roleattribute r2x ra;
role r types { a_t b_t };
role r2x types { a_t };
allow r ra;
role_transition r f_t r2x;
user u roles { r r2x } level s0 range s0 - s1:c0.c2;
constrain process transition ( u1 == u2 or t1 == domain );
validatetrans file ( t1 == f_t );
sid kernel u:r:a_t:s0 - s1:c0.c2
sid unlabeled u:object_r:f_t:s0
fs_use_xattr ext4 u:object_r:f_t:s0;
fs_use_task pipefs u:object_r:f_t:s0;
genfscon proc / u:object_r:f_t:s0
portcon tcp 80 u:object_r:f_t:s0
portcon udp 1000-2000 u:object_r:f_t:s0
netifcon lo u:object_r:f_t:s0 u:object_r:f_t:s0
nodecon 127.0.0.1 255.255.255.255 u:object_r:f_t:s0
"""
    path = tmp_path / "full.conf"
    path.write_text(text)
    proc = checkpolicy(path, tmp_path / "full.bin")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    policy = load_selinux(path)
    assert policy.sensitivities == ("s0", "s1")
    assert policy.typebounds == {"sub_t": "a_t"} and policy.permissive == {"a_t"}
    assert policy.role_allows == {("r", "r2x")}
    assert {r.kind for r in policy.rules} == {"allow", "dontaudit", "auditallow", "neverallow"}
    # The tunable is decided at compile time (false): its rule is gone.
    assert not any("write" in r.perms_for("file") and r.condition for r in policy.rules)
    assert len([r for r in policy.rules if r.condition]) == 2
    assert [r.kind for r in policy.type_rules] == ["type_transition"] * 2 + ["type_change"]


BAD = [
    ("garbage.conf", "allow t t:file read;\n%%%\n", 2, "syntax error"),
    ("no-semicolon.conf", "allow t t:file read\nrole r;\n", 2, "syntax error"),
    ("unknown-type.conf", "allow t nosuch_t:file read;\n", 1, "unknown type or attribute nosuch_t"),
    ("unknown-perm.conf", "allow t t:file fly;\n", 1, "permission fly is not defined"),
    ("unknown-class.conf", "allow t t:socket read;\n", 1, "unknown class socket"),
    ("tilde.conf", "allow t ~t:file read;\n", 1, "~ not allowed"),
    ("unknown-bool.conf", "if (nope) { allow t t:file read; }\n", 1, "unknown boolean nope"),
    ("bad-level.conf", "level s0:c9;\n", 1, "unknown category c9"),
    ("mls-in-constrain.conf", "constrain file read ( l1 dom l2 );\n", 1,
     "levels can only be compared in mlsconstrain"),
]


@pytest.mark.parametrize("name,body,line,needle", BAD, ids=[b[0] for b in BAD])
def test_bad_policy_is_one_line_exit_2(tmp_path, name, body, line, needle):
    """Each bad statement: checkpolicy refuses it too, lsmsim exits 2 with one line."""
    text = MINIMAL.replace("BODY", body)
    path = tmp_path / name
    path.write_text(text)
    assert checkpolicy(path, tmp_path / "x.bin").returncode != 0
    proc = run("check", "--child", str(path), "--parent", str(PARENT))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    match = re.match(r"(.+):(\d+):(\d+): (.+)", lines[0])
    assert match and Path(match.group(1)).name == name, lines[0]
    assert int(match.group(2)) == 9 + line, lines[0]
    assert needle in match.group(4), lines[0]


def test_unterminated_block(tmp_path):
    path = tmp_path / "open.conf"
    path.write_text(MINIMAL.replace("BODY", "if (b) { allow t t:file read;") + "\n")
    proc = run("check", "--child", str(path), "--parent", str(PARENT), "--lsm", "selinux")
    assert proc.returncode == 2 and re.match(r".+open\.conf:\d+:\d+: ", proc.stderr)
    assert proc.stderr.count("\n") == 1


def test_parse_command_shows_the_model():
    text = run("parse", str(PARENT))
    assert text.returncode == 0 and "8 types, 3 attributes" in text.stdout
    proc = run("parse", str(PARENT), "--format", "json")
    assert proc.returncode == 0
    import json
    model = json.loads(proc.stdout)
    assert model["lsm"] == "selinux" and model["attributes"]["virt_domain"] == ["svirt_t"]
    assert model["rules"][0]["source"]["line"] == 118
