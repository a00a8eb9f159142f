"""Namespace stacks: manifests, the per-pair check, simulation through every layer, and
the two held against each other on the shipped stacks."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from lsmsim.errors import PolicyError
from lsmsim.model.requests import CapabilityRequest, ExecRequest, FileRequest
from lsmsim.stack import check_stack, load_stack, parse_request, request_to_text, simulate
from lsmsim.stack.simulate import ALLOWED, DENIED, NOT_MEDIATED
from lsmsim.verify.result import Verdict

from .conftest import MODELS

STACKS = MODELS / "stacks"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lsmsim.cli", *args], capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def checked():
    """Every shipped stack, loaded and checked once."""
    out = {}
    for path in sorted(STACKS.glob("*.toml")):
        stack = load_stack(path)
        out[path.stem] = (stack, check_stack(stack))
    return out


def _pair(result, ancestor, child):
    return next(p for p in result.pairs if (p.ancestor, p.child) == (ancestor, child))


def _planted(path: Path) -> set[int]:
    """Lines of a model marked as a planted expansion."""
    return {n for n, line in enumerate(path.read_text().splitlines(), 1) if "EXPANDS" in line
            and not line.lstrip().startswith("#")}


# --- verdicts of the shipped stacks ---------------------------------------------------------

def test_every_shipped_stack_has_its_verdict(checked):
    expected = {"libvirt-lxd": Verdict.CONTAINED, "libvirt-lxd-expands": Verdict.EXPANSIONS,
                "selinux-svirt": Verdict.CONTAINED, "selinux-svirt-expands": Verdict.EXPANSIONS,
                "mixed-svirt-apparmor": Verdict.CONTAINED,
                "mixed-svirt-apparmor-expands": Verdict.EXPANSIONS,
                "selinux-nested": Verdict.EXPANSIONS}
    assert {name: result.verdict for name, (_, result) in checked.items()} == expected
    for name, (_, result) in checked.items():
        assert not any(p.result.undecided for p in result.checked), name


def test_three_levels_check_every_ancestor(checked):
    _, result = checked["libvirt-lxd"]
    assert {(p.ancestor, p.child, p.relation) for p in result.pairs} == {
        ("host", "agent", "parent"), ("agent", "worker", "parent"), ("host", "worker", "ancestor")}


def test_grandparent_only_denial(checked):
    """The worker reads /etc/shadow: the agent allows it, only the sVirt host denies it."""
    stack, result = checked["libvirt-lxd-expands"]
    lines = {d.rule.line for d in _pair(result, "agent", "worker").result.denials}
    chain = _pair(result, "host", "worker").result.denials
    shadow = [d for d in chain if isinstance(d.access, FileRequest)
              and d.access.path == "/etc/shadow"]
    assert shadow and shadow[0].rule.line not in lines
    decisions = {d.layer: d.status for d in simulate(stack, shadow[0].access).decisions}
    assert decisions == {"worker": ALLOWED, "agent": ALLOWED, "host": DENIED}


def test_exec_escapes_are_found_with_their_path(checked):
    stack, result = checked["libvirt-lxd-expands"]
    denials = _pair(result, "agent", "worker").result.denials
    escapes = [d for d in denials if isinstance(d.access, ExecRequest)]
    assert {(d.access.path, d.access.mode, d.access.target) for d in escapes} == {
        ("/usr/bin/cat", "ux", "unconfined")}
    through_px = [d for d in denials if d.via]
    assert [(d.access, [s.path for s in d.via], d.via[0].child_mode) for d in through_px] == [
        (CapabilityRequest("net_admin"), ["/usr/bin/qemu-system-x86_64"], "px -> agent-probe")]


def test_every_planted_line_is_reported(checked):
    _, result = checked["libvirt-lxd-expands"]
    worker = MODELS / "nested" / "agent-worker-expands.aa"
    agent = MODELS / "containers" / "vm-agent-expands.aa"
    reported = {(Path(d.rule.file).name, d.rule.line) for p in result.checked
                for d in p.result.denials}
    assert {(worker.name, n) for n in _planted(worker)} | \
        {(agent.name, n) for n in _planted(agent)} == reported


def test_selinux_planted_rules_are_reported(checked):
    _, result = checked["selinux-svirt-expands"]
    path = MODELS / "selinux" / "ns-container-expands.conf"
    text = path.read_text().splitlines()
    # each EXPANDS comment marks the rules up to the next blank line
    marked, inside = set(), False
    for number, line in enumerate(text, 1):
        inside = "EXPANDS" in line or (inside and line.strip() != "")
        if inside and line.strip() and not line.lstrip().startswith("#") \
                and line.lstrip().startswith(("allow", "type_transition")):
            marked.add(number)
    reported = {d.rule.line for d in _pair(result, "host", "container").result.denials}
    assert reported and reported <= marked
    assert {n for n in marked if text[n - 1].lstrip().startswith("allow")} <= reported


def test_selinux_grandparent_only_denial_through_two_mappings(checked):
    """The nested application's directory writes pass the container's policy; the host
    denies them under its own labels, and logs them so."""
    _, result = checked["selinux-nested"]
    assert _pair(result, "container", "app").result.verdict is Verdict.CONTAINED
    denials = _pair(result, "host", "app").result.denials
    assert sorted(d.access.perm for d in denials) == ["add_name", "write"]
    for denial in denials:
        assert denial.denied_by == "system_u:system_r:svirt_t:s0:c1,c2"
        assert denial.logged == (
            f"avc:  denied  {{ {denial.access.perm} }} for  scontext=system_u:system_r:svirt_t:"
            "s0:c1,c2 tcontext=system_u:object_r:svirt_image_t:s0:c1,c2 tclass=dir permissive=0",)


@pytest.mark.parametrize("nfs,denied", [
    (False, ["getattr", "ioctl", "lock", "map", "open", "read"]),
    (True, ["ioctl", "lock", "map"])])
def test_a_layer_runs_with_its_own_booleans(tmp_path, nfs, denied):
    """The container's read-only content served over NFS: the host's virt_use_nfs
    decides, as the layer's manifest sets it."""
    text = (STACKS / "selinux-svirt.toml").read_text().replace('"../', f'"{MODELS}/')
    text = text.replace('container_ro_file_t = "system_u:object_r:virt_content_t:s0"',
                        'container_ro_file_t = "system_u:object_r:nfs_t:s0"')
    text += f"\n[layers.host.booleans]\nvirt_use_nfs = {str(nfs).lower()}\n"
    path = tmp_path / "stack.toml"
    path.write_text(text)
    stack = load_stack(path)
    result = check_stack(stack)
    found = sorted(d.access.perm for d in result.pairs[0].result.denials
                   if d.access.tclass == "file")
    assert found == denied


def test_mixed_stack_checks_apparmor_layers_within_the_selinux_host(checked):
    _, result = checked["mixed-svirt-apparmor"]
    relations = {(p.ancestor, p.child): p.relation for p in result.pairs}
    assert relations == {("host", "agent"): "parent", ("agent", "worker"): "parent",
                         ("host", "worker"): "ancestor"}


def test_a_selinux_layer_under_apparmor_is_not_compared(tmp_path):
    (tmp_path / "stack.toml").write_text(f"""
[layers.top]
policy = "{STACKS / '../containers/vm-agent-within.aa'}"
include = ["{STACKS / '../apparmor.d'}"]
[layers.below]
parent = "top"
policy = "{STACKS / '../selinux/svirt-parent.conf'}"
subject = "system_u:system_r:svirt_t:s0:c1,c2"
""")
    result = check_stack(load_stack(tmp_path / "stack.toml"))
    assert [(p.relation, p.result) for p in result.pairs] == [("not compared", None)]


# --- simulate agrees with check -------------------------------------------------------------

def test_every_denial_replays_as_denied_by_the_layer_named(checked):
    replayed = 0
    for name, (stack, result) in checked.items():
        for pair in result.checked:
            for denial in pair.result.denials:
                execs = [step.path for step in denial.via]
                if isinstance(denial.access, ExecRequest) and denial.access.target == "unconfined":
                    # after an escape, the task may do what the ancestor's domain may not
                    execs.append(denial.access.path)
                    probes = [f"capability:{c}" for c in ("mac_admin", "sys_module", "sys_rawio")]
                else:
                    probes = [request_to_text(denial.access)]
                outcomes = [simulate(stack, probe, pair.child, execs) for probe in probes]
                assert any({d.layer: d.status for d in o.decisions}[pair.ancestor] == DENIED
                           and {d.layer: d.status for d in o.decisions}[pair.child] != DENIED
                           for o in outcomes), (name, pair.ancestor, denial)
                replayed += 1
    assert replayed >= 20


def test_selinux_witnesses_hold_in_the_compiled_policies(checked, tmp_path):
    """libsepol on the compiled child allows each witness; on the compiled host the
    mapped request is denied."""
    from .selinux_oracle import Libsepol, compile_policy
    stack, result = checked["selinux-svirt-expands"]
    child = Libsepol(compile_policy(MODELS / "selinux" / "ns-container-expands.conf",
                                    tmp_path / "child.bin"))
    denials = _pair(result, "host", "container").result.denials
    for denial in denials:
        w = denial.access
        assert child.allowed(str(w.scontext), str(w.tcontext), w.tclass, w.perm) or \
            dict(w.booleans).get("container_manage_content"), w
    host = Libsepol(compile_policy(MODELS / "selinux" / "svirt-parent.conf", tmp_path / "h.bin"))
    for denial in denials:
        seen = simulate(stack, denial.access, "container").decisions[-1]
        assert seen.status == DENIED
        for text in seen.seen:
            request = parse_request(text)
            if not host.allowed(str(request.scontext), str(request.tcontext), request.tclass,
                                request.perm):
                break
        else:
            pytest.fail(f"the compiled host allows every view of {denial.access}")


def test_projection_equals_libsepol_for_every_child_type(tmp_path):
    """The host as seen from the container (one vector per child type and class)
    equals what libsepol computes on the compiled host for the mapped contexts."""
    from lsmsim.stack.check import _parent_view
    from lsmsim.stack.projection import project_ancestor
    from lsmsim.simulate.selinux import compute_av
    from .selinux_oracle import Libsepol, compile_policy
    stack = load_stack(STACKS / "selinux-svirt-expands.toml")
    host, container = stack.layer("host"), stack.layer("container")
    view = _parent_view(stack, container, host)
    projected = project_ancestor(container.policy, host, view)
    oracle = Libsepol(compile_policy(host.policy.file and Path(host.policy.file),
                                     tmp_path / "host.bin"))
    compared = 0
    for type_name in container.policy.types:
        for tclass, perms in container.policy.classes.items():
            granted = compute_av(projected, container.context,
                                 container.context.__class__("system_u", "object_r", type_name),
                                 tclass, {}).granted
            for perm in perms:
                expected = all(oracle.allowed(str(host.context), str(label), c, p)
                               for label, c, p in view(type_name, tclass, perm))
                assert (perm in granted) == expected, (type_name, tclass, perm)
                compared += 1
    assert compared > 300


# --- properties on random stacks ------------------------------------------------------------

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from .strategies import paths, profiles
except ImportError:  # pragma: no cover
    given = None


if given is not None:
    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.tuples(profiles("top"), profiles("mid"), profiles("low")),
           st.lists(paths(), min_size=1, max_size=8), st.sampled_from("rwalkm"))
    def test_contained_pairs_grant_nothing_the_ancestor_denies(tmp_path, texts, probes, perm):
        """Soundness on random three-layer stacks: where a pair is proven contained, no
        probe the child allows is denied by the ancestor; and a simulated request is
        allowed exactly when every layer allows it."""
        folder = Path(tempfile.mkdtemp(dir=tmp_path))
        manifest = ['name = "random"']
        for index, (layer, text) in enumerate(zip(("top", "mid", "low"), texts)):
            (folder / f"{layer}.aa").write_text(text)
            manifest += [f"[layers.{layer}]", f'policy = "{layer}.aa"', f'subject = "{layer}"']
            if index:
                manifest.append(f'parent = "{("top", "mid")[index - 1]}"')
        (folder / "stack.toml").write_text("\n".join(manifest) + "\n")
        stack = load_stack(folder / "stack.toml")
        result = check_stack(stack)
        for path in probes:
            for owner in (False, True):
                outcome = simulate(stack, FileRequest(path, frozenset(perm), owner))
                status = {d.layer: d.status for d in outcome.decisions}
                assert outcome.allowed == all(s == ALLOWED for s in status.values())
                for pair in result.checked:
                    if pair.result.verdict is Verdict.CONTAINED and status[pair.child] == ALLOWED:
                        assert status[pair.ancestor] == ALLOWED, (pair.ancestor, pair.child, path)


# --- manifests: errors with positions -------------------------------------------------------

GOOD_LAYER = 'policy = "{policy}"\nsubject = "vm-agent"\ninclude = ["{include}"]\n'


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stack.toml"
    child = MODELS / "containers" / "vm-agent-within.aa"
    path.write_text(text.format(policy=child, include=MODELS / "apparmor.d"))
    return path


@pytest.mark.parametrize("text,line,needle", [
    ("name = 1\n[layers.a]\n" + GOOD_LAYER + "parent = \"nowhere\"\n", 2, "parent 'nowhere'"),
    ("[layers.a]\n" + GOOD_LAYER + "parent = \"b\"\n[layers.b]\n" + GOOD_LAYER
     + "parent = \"a\"\n", 6, "cycle"),
    ("[layers.a]\n" + GOOD_LAYER + "[layers.b]\n" + GOOD_LAYER, 5, "one root"),
    ("[layers.a]\n" + GOOD_LAYER.replace("vm-agent", "nobody"), 1, "no profile named 'nobody'"),
    ("[layers.a]\npolicy = \"missing.aa\"\n", 1, "no such file"),
    ("[layers.a]\n" + GOOD_LAYER + "colour = \"red\"\n", 1, "unknown key(s) colour"),
    ("[layers.a]\npolicy = [1]\n", 1, "policy must be"),
    ("[layers.a\n", 1, "not valid TOML"),
    ("title = \"x\"\n", 1, "unknown top-level key"),
    ("[layers.a]\nsubject = \"x\"\n", 1, "names no policy file"),
    ("[layers.a]\n" + GOOD_LAYER + "[layers.a.booleans]\nb = true\n", 1, "apply to SELinux"),
])
def test_manifest_errors(tmp_path, text, line, needle):
    path = _write(tmp_path, text)
    proc = run("check", str(path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    match = re.match(r"(.+?):(\d+):(\d+): (.+)", lines[0])
    assert match, lines[0]
    assert int(match.group(2)) == line and needle in match.group(4), lines[0]


def test_selinux_layer_needs_labels_for_every_child_type(tmp_path):
    text = (STACKS / "selinux-svirt.toml").read_text().replace("default_label", "# default")
    text = text.replace('"../selinux/', f'"{MODELS}/selinux/')
    path = tmp_path / "stack.toml"
    path.write_text(text)
    with pytest.raises(PolicyError, match="types without a label in layer 'host'"):
        load_stack(path)


# --- the command line -----------------------------------------------------------------------

def test_cli_check_stack_json_groups_pairs():
    proc = run("check", str(STACKS / "libvirt-lxd-expands.toml"), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["verdict"] == "expansions"
    pairs = {(p["ancestor_layer"], p["child_layer"]): p for p in report["pairs"]}
    assert set(pairs) == {("host", "agent"), ("agent", "worker"), ("host", "worker")}
    for pair in pairs.values():
        for denial in pair["denials"]:
            assert denial["audit"].startswith('apparmor="DENIED"')
    assert run("check", str(STACKS / "libvirt-lxd.toml")).returncode == 0


def test_cli_simulate_batch_and_exit_codes(tmp_path):
    batch = tmp_path / "requests.txt"
    batch.write_text("# a replayed workload\nfile:/srv/vm1-share/data:rw\n"
                     "capability:setuid  # allowed everywhere\n")
    allowed = run("simulate", str(STACKS / "libvirt-lxd.toml"), "--requests", str(batch))
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert allowed.stdout.count("allowed by every layer") == 2
    denied = run("simulate", str(STACKS / "libvirt-lxd-expands.toml"), "--request",
                 "file:/etc/shadow:r", "--format", "json")
    assert denied.returncode == 1
    report = json.loads(denied.stdout)
    assert report["denied_by"] == "host"
    assert report["audit"][0].startswith('apparmor="DENIED" operation="open" profile="libvirt-')
    batch.write_text("file:/x:r\nfile:relative:r\n")
    bad = run("simulate", str(STACKS / "libvirt-lxd.toml"), "--requests", str(batch))
    assert bad.returncode == 2 and f"{batch}:2:1:" in bad.stderr and "Traceback" not in bad.stderr


def test_simulate_selinux_request_maps_labels_and_logs_an_avc():
    stack = load_stack(STACKS / "selinux-svirt-expands.toml")
    outcome = simulate(stack, "selinux:system_u:system_r:container_t:s0:c5:"
                              "system_u:object_r:container_ro_file_t:s0:file:write")
    assert [d.status for d in outcome.decisions] == [ALLOWED, DENIED]
    assert outcome.denied_by.audit == (
        "avc:  denied  { write } for  scontext=system_u:system_r:svirt_t:s0:c1,c2 "
        "tcontext=system_u:object_r:virt_content_t:s0 tclass=file permissive=0",)


def test_mixed_stack_sees_files_through_file_contexts():
    stack = load_stack(STACKS / "mixed-svirt-apparmor.toml")
    image = simulate(stack, "file:/var/lib/libvirt/images/vm1.qcow2:r")
    assert image.allowed and "svirt_image_t:s0:c1,c2" in image.decisions[-1].seen[0]
    base = simulate(stack, "file:/var/lib/libvirt/images/base.img:w", "agent")
    assert base.denied_by.layer == "agent"
    assert simulate(stack, "selinux:system_u:system_r:svirt_t:s0:c1,c2:"
                           "system_u:object_r:svirt_image_t:s0:c1,c2:file:read"
                    ).decisions[0].status == NOT_MEDIATED


def test_graph_dot_and_json():
    dot = run("graph", str(STACKS / "libvirt-lxd-expands.toml"))
    assert dot.returncode == 0, dot.stderr
    assert '"worker:agent-worker" -> "worker:unconfined" [label="ux /usr/bin/cat"]' in dot.stdout
    assert '"agent:vm-agent" -> "worker:agent-worker" [label="namespace", style=dashed]' in dot.stdout
    data = json.loads(run("graph", str(MODELS / "selinux" / "ns-container-expands.conf"),
                          "--format", "json").stdout)
    assert [(e["source"], e["target"], e["path"]) for e in data["edges"]] == [
        ("container_init_t", "container_t", "container_exec_t")]


def test_request_text_round_trips():
    for text in ["file:/etc/shadow:r", "file:/home/a/b:rw:owner", "exec:/usr/bin/x",
                 "capability:sys_admin", "network:inet6:dgram", "signal:send:kill:libvirtd",
                 "ptrace:trace:unconfined", "dbus:send:bus=system,path=/org/a",
                 "selinux:system_u:system_r:svirt_t:s0:c1,c2:system_u:object_r:"
                 "svirt_image_t:s0:c1,c2:file:read", "selinux:u:r:t:u:object_r:t:file:read:b=on,c=off",
                 "mount:/mnt/:source=/dev/sda1,fstype=ext4,flags=MS_RDONLY+MS_NOSUID",
                 "umount:/mnt/", "pivot_root:/new/:/new/old/", "mqueue:open:posix:/q",
                 "userns:create", "io_uring:override_creds:peer", "link:/tmp/l:/etc/passwd:owner",
                 "change_profile::ns:other", "change_profile:a//b:onexec=/usr/bin/x"]:
        assert request_to_text(parse_request(text)) == text
