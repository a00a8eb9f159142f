"""The Z3 containment check on SELinux policies: shipped models' verdicts, witnesses
confirmed by libsepol, the CLI contract, and the encoder against the simulator."""
from __future__ import annotations

import functools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lsmsim
from lsmsim.frontends.selinux import load_cil, load_selinux
from lsmsim.model.selinux import Context, Level, Range, SELinuxRequest
from lsmsim.simulate.selinux import decide
from lsmsim.verify.selinux_encode import PolicyEncoder, SymRequest, Universe

from .conftest import MODELS
from .selinux_oracle import HERE, Libsepol, compile_policy

SELINUX = MODELS / "selinux"
PARENT = SELINUX / "svirt-parent.conf"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lsmsim.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_within_is_proven():
    """container-within.conf stays within the sVirt parent."""
    result = lsmsim.check(lsmsim.load(SELINUX / "container-within.conf"), lsmsim.load(PARENT))
    assert result.verdict.value == "contained"


def test_expands_reports_each_expansion():
    """The extra TE rule, the dropped MCS constraint and the boolean-gated rule are each
    reported on their own line of the child."""
    child = lsmsim.load(SELINUX / "container-expands.conf")
    result = lsmsim.check(child, lsmsim.load(PARENT))
    assert result.verdict.value == "expansions"
    texts = {d.rule.text for d in result.denials}
    assert "allow virt_domain virt_content_t:file { write };" in texts
    assert "allow virt_domain svirt_image_t:file { open read write getattr };" in texts
    assert "allow virt_domain self:process { execmem };" in texts
    execmem = next(d for d in result.denials if d.access.perm == "execmem")
    assert dict(execmem.access.booleans)["virt_use_execmem"] is True
    image = [d for d in result.denials if "svirt_image_t:file" in d.rule.text]
    assert image and all("mlsconstrain" in d.reason for d in image)


def test_fixed_boolean_hides_the_gated_rule():
    child = lsmsim.load(SELINUX / "container-expands.conf")
    result = lsmsim.check(child, lsmsim.load(PARENT), booleans={"virt_use_execmem": False})
    assert all(d.access.perm != "execmem" for d in result.denials)


def test_witnesses_are_confirmed_by_libsepol(tmp_path):
    """Each reported access is allowed by the compiled child and denied by the compiled
    parent, according to libsepol (booleans at the witness's values)."""
    child_path = SELINUX / "container-expands.conf"
    result = lsmsim.check(lsmsim.load(child_path), lsmsim.load(PARENT))
    for side, path, expected in (("child", child_path, True), ("parent", PARENT, False)):
        for denial in result.denials:
            text = path.read_text()
            layer = denial.access if side == "child" else denial.access.for_parent()
            for name, value in layer.booleans:
                text = text.replace(f"bool {name} false;", f"bool {name} {str(value).lower()};")
            source = tmp_path / f"{side}.conf"
            source.write_text(text)
            sepol = Libsepol(compile_policy(source, tmp_path / f"{side}.bin"))
            a = denial.access
            assert sepol.allowed(str(a.scontext), str(a.tcontext), a.tclass, a.perm) is expected, \
                (side, a.to_json())


def test_cli_exit_codes_and_formats(tmp_path):
    within = run("check", "--child", str(SELINUX / "container-within.conf"), "--parent", str(PARENT))
    assert within.returncode == 0, within.stderr
    proc = run("check", "--child", str(SELINUX / "container-expands.conf"), "--parent",
               str(PARENT), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["verdict"] == "expansions"
    access = report["denials"][0]["access"]
    assert set(access) == {"class", "scontext", "tcontext", "tclass", "perms", "booleans",
                           "parent_booleans"}
    assert access["class"] == "selinux"
    assert report["denials"][0]["audit"].startswith("avc:  denied  { ")
    assert "permissive=0" in report["denials"][0]["audit"]
    sarif = run("check", "--child", str(SELINUX / "container-expands.conf"), "--parent",
                str(PARENT), "--format", "sarif", "--bool", "virt_use_execmem=off")
    assert sarif.returncode == 1
    assert "{ execmem }" not in sarif.stdout
    assert json.loads(sarif.stdout)["runs"][0]["results"][0]["locations"]


def test_cli_rejects_bad_bool_and_mixed_lsms():
    bad = run("check", "--child", str(SELINUX / "container-expands.conf"), "--parent", str(PARENT),
              "--bool", "nosuch=on")
    assert bad.returncode == 2 and "no boolean named nosuch" in bad.stderr
    worse = run("check", "--child", str(SELINUX / "container-expands.conf"), "--parent",
                str(PARENT), "--bool", "virt_use_nfs=maybe")
    assert worse.returncode == 2 and "NAME=on" in worse.stderr
    mixed = run("check", "--child", str(SELINUX / "container-within.conf"), "--parent",
                str(MODELS / "svirt" / "libvirt-qemu.aa"), "-I", str(MODELS / "apparmor.d"))
    assert mixed.returncode == 2 and "not supported yet" in mixed.stderr
    assert mixed.stderr.count("\n") == 1


def test_tight_rlimit_is_undecided_never_contained():
    """Rules the parent does not grant block for block need the solver, which gives up."""
    child = lsmsim.load(SELINUX / "container-expands.conf")
    result = lsmsim.check(child, lsmsim.load(PARENT), rlimit=1)
    assert result.verdict.value == "undecided" and result.exit_code == 3


def test_rules_proven_without_the_solver_are_proven_with_it(monkeypatch):
    """The block-for-block shortcut changes no verdict and no denial: every model pair
    checked with it and with every rule sent to the solver."""
    from lsmsim.verify import selinux_cover

    pairs = [(SELINUX / f"container-{v}.{ext}", PARENT)
             for v in ("within", "expands") for ext in ("conf", "cil")]
    pairs += [(PARENT, PARENT), (SELINUX / "container-within.conf",
                                 SELINUX / "container-expands.conf")]

    def outcome(child, parent):
        result = lsmsim.check(lsmsim.load(child), lsmsim.load(parent))
        return result.verdict.value, sorted(str(d.rule) for d in result.denials)
    fast = [outcome(c, p) for c, p in pairs]
    monkeypatch.setattr(selinux_cover.CoverIndex, "uncovered",
                        lambda _self, _rule, _tclass, perms: perms)
    slow = [outcome(c, p) for c, p in pairs]
    assert fast == slow
    assert {verdict for verdict, _ in fast} == {"contained", "expansions"}


def test_typebounds_are_read(tmp_path):
    assert load_selinux(_oracle(tmp_path)).typebounds == {"bounded_t": "b_t"}


def _oracle(tmp_path: Path) -> Path:
    path = tmp_path / "oracle.conf"
    path.write_text((HERE / "oracle.conf").read_text().replace("BOOLVALUE", "false"))
    return path


# --- the encoder against the simulator ----------------------------------------------------

@functools.lru_cache(maxsize=1)
def _all():
    tmp = Path(tempfile.mkdtemp())
    cil = tmp / "oracle.cil"
    cil.write_text((HERE / "oracle.cil").read_text().replace("BOOLVALUE", "false")
                   .replace("TUNVALUE", "true"))
    return [load_selinux(_oracle(tmp)), load_selinux(PARENT),
            load_selinux(SELINUX / "container-expands.conf"), load_cil(cil)]


@st.composite
def requests(draw, policy):
    cats = list(policy.categories[:5])

    def level():
        return Level("s0", frozenset(draw(st.lists(st.sampled_from(cats), max_size=3))))

    def context(object_):
        user = draw(st.sampled_from(sorted(policy.users)))
        role = "object_r" if object_ else draw(st.sampled_from(sorted(policy.roles)))
        low = level()
        high = Level("s0", low.categories | level().categories)
        return Context(user, role, draw(st.sampled_from(policy.types)), Range(low, high))
    tclass = draw(st.sampled_from(sorted(policy.classes)))
    perm = draw(st.sampled_from(sorted(policy.classes[tclass])))
    booleans = tuple((b, draw(st.booleans())) for b in sorted(policy.booleans))
    return SELinuxRequest(context(False), context(tclass != "process"), tclass, perm, booleans)


@pytest.mark.parametrize("index", [0, 1, 2, 3],
                         ids=["oracle", "svirt-parent", "container-expands", "oracle-cil"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_encoder_agrees_with_simulator(index, data):
    """For a random concrete request, the Z3 decision with the request substituted is
    true exactly when the simulator allows."""
    policy = _all()[index]
    request = data.draw(requests(policy))
    universe = Universe(policy)
    sym = SymRequest.fresh(universe)
    formula = PolicyEncoder(policy, universe).decision(request.tclass, request.perm, sym)
    solver = z3.Solver()
    solver.add(*sym.substitute(request))
    solver.add(formula)
    assert (solver.check() == z3.sat) == decide(policy, request).allowed, request.to_json()


# --- booleans of separate layers --------------------------------------------------------

_GATED_CHILD = """(mls true)
(class file (read))
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
(type d)
(type f)
(roletype r d)
(roletype object_r f)
(sidcontext kernel (u r d ((s0) (s0))))
(boolean share false)
(booleanif share (true (allow d f (file (read)))))
"""


def test_a_boolean_of_the_same_name_is_another_layers_own(tmp_path):
    """Child and parent both gate the rule on ``share``: as separate layers the parent
    may have it off while the child has it on, and the witness names both values.
    Against itself (one layer) the same policy is contained."""
    child_path, parent_path = tmp_path / "child.cil", tmp_path / "parent.cil"
    child_path.write_text(_GATED_CHILD)
    parent_path.write_text(_GATED_CHILD)
    child, parent = load_cil(child_path), load_cil(parent_path)
    result = lsmsim.check(child, parent)
    assert result.verdict.value == "expansions"
    (denial,) = result.denials
    assert dict(denial.access.booleans) == {"share": True}
    assert dict(denial.access.parent_booleans) == {"share": False}
    assert denial.access.to_json()["parent_booleans"] == {"share": False}
    assert lsmsim.check(child, child).verdict.value == "contained"
    assert lsmsim.check(child, lsmsim.load(child_path)).verdict.value == "contained"
    fixed = lsmsim.check(child, parent, booleans={"share": True})
    assert fixed.verdict.value == "contained"


def test_parent_layer_encoder_reads_the_parent_booleans():
    """With separate layers, the Z3 decision of the parent depends on its own
    variables only, and agrees with the simulator given the parent's values."""
    policy = _all()[0]
    universe = Universe(policy)
    sym = SymRequest.fresh(universe, separate_layers=True)
    encoder = PolicyEncoder(policy, universe, parent_layer=True)
    scon = Context("bob_u", "user_r", "c_t", Range(Level("s0"), Level("s0")))
    tcon = Context("alice_u", "object_r", "f_t", Range(Level("s0"), Level("s0")))
    for child_flag, parent_flag in ((True, False), (False, True)):
        request = SELinuxRequest(scon, tcon, "file", "read", (("flag", child_flag),),
                                 (("flag", parent_flag),))
        solver = z3.Solver()
        solver.add(*sym.substitute(request), encoder.decision("file", "read", sym))
        expected = decide(policy, request.for_parent()).allowed
        assert (solver.check() == z3.sat) == expected == parent_flag
