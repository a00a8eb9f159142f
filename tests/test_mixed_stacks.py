"""AppArmor layers proven within a SELinux ancestor (mixed stacks), held against ground
truth: libselinux's own lookup (``selabel_lookup`` through the ``selinux`` bindings of
the system's Python) for the labels, libsepol and setools on the host policy compiled by
checkpolicy for the decisions, and the stack simulator for every witness."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsmsim.automata.posix_regex import RegexSyntaxError, has_meta_chars, parse_spec
from lsmsim.model.regex import CompiledRegex
from lsmsim.model.requests import FileRequest
from lsmsim.stack import check_stack, load_stack, simulate
from lsmsim.stack.file_contexts import read_file_contexts
from lsmsim.stack.mapping import DIR_PERMS, FILE_PERMS
from lsmsim.stack.simulate import ALLOWED, DENIED
from lsmsim.verify.result import Verdict

from .conftest import MODELS
from .selinux_oracle import Libsepol, compile_policy

STACKS = MODELS / "stacks"
HOST_FC = STACKS / "svirt-host.fc"
HOST_POLICY = MODELS / "selinux" / "svirt-parent.conf"
SYSTEM_PYTHON = "/usr/bin/python3"
README = Path(__file__).resolve().parents[1] / "README.md"

# Run by the system's Python, which has the libselinux bindings: the label libselinux
# gives each (path, mode) of a file_contexts file.
_LOOKUP = textwrap.dedent("""
    import json, sys, selinux
    query = json.load(sys.stdin)
    opt = selinux.selinux_opt()
    opt.type, opt.value = selinux.SELABEL_OPT_PATH, query["fc"]
    handle = selinux.selabel_open(selinux.SELABEL_CTX_FILE, opt, 1)
    out = []
    for path, mode in query["paths"]:
        try:
            out.append(selinux.selabel_lookup_raw(handle, path, mode)[1])
        except OSError:
            out.append(None)
    print(json.dumps(out))
""")
S_IFREG, S_IFDIR = 0o100000, 0o040000


def libselinux_labels(fc: Path, paths: list[str]) -> list[str | None]:
    """libselinux's label for each path (a trailing ``/`` is a directory); None where
    it gives none (no match, or ``<<none>>``)."""
    if shutil.which(SYSTEM_PYTHON) is None:
        pytest.skip(f"{SYSTEM_PYTHON} is absent")
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import selinux"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("the selinux bindings are not installed for the system's Python "
                    "(Debian package python3-selinux)")
    query = {"fc": str(fc), "paths": [[p.rstrip("/") or "/", S_IFDIR if p.endswith("/")
                                       else S_IFREG] for p in paths]}
    done = subprocess.run([SYSTEM_PYTHON, "-c", _LOOKUP], input=json.dumps(query),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def lsmsim_labels(fc: Path, paths: list[str]) -> list[str | None]:
    contexts = read_file_contexts(fc)
    return [str(context) if context else None
            for _, context, _ in (contexts.lookup(p) for p in paths)]


@pytest.fixture(scope="module")
def stacks():
    return {name: (stack := load_stack(STACKS / f"{name}.toml"), check_stack(stack))
            for name in ("mixed-svirt-apparmor", "mixed-svirt-apparmor-expands")}


@pytest.fixture(scope="module")
def host_binary(tmp_path_factory) -> Path:
    return compile_policy(HOST_POLICY, tmp_path_factory.mktemp("host") / "policy.33")


def _pair(result, ancestor, child):
    return next(p for p in result.pairs if (p.ancestor, p.child) == (ancestor, child))


def _planted(path: Path) -> set[int]:
    return {n for n, line in enumerate(path.read_text().splitlines(), 1)
            if "EXPANDS" in line and not line.lstrip().startswith("#")}


_AVC = re.compile(r"avc:  denied  \{ (\S+) \} for  (?:path=\"(?P<path>[^\"]*)\" )?"
                  r"scontext=(\S+) tcontext=(\S+) tclass=(\S+) permissive=0")


def _avcs(denial) -> list[tuple[str, str, str, str, str | None]]:
    """(scontext, tcontext, class, permission, path) of each AVC line a denial logs."""
    out = []
    for line in denial.logged:
        match = _AVC.fullmatch(line)
        assert match, line
        perm, path, scontext, tcontext, tclass = match.groups()
        out.append((scontext, tcontext, tclass, perm, path))
    return out


# --- verdicts ---------------------------------------------------------------------------

def test_mixed_stack_is_proven_contained(stacks):
    """Both AppArmor layers are proven within the SELinux host, the worker within the agent."""
    _, result = stacks["mixed-svirt-apparmor"]
    assert result.verdict is Verdict.CONTAINED
    assert {(p.ancestor, p.child, p.relation) for p in result.pairs} == {
        ("host", "agent", "parent"), ("agent", "worker", "parent"),
        ("host", "worker", "ancestor")}
    for pair in result.pairs:
        assert pair.result.verdict is Verdict.CONTAINED and not pair.result.undecided
        assert pair.result.product_states > 0
        assert ("svirt-host.fc gives its path" in pair.note) == (pair.ancestor == "host")


def test_planted_expansions_are_found_and_nothing_else(stacks):
    """Every line marked EXPANDS, and no other, is reported on the pair host -> agent."""
    stack, result = stacks["mixed-svirt-apparmor-expands"]
    assert result.verdict is Verdict.EXPANSIONS
    pair = _pair(result, "host", "agent").result
    assert not pair.undecided
    model = Path(stack.layer("agent").policy.file)
    assert {d.rule.line for d in pair.denials} == _planted(model)
    assert _pair(result, "agent", "worker").result.verdict is Verdict.CONTAINED
    assert _pair(result, "host", "worker").result.verdict is Verdict.CONTAINED


def test_the_mcs_denial_names_the_constraint(stacks):
    """Guest 2's disk: the TE rules allow svirt_image_t, the MCS constraint refuses c3,c4."""
    _, result = stacks["mixed-svirt-apparmor-expands"]
    denial = next(d for d in _pair(result, "host", "agent").result.denials
                  if d.access.path == "/var/lib/libvirt/images/vm2.qcow2")
    assert "mlsconstrain" in denial.reason and "svirt_image_t:s0:c3,c4" in denial.reason
    assert {perm for *_, perm, _ in _avcs(denial)} == {"read", "open"}
    assert denial.logged[0] == (
        'avc:  denied  { open } for  path="/var/lib/libvirt/images/vm2.qcow2" '
        "scontext=system_u:system_r:svirt_t:s0:c1,c2 "
        "tcontext=system_u:object_r:svirt_image_t:s0:c3,c4 tclass=file permissive=0")


# --- every witness against ground truth ---------------------------------------------------

def _witnesses(stacks):
    for name, (stack, result) in stacks.items():
        for pair in result.checked:
            if stack.layer(pair.ancestor).lsm == "selinux":
                for denial in pair.result.denials:
                    yield stack, pair, denial


def test_every_witness_is_confirmed_by_the_stack_simulator(stacks):
    count = 0
    for stack, pair, denial in _witnesses(stacks):
        outcome = simulate(stack, denial.access, pair.child)
        statuses = {d.layer: d.status for d in outcome.decisions}
        assert statuses[pair.child] == ALLOWED and statuses[pair.ancestor] == DENIED
        host = next(d for d in outcome.decisions if d.layer == pair.ancestor)
        assert set(host.audit) == set(denial.logged)
        count += 1
    assert count == 8


def test_every_witness_label_agrees_with_libselinux(stacks):
    """selabel_lookup on the .fc file gives each witness path, and each object an AVC
    line names (the file, or the directory that holds it), the label lsmsim used."""
    objects = {}
    for _, _, denial in _witnesses(stacks):
        for _, tcontext, tclass, _, path in _avcs(denial):
            objects[path + "/" if tclass == "dir" and path != "/" else path] = tcontext
        objects.setdefault(denial.access.path, None)
    paths = sorted(objects)
    expected = libselinux_labels(HOST_FC, paths)
    assert lsmsim_labels(HOST_FC, paths) == expected
    for path, label in zip(paths, expected):
        assert objects[path] in (None, label), path
    assert any(path == "/var/lib/libvirt/images/" for path in objects)


def test_every_witness_is_denied_by_libsepol_on_the_compiled_host(stacks, host_binary):
    """libsepol's compute_av on checkpolicy's binary denies every logged permission
    (the boolean virt_use_nfs at its default, off)."""
    sepol = Libsepol(host_binary)
    checked = 0
    for _, _, denial in _witnesses(stacks):
        for scontext, tcontext, tclass, perm, _ in _avcs(denial):
            assert not sepol.allowed(scontext, tcontext, tclass, perm), (tcontext, tclass, perm)
            checked += 1
    assert checked >= 20


_TE_RULES = textwrap.dedent("""
    import json, sys, setools
    query = json.load(sys.stdin)
    policy = setools.SELinuxPolicy(query["binary"])
    out = []
    for source, target, tclass, perm in query["accesses"]:
        rules = setools.TERuleQuery(policy, ruletype=["allow"], source=source, target=target,
                                    tclass=[tclass], perms={perm}).results()
        conditions = []
        for rule in rules:
            try:
                conditions.append(str(rule.conditional))
            except Exception:
                conditions.append(None)
        out.append(conditions)
    print(json.dumps(out))
""")


def test_setools_agrees_why_the_host_denies(stacks, host_binary):
    """For each denied permission, setools lists an allow rule exactly when lsmsim says a
    constraint or a boolean (not the absence of a rule) denies it."""
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import setools"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("setools is not importable by the system's Python (python3-setools)")
    accesses, reasons = [], []
    for _, _, denial in _witnesses(stacks):
        for _, tcontext, tclass, perm, _ in _avcs(denial):
            accesses.append(["svirt_t", tcontext.split(":")[2], tclass, perm])
            reasons.append(denial.reason)
    done = subprocess.run([SYSTEM_PYTHON, "-c", _TE_RULES], capture_output=True, text=True,
                          input=json.dumps({"binary": str(host_binary), "accesses": accesses}),
                          timeout=120)
    assert done.returncode == 0, done.stderr
    for (source, target, tclass, perm), rules, reason in zip(accesses, json.loads(done.stdout),
                                                              reasons):
        if target == "svirt_image_t" and "mlsconstrain" in reason:
            assert rules == [None], (target, tclass, perm)  # an unconditional rule
        elif target == "nfs_t" and tclass == "file" and perm in ("read", "open", "getattr"):
            assert rules == ["virt_use_nfs"], (target, tclass, perm)
        else:
            assert rules == [], (target, tclass, perm)


def test_contained_layers_are_allowed_by_libsepol_on_sample_paths(stacks, host_binary):
    """Paths the contained agent grants: libsepol allows every mapped permission on the
    label libselinux gives them (the proof's claim, sampled)."""
    stack, _ = stacks["mixed-svirt-apparmor"]
    profile = stack.layer("agent").profile
    paths = ["/usr/share/qemu/", "/usr/share/qemu/bios.bin", "/usr/share/OVMF/OVMF_CODE.fd",
             "/usr/share/seabios/a/b/", "/var/lib/libvirt/images/vm1.qcow2",
             "/var/lib/libvirt/images/base.img", "/srv/vm1-share/", "/srv/vm1-share/jobs/",
             "/srv/vm1-share/jobs/report.txt"]
    labels = libselinux_labels(HOST_FC, paths)
    sepol = Libsepol(host_binary)
    from lsmsim.simulate.decide import file_permissions
    for path, label in zip(paths, labels):
        letters = file_permissions(profile, path, False)
        assert letters, path
        table = DIR_PERMS if path.endswith("/") else FILE_PERMS
        for perm in {p for letter in letters for p in table[letter]}:
            assert sepol.allowed(str(stack.layer("host").context), label,
                                 "dir" if path.endswith("/") else "file", perm), (path, perm)


# --- the file_contexts lookup against libselinux --------------------------------------------

_COMPONENTS = st.sampled_from(["usr", "share", "qemu", "OVMF", "seabios", "var", "lib",
                               "libvirt", "images", "vm1.qcow2", "vm2.qcow2", "base.img",
                               "vm1Xqcow2", "srv", "vm1-share", "vm2-share", "nfs", "etc",
                               "a", "b.c", "x\ny", "-d", ".."])


@st.composite
def _paths(draw) -> str:
    parts = draw(st.lists(_COMPONENTS, min_size=0, max_size=6))
    return "/" + "/".join(parts) + ("/" if parts and draw(st.booleans()) else "")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_paths(), min_size=40, max_size=40))
def test_lookup_on_the_shipped_file_contexts_agrees_with_libselinux(paths):
    assert lsmsim_labels(HOST_FC, paths) == libselinux_labels(HOST_FC, paths)


_SPECS = st.sampled_from([
    "/.*", "/a(/.*)?", "/a/b", "/a/b\\.c", "/a/[^/]+", "/a/.*\\.c", "/(a|b)/c?", "/a/b/?",
    "/b(/[a-c]+)*", "/a/b.c", "/[ab]{1,2}/.*", "/a/\\w+", "/b/c", "/", "/a", "/b/x\\+",
])
_KINDS = st.sampled_from(["", "--", "-d", "-l"])
_LABELS = st.sampled_from(["system_u:object_r:virt_content_t:s0", "<<none>>",
                           "system_u:object_r:nfs_t:s0", "system_u:object_r:svirt_image_t:s0:c1,c2"])
_SMALL_PATHS = st.lists(st.sampled_from(["a", "b", "c", "b.c", "bXc", "ab", "x+", "aa", "abc"]),
                        max_size=4).map(lambda parts: "/" + "/".join(parts))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_SPECS, _KINDS, _LABELS), min_size=1, max_size=8, unique_by=lambda e: e[:2]),
       st.lists(st.tuples(_SMALL_PATHS, st.booleans()), min_size=30, max_size=30))
def test_lookup_on_random_file_contexts_agrees_with_libselinux(tmp_path, entries, paths):
    """Exact paths after regular expressions, the last match winning, file types and
    <<none>>: lsmsim's lookup is libselinux's."""
    fc = tmp_path / "random.fc"
    fc.write_text("".join(f"{spec} {kind} {label}\n".replace("  ", " ")
                          for spec, kind, label in entries))
    queried = [p + "/" if is_dir and p != "/" else p for p, is_dir in paths]
    assert lsmsim_labels(fc, queried) == libselinux_labels(fc, queried)


def test_exact_paths_beat_regular_expressions_whatever_the_order(tmp_path):
    fc = tmp_path / "order.fc"
    fc.write_text("/a/b\\.c system_u:object_r:nfs_t:s0\n/a/.* system_u:object_r:virt_content_t:s0\n")
    assert not has_meta_chars("/a/b\\.c") and has_meta_chars("/a/.*")
    assert lsmsim_labels(fc, ["/a/b.c", "/a/x"]) == libselinux_labels(fc, ["/a/b.c", "/a/x"]) == [
        "system_u:object_r:nfs_t:s0", "system_u:object_r:virt_content_t:s0"]


# --- the specification parser -------------------------------------------------------------

# (specification, the same in Python's syntax)
_ATOMS = st.sampled_from([("a", "a"), ("b", "b"), ("/", "/"), (".", "."), ("[ab]", "[ab]"),
                          ("[^/]", "[^/]"), ("\\.", "\\."), ("(a|b/)", "(a|b/)"),
                          ("(/a)", "(/a)"), ("[[:digit:]x]", "[0-9x]"), ("\\d", "\\d"),
                          ("x", "x"), ("[]a]", "[]a]")])
_QUANTS = st.sampled_from(["", "", "*", "+", "?", "{2}", "{1,3}", "{0,}", "*?", "{,2}"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_ATOMS, _QUANTS), min_size=1, max_size=5),
       st.lists(st.text(alphabet="ab/.x1]{},\n", max_size=8), min_size=5, max_size=5))
def test_specifications_match_as_python_reads_them(pieces, texts):
    spec = "".join(atom + quant for (atom, _), quant in pieces)
    # '{,2}' is a literal to PCRE2 10.42 and to Python alike
    python = "".join(f"(?:{py}){quant}" if quant != "{,2}" else f"(?:{py})\\{{,2}}"
                     for (_, py), quant in pieces)
    compiled = CompiledRegex(parse_spec(spec))
    for text in texts:
        assert compiled.fullmatch(text) == bool(re.fullmatch(python, text, re.DOTALL)), (spec, text)


@pytest.mark.parametrize("spec", ["/a\\1", "/a(?=b)", "/a$b", "/a*+", "[z-a]", "/(a", "a{2,1}"])
def test_unsupported_specifications_are_refused(spec):
    with pytest.raises(RegexSyntaxError):
        parse_spec(spec)


# --- what stays undecided --------------------------------------------------------------------

def _mixed_stack(tmp_path: Path, profile: str, fc: str | None = "svirt-host.fc",
                 subject: str = "system_u:system_r:svirt_t:s0:c1,c2",
                 child_subject: str = "child") -> Path:
    (tmp_path / "child.aa").write_text(profile)
    manifest = tmp_path / "stack.toml"
    manifest.write_text(textwrap.dedent(f"""
        [layers.host]
        policy = "{HOST_POLICY}"
        subject = "{subject}"
        {f'file_contexts = "{STACKS / fc}"' if fc else ''}
        [layers.child]
        parent = "host"
        policy = "child.aa"
        subject = "{child_subject}"
    """))
    return manifest


@pytest.mark.parametrize("rule, reason", [
    ("capability chown,", "class capability is not defined"),
    ("network inet stream,", "class tcp_socket is not defined"),
    ("signal (send) peer=libvirtd,", "context is not known"),
    ("/usr/bin/env ux,", "unconfined by AppArmor"),
    ("/usr/bin/env px,", "attaches to the executed path"),
    ("dbus send bus=system,", "no SELinux mapping"),
])
def test_what_is_not_mapped_is_undecided_never_contained(tmp_path, rule, reason):
    manifest = _mixed_stack(tmp_path, f"profile child {{\n  /usr/share/qemu/** r,\n  {rule}\n}}\n")
    result = check_stack(load_stack(manifest))
    pair = result.pairs[0].result
    assert result.verdict is not Verdict.CONTAINED
    assert any(reason in u.reason for u in pair.undecided), [u.reason for u in pair.undecided]


def test_adding_a_name_asks_the_directory_that_holds_it(tmp_path):
    """libvirtd (virtd_t) may create and remove images in the images directory, but
    making or removing /srv/vm1-share itself needs add_name or remove_name on /srv."""
    virtd = "system_u:system_r:virtd_t:s0-s0:c0.c1023"
    images = _mixed_stack(tmp_path, "profile child {\n  /var/lib/libvirt/images/vm1.qcow2 w,\n}\n",
                          subject=virtd)
    assert check_stack(load_stack(images)).verdict is Verdict.CONTAINED
    share = _mixed_stack(tmp_path, "profile child {\n  /srv/vm1-share/ w,\n}\n", subject=virtd)
    stack = load_stack(share)
    result = check_stack(stack)
    [denial] = result.pairs[0].result.denials
    assert denial.access.path == "/srv/vm1-share/"
    assert {(tclass, perm, path) for *_, tclass, perm, path in _avcs(denial)} == {
        ("dir", perm, "/srv") for perm in ("add_name", "remove_name", "search", "write")} | {
        ("dir", perm, "/srv/vm1-share") for perm in ("rename", "setattr")}
    host = simulate(stack, denial.access, "child").decisions[-1]
    assert host.status == DENIED and set(host.audit) == set(denial.logged)


def test_a_link_names_a_target_the_rule_does_not_fix(tmp_path):
    manifest = _mixed_stack(tmp_path, "profile child {\n  /srv/vm1-share/** rl,\n}\n")
    result = check_stack(load_stack(manifest))
    assert result.verdict is Verdict.UNDECIDED
    assert all("link's target" in u.reason for u in result.pairs[0].result.undecided)


def test_signals_received_need_nothing_of_the_host(tmp_path):
    manifest = _mixed_stack(tmp_path, "profile child {\n  /usr/share/qemu/** r,\n"
                                      "  signal (receive) peer=libvirtd,\n}\n")
    assert check_stack(load_stack(manifest)).verdict is Verdict.CONTAINED


def test_without_file_contexts_paths_are_undecided(tmp_path):
    manifest = _mixed_stack(tmp_path, "profile child {\n  /usr/share/qemu/** r,\n}\n", fc=None)
    result = check_stack(load_stack(manifest))
    assert result.verdict is Verdict.UNDECIDED
    assert "no file_contexts" in result.pairs[0].result.undecided[0].reason


def test_unlabelled_paths_are_undecided(tmp_path):
    fc = tmp_path / "none.fc"
    fc.write_text("/.* system_u:object_r:virt_content_t:s0\n/usr/share/qemu(/.*)? <<none>>\n")
    manifest = _mixed_stack(tmp_path, "profile child {\n  /usr/share/qemu/** r,\n}\n",
                            fc=str(fc))
    result = check_stack(load_stack(manifest))
    assert result.verdict is Verdict.UNDECIDED
    assert any("<<none>>" in u.reason for u in result.pairs[0].result.undecided)


def test_the_readme_table_is_the_mapping():
    """README's table of AppArmor letters and SELinux permissions is the one in code."""
    text = README.read_text()
    rows = re.findall(r"^\| `(\w)` \| (.*?) \| (.*?) \|$", text, re.M)
    table = {letter: (re.sub(r"\(.*?\)", "", file_perms), re.sub(r"\(.*?\)", "", dir_perms))
             for letter, file_perms, dir_perms in rows}
    for letter in FILE_PERMS:
        file_perms, dir_perms = table[letter]
        assert sorted(re.findall(r"\w+", file_perms)) == sorted(FILE_PERMS[letter]), letter
        assert sorted(re.findall(r"\w+", dir_perms)) == sorted(DIR_PERMS[letter]), letter


# --- the proof against the simulator on random profiles and labels ------------------------

_GLOBS = st.sampled_from(["/a/**", "/a/b", "/a/*", "/b/{c,d}", "/b/**/", "/{a,b}/c/", "/c",
                          "/a/b.c", "/b/*.c", "/**"])
_LETTERS = st.sampled_from(["r", "w", "a", "k", "rk", "ra", "m"])
_FC_SPECS = st.sampled_from(["/.*", "/a(/.*)?", "/a/b", "/a/b\\.c", "/b(/.*)?", "/b/[cd]",
                             "/a/[^/]+", "/c", "/b/.*\\.c"])
_FC_LABELS = st.sampled_from(["system_u:object_r:virt_content_t:s0",
                              "system_u:object_r:svirt_image_t:s0:c1,c2",
                              "system_u:object_r:svirt_image_t:s0:c3,c4",
                              "system_u:object_r:nfs_t:s0", "system_u:object_r:unlabeled_t:s0"])
_SAMPLES = ["/" + "/".join(parts) + tail
            for parts in ([], ["a"], ["b"], ["c"], ["a", "b"], ["a", "b.c"], ["a", "x"],
                          ["b", "c"], ["b", "d"], ["b", "x.c"], ["a", "b", "c"], ["b", "e", "c"])
            for tail in ("", "/")]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.booleans(), _GLOBS, _LETTERS), min_size=1, max_size=5),
       st.lists(st.tuples(_FC_SPECS, _KINDS, _FC_LABELS), min_size=1, max_size=5,
                unique_by=lambda e: e[:2]))
def test_the_proof_agrees_with_the_simulator_on_random_layers(tmp_path, rules, entries):
    """A contained verdict leaves no sampled path the child grants and the host denies;
    every denial is confirmed (the stack keeps only those) and nothing is undecided
    but what the labels leave open."""
    fc = tmp_path / "host.fc"
    fc.write_text("".join(f"{spec} {kind} {label}\n" for spec, kind, label in entries))
    body = "".join(f"  {'deny ' if deny else ''}{glob} {letters},\n"
                   for deny, glob, letters in rules)
    stack = load_stack(_mixed_stack(tmp_path, f"profile child {{\n{body}}}\n", fc=str(fc)))
    result = check_stack(stack).pairs[0].result
    assert not any("not denied by" in u.reason for u in result.undecided)
    contexts = read_file_contexts(fc)
    unlabelled = {p for p in _SAMPLES if contexts.lookup(p)[1] is None}
    for path in _SAMPLES:
        for letter in "rwakm":
            outcome = simulate(stack, FileRequest(path, frozenset(letter)), "child")
            statuses = {d.layer: d.status for d in outcome.decisions}
            if statuses["child"] == ALLOWED and statuses["host"] == DENIED:
                assert result.verdict is Verdict.EXPANSIONS, (path, letter)
    if result.verdict is Verdict.CONTAINED:
        assert not unlabelled or all(
            simulate(stack, FileRequest(p, frozenset("r")), "child").decisions[0].status
            != ALLOWED for p in unlabelled)


# --- capabilities and sockets on a host that defines their classes ----------------------

_CAPABLE_HOST = """
class process
class file
class dir
class capability
class cap_userns
class tcp_socket
sid kernel
sid unlabeled
common file { read write open getattr create unlink setattr rename append map lock link execute }
common socket { create bind connect listen accept read write getattr setattr getopt setopt shutdown }
common cap { chown dac_override sys_admin }
class process { fork signal }
class file inherits file { execute_no_trans entrypoint }
class dir inherits file { add_name remove_name search rmdir }
class capability inherits cap
class cap_userns inherits cap
class tcp_socket inherits socket
type kernel_t;
type svirt_t;
type etc_t;
allow svirt_t self:capability chown;
allow svirt_t self:cap_userns { chown sys_admin };
allow svirt_t self:tcp_socket { create bind connect listen accept read write getattr setattr getopt setopt shutdown };
allow svirt_t etc_t:file { read open getattr map };
allow svirt_t etc_t:dir { read open getattr search };
role system_r;
role system_r types { kernel_t svirt_t };
user system_u roles { system_r };
sid kernel system_u:system_r:kernel_t
sid unlabeled system_u:object_r:etc_t
"""


def test_capabilities_and_sockets_are_decided_where_the_host_defines_them(tmp_path):
    """sys_admin is denied in class capability (the host allows it only in cap_userns),
    chown and TCP sockets are allowed; libsepol agrees on the compiled host."""
    from .selinux_oracle import checkpolicy
    host = tmp_path / "host.conf"
    host.write_text(_CAPABLE_HOST)
    fc = tmp_path / "host.fc"
    fc.write_text("/.* system_u:object_r:etc_t\n")
    (tmp_path / "child.aa").write_text("profile child {\n  /etc/** r,\n  capability chown,\n"
                                       "  capability sys_admin,\n  network inet stream,\n}\n")
    manifest = tmp_path / "stack.toml"
    manifest.write_text(f'[layers.host]\npolicy = "{host}"\nsubject = "system_u:system_r:svirt_t"\n'
                        f'file_contexts = "{fc}"\n[layers.child]\nparent = "host"\n'
                        'policy = "child.aa"\n')
    stack = load_stack(manifest)
    result = check_stack(stack).pairs[0].result
    assert not result.undecided
    [denial] = result.denials
    assert denial.rule.line == 4 and denial.access.name == "sys_admin"
    assert denial.logged == ("avc:  denied  { sys_admin } for  capability=21 "
                             "scontext=system_u:system_r:svirt_t tcontext=system_u:system_r:svirt_t "
                             "tclass=capability permissive=0",)
    binary = tmp_path / "host.bin"
    compiled = checkpolicy(host, binary, mls=False)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    sepol = Libsepol(binary)
    subject = "system_u:system_r:svirt_t"
    assert not sepol.allowed(subject, subject, "capability", "sys_admin")
    assert sepol.allowed(subject, subject, "cap_userns", "sys_admin")
    assert sepol.allowed(subject, subject, "capability", "chown")
    assert all(sepol.allowed(subject, subject, "tcp_socket", p) for p in ("create", "connect"))


_FILECON = re.compile(r'^\(filecon "([^"]*)" (\w+) (\(\)|\((\S+) (\S+) (\S+) \(\((\w+)'
                      r'(?: \([^)]*\))?\) \((\w+)(?: \([^)]*\))?\)\)\))\)$')
_FILECON_KINDS = {"file": "--", "dir": "-d", "any": "", "symlink": "-l", "char": "-c",
                  "block": "-b", "socket": "-s", "pipe": "-p"}


def _member(node, rng) -> str:
    """A random string ``node`` matches (printable where the set allows)."""
    from lsmsim.model.regex import Alt, CharSet, Lit, Seq, Star
    match node:
        case Lit(text):
            return text
        case CharSet(ranges):
            codes = [c for lo, hi in ranges for c in range(lo, min(hi, 126) + 1)
                     if c >= 32 and c != ord("/")]
            return chr(rng.choice(codes or [lo for lo, _ in ranges]))
        case Seq(items):
            return "".join(_member(item, rng) for item in items)
        case Alt(items):
            return _member(rng.choice(items), rng) if items else ""
        case Star(item):
            return "".join(_member(item, rng) for _ in range(rng.choice((0, 0, 1, 2))))
    raise TypeError(node)


def test_lookup_on_debians_file_contexts_agrees_with_libselinux(tmp_path):
    """The 5,500 file contexts of Debian's reference policy (its modules' filecon
    statements, in module order): lsmsim reads every specification and labels paths
    drawn from them as libselinux does."""
    import random
    from .bench_selinux import Unavailable, debian_policy_cil
    try:
        debian_cil = debian_policy_cil()
    except Unavailable as error:
        pytest.skip(f"Debian's policy cannot be fetched or converted here: {error}")
    lines = []
    for module in sorted(debian_cil.glob("*.cil")):
        for line in module.read_text().splitlines():
            match = _FILECON.match(line.strip())
            if not match or re.search(r"HOME_DIR|HOME_ROOT|USER|%\{", match.group(1)):
                continue
            spec, kind, context, user, role, type_, level = match.groups()[:7]
            label = "<<none>>" if context == "()" else f"{user}:{role}:{type_}:{level}"
            lines.append(" ".join(filter(None, (spec, _FILECON_KINDS[kind], label))))
    fc = tmp_path / "file_contexts"
    fc.write_text("\n".join(lines) + "\n")
    entries = read_file_contexts(fc).entries
    assert len(entries) > 5000
    rng = random.Random(13)
    paths = set()
    for entry in rng.sample(entries, 600):
        path = _member(entry.tree, rng).rstrip("/")
        if path.startswith("/") and "//" not in path:
            paths.update({path, path + "/", path + "/x"})
    paths = sorted(paths)
    assert lsmsim_labels(fc, paths) == libselinux_labels(fc, paths)


def test_a_product_past_the_budget_is_undecided(stacks):
    stack, _ = stacks["mixed-svirt-apparmor"]
    result = check_stack(stack, budget=20)
    pair = _pair(result, "host", "agent").result
    assert pair.verdict is Verdict.UNDECIDED
    assert "not fully explored" in pair.undecided[0].reason


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab/.()[]^$|*+?{}0123456789,:\\-", max_size=30))
def test_any_specification_is_read_or_refused_with_its_offset(text):
    try:
        parse_spec(text)
    except RegexSyntaxError as error:
        assert 0 <= error.offset <= len(text)


def test_deep_or_huge_specifications_are_refused():
    for spec in ["(" * 200 + "a" + ")" * 200, "((a{200}){200}){200}", "(a{255}){255}"]:
        with pytest.raises(RegexSyntaxError):
            parse_spec(spec)


def test_an_exec_with_a_named_target_is_followed(tmp_path):
    """In the SELinux layer the task keeps its subject after a px or cx, so the target
    profile's rules are checked too; a denial there names the exec that leads to it and
    replays through it."""
    manifest = _mixed_stack(tmp_path, textwrap.dedent("""
        profile child {
          /usr/share/qemu/** r,
          /usr/bin/helper px -> helper,
          /usr/bin/tool cx -> tool,
          profile tool {
            /srv/vm1-share/** r,
          }
        }
        profile helper {
          /etc/shadow r,
        }
    """))
    stack = load_stack(manifest)
    result = check_stack(stack).pairs[0].result
    assert not result.undecided
    assert {p for p, _ in result.pairs} == {"child", "helper", "tool"}
    shadow = next(d for d in result.denials if d.access.path == "/etc/shadow")
    assert shadow.child_profile == "helper"
    assert [(s.path, s.child_mode) for s in shadow.via] == [("/usr/bin/helper", "px -> helper")]
    assert "unlabeled_t" in shadow.logged[0]
    executes = {d.access.path for d in result.denials if d.access.perms == frozenset("x")}
    assert executes == {"/usr/bin/helper", "/usr/bin/tool"}  # unlabeled_t: no execute
