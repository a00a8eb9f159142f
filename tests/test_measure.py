"""check --measure: each expansion's path count against a brute-force enumeration
decided by the simulator, and its listed paths against a direct scan of the listing
with the simulator."""
from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import lsmsim
from lsmsim.cli import main
from lsmsim.errors import LsmsimError
from lsmsim.model.requests import ExecRequest, FileRequest
from lsmsim.model.decision import UNCONFINED, exec_target
from lsmsim.model.rules import FileRule, Half
from lsmsim.report.measure import format_count
from lsmsim.simulate.decide import exec_rules_at, file_permissions
from lsmsim.verify.check import ContainmentCheck
from lsmsim.verify.measure import ExpansionMeasure
from lsmsim.verify.measure_listing import PathListing

from .helpers import load_text
from .strategies import file_rule_lines, globs

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
INCLUDE = [str(MODELS / "apparmor.d")]
SVIRT = MODELS / "svirt" / "libvirt-qemu.aa"

ALPHABET = "/ab."
LENGTH = 5


# -- the reference: every canonical string, decided by the simulator ----------------

def is_canonical(path: str) -> bool:
    """``/([^/]+/)*[^/]*`` without ``.`` or ``..`` components, written independently
    of the automaton that defines it."""
    if not path.startswith("/"):
        return False
    *inner, last = path[1:].split("/")
    return all(part and part not in (".", "..") for part in inner) and last not in (".", "..")


def canonical_strings(alphabet: str, length: int) -> list[str]:
    return [text for n in range(1, length + 1)
            for text in map("".join, itertools.product(alphabet, repeat=n))
            if is_canonical(text)]


class Reference:
    """The simulator's view of the check's attribution: a path counts for a denial
    when, in the denial's pair of profiles, the denial's rule grants one of its
    letters there and the parent does not (for an exec that leaves confinement: the
    rule's transition applies there and leads out of confinement, the parent's keeps
    the task confined; attachments matched on the path itself)."""

    def __init__(self, child_policy, parent_policy):
        self.child_policy = child_policy
        self.parent_policy = parent_policy
        self._permissions: dict[tuple[int, str, bool], frozenset[str]] = {}

    def permissions(self, profile, path: str, owner: bool) -> frozenset[str]:
        # Every denial asks the same question of each path: decided once.
        key = (id(profile), path, owner)
        found = self._permissions.get(key)
        if found is None:
            found = self._permissions[key] = file_permissions(profile, path, owner)
        return found

    @staticmethod
    def _profile(policy, name: str):
        pending = list(policy.profiles)
        while pending:
            profile = pending.pop(0)
            if profile.name == name:
                return profile
            pending.extend(profile.children)
        raise LookupError(name)

    def exposes(self, denial, path: str) -> bool:
        child = self._profile(self.child_policy, denial.child_profile)
        parent = self._profile(self.parent_policy, denial.denied_by)
        access = denial.access
        owner = access.owner
        half = Half.OWNER if owner else Half.OTHER
        mine = self.permissions(child, path, owner)
        theirs = self.permissions(parent, path, owner)
        if isinstance(access, ExecRequest) and "x" in self.permissions(parent, access.path,
                                                                        owner):
            return self._leaves(child, parent, denial, path, owner, mine, theirs)
        letters = access.perms if isinstance(access, FileRequest) else frozenset("x")
        granting = set()
        for rule in child.rules_of(FileRule):
            if rule.source == denial.rule and not rule.deny and rule.glob.matches(path) \
                    and rule.qualifier.covers(half):
                granting |= rule.perms
        return bool(letters & granting & (mine - theirs - {"l"}))

    def _leaves(self, child, parent, denial, path, owner, mine, theirs) -> bool:
        if "x" not in mine or "x" not in theirs:
            return False

        def attached(profile) -> bool:
            return profile.attachment.matches(path)
        leaves = any(r.source == denial.rule
                     and exec_target(self.child_policy, child, r.exec, attached) == UNCONFINED
                     for r in exec_rules_at(child, path, owner))
        confines = any(not isinstance(exec_target(self.parent_policy, parent, r.exec, attached),
                                      str)
                       for r in exec_rules_at(parent, path, owner))
        return leaves and confines


def measured(child_text: str, parent_text: str):
    try:
        child, parent = load_text(child_text), load_text(parent_text)
    except LsmsimError:
        assume(False)
    result = ContainmentCheck(child, parent, "c", "p").run()
    measure = ExpansionMeasure(result, child, parent, "c", "p", length=LENGTH,
                               alphabet=ALPHABET.encode())
    return child, parent, list(measure.results())


# -- counts ---------------------------------------------------------------------------

@st.composite
def exec_lines(draw, modes: list[str]) -> str:
    prefix = draw(st.sampled_from(["", "owner ", "other ", "deny "]))
    mode = "x" if prefix == "deny " else draw(st.sampled_from(modes))
    return f"{prefix}{draw(globs())} {mode},"


@st.composite
def small_policies(draw, name: str, modes: list[str], attached: str) -> str:
    """A profile of file and exec rules, and maybe a profile ``px`` attaches to."""
    lines = draw(st.lists(st.one_of(file_rule_lines(), exec_lines(modes)),
                          min_size=1, max_size=5))
    text = f"profile {name} {{\n  " + "\n  ".join(lines) + "\n}\n"
    if draw(st.booleans()):
        text += f"profile {attached} {{\n  {draw(file_rule_lines())}\n}}\n"
    return text


CHILD_MODES = ["ix", "ux", "rix", "rux", "pux", "rpx"]
PARENT_MODES = ["ix", "ux", "rix", "px", "pix"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_policies("c", CHILD_MODES, "t /a*"), small_policies("p", PARENT_MODES, "q /?*"))
@example("profile c {\n  /** rwix,\n  deny /a/b w,\n}\n", "profile p {\n  /a* r,\n  /b ux,\n}\n")
@example("profile c {\n  /a* ux,\n  owner /** w,\n}\n", "profile p {\n  /** rix,\n}\n")
@example("profile c {\n  /** rpux,\n}\nprofile t /a* {\n  /** w,\n}\n",
         "profile p {\n  /** rpx,\n}\nprofile q /?* {\n  /b r,\n}\n")
def test_counts_match_enumeration(child_text, parent_text):
    """Every measured denial's count, and its count per letter, equals the number of
    canonical strings over a small alphabet the simulator attributes to it."""
    assert_counts_match(child_text, parent_text)


def assert_counts_match(child_text: str, parent_text: str) -> None:
    child, parent, results = measured(child_text, parent_text)
    reference = Reference(child, parent)
    strings = canonical_strings(ALPHABET, LENGTH)
    for denial, measure in results:
        if measure is None:
            assert not isinstance(denial.access, (FileRequest, ExecRequest))
            continue
        expected = [p for p in strings if reference.exposes(denial, p)]
        assert measure.paths == len(expected), (denial, expected[:5])
        for letter, count in measure.by_perm:
            one = FileRequest(denial.access.path, frozenset(letter), denial.access.owner)
            narrowed = type(denial)(denial.rule, one, denial.child_profile, denial.denied_by,
                                    denial.reason)
            assert count == sum(reference.exposes(narrowed, p) for p in strings)


def test_a_child_that_enforces_nothing():
    """A complain-mode child grants everything through rules made anew on each
    request: its denials are measured all the same."""
    assert_counts_match("profile c flags=(complain) {\n  /a r,\n}\n",
                        "profile p {\n  /** r,\n  /a* ix,\n}\n")
    _, _, results = measured("profile c flags=(complain) {\n  /a r,\n}\n",
                             "profile p {\n  /** r,\n}\n")
    assert all(m.paths for _, m in results if m is not None)


def test_the_examples_are_not_vacuous():
    _, _, results = measured("profile c {\n  /** rwix,\n  deny /a/b w,\n}\n",
                             "profile p {\n  /a* r,\n  /b ux,\n}\n")
    counts = [m.paths for _, m in results if m is not None]
    assert len(counts) >= 2 and all(counts)


def test_count_on_every_byte_in_closed_form():
    """``/tmp/*`` covers one component of 1 to 250 bytes (a 255-byte bound), each byte
    any but NUL and ``/``, except ``.`` and ``..``."""
    child = load_text("profile c {\n  /tmp/* r,\n  /etc/shadow r,\n}\n")
    parent = load_text("profile p {\n  /tmp/ r,\n}\n")
    result = ContainmentCheck(child, parent).run()
    counts = {d.rule.text: m.paths for d, m in ExpansionMeasure(result, child, parent).results()}
    assert counts["/tmp/* r,"] == sum(254 ** k for k in range(1, 251)) - 2
    assert counts["/etc/shadow r,"] == 1
    short = ExpansionMeasure(result, child, parent, length=7).measures()
    by_rule = {d.rule.text: m.paths for d, m in zip(result.denials, short)}
    assert by_rule == {"/tmp/* r,": 254 + 254 ** 2 - 2, "/etc/shadow r,": 0}


def test_format_count():
    assert format_count(0) == "0"
    assert format_count(999_999) == "999,999"
    assert format_count(23 * 10 ** 597) == "2.3e+598"
    assert format_count(10 ** 6) == "1.0e+6"


# -- listings -------------------------------------------------------------------------

def _listing_script():
    spec = importlib.util.spec_from_file_location("make_path_listing",
                                                  ROOT / "scripts" / "make_path_listing.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def listing() -> PathListing:
    """What the script lists on this machine, thinned so the simulator can scan it,
    with every standard entry and a few paths the models name kept."""
    script = _listing_script()
    paths = script.listing()
    kept = set(paths[::60]) | set(script.mark_directories(script.standard_paths()))
    kept |= {"/bin/sh", "/usr/bin/cat", "/var/lib/libvirt/images/base.img", "/etc/shadow"}
    return PathListing.of(kept, "installed")


@pytest.mark.parametrize("child_file, profile", [
    ("containers/vm-agent-expands.aa", None),
    ("nested/agent-worker-expands.aa", "agent-worker"),
    ("containers/docker-default.aa", None),
])
def test_listing_counts_match_a_scan(listing, child_file, profile):
    """The listed paths of each expansion are those a scan of the listing with the
    simulator attributes to its denial; the examples are the first of them."""
    child_policy = lsmsim.load(MODELS / child_file, include=INCLUDE)
    parent_policy = lsmsim.load(SVIRT, include=INCLUDE)
    result = lsmsim.check(child_policy, parent_policy, profile)
    measure = ExpansionMeasure(result, child_policy, parent_policy, profile, listing=listing)
    reference = Reference(child_policy, parent_policy)
    canonical = [p for p in listing.paths if is_canonical(p)]
    seen = 0
    for denial, found in measure.results():
        if found is None:
            continue
        seen += 1
        expected = [p for p in canonical if reference.exposes(denial, p)]
        assert found.listing.count == len(expected), denial
        assert list(found.listing.examples) == expected[:5]
        assert found.listing.listed == len(listing.paths)
    assert seen


def test_script_marks_directories_and_adds_system_files(tmp_path):
    info = tmp_path / "info"
    info.mkdir()
    (info / "pkg.list").write_text("/.\n/etc\n/etc/pkg.conf\n/bin\n/bin/cat\n/usr/bin/cat\n")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "bin").symlink_to("usr/bin")
    script = _listing_script()
    listed = script.listing(info, str(root))
    assert "/etc/" in listed and "/etc/pkg.conf" in listed and "/." not in listed
    # /bin links to usr/bin: the kernel sees /usr/bin/cat; /bin itself is a link, no folder.
    assert "/usr/bin/cat" in listed and "/bin/cat" not in listed and "/bin" in listed
    assert "/etc/shadow" in listed and "/proc/self/mem" in listed and "/dev/kvm" in listed
    assert listed == sorted(listed)


# -- the command line -----------------------------------------------------------------

def _check(capsys, *extra) -> tuple[int, str]:
    code = main(["check", "--child", str(MODELS / "nested" / "agent-worker-expands.aa"),
                 "--child-profile", "agent-worker", "--parent", str(SVIRT), "-I", INCLUDE[0],
                 "--no-cache", *extra])
    return code, capsys.readouterr().out


def test_cli_text_and_json(capsys, tmp_path):
    listing = tmp_path / "paths.txt"
    listing.write_text("/etc/passwd\n/etc/shadow\n/usr/bin/cat\nnot a path\n")
    code, text = _check(capsys, "--measure", "--paths", str(listing))
    assert code == 1
    assert "expansion:    1 canonical path(s) of at most 255 bytes" in text
    assert f"listed:       1 of 3 paths in {listing}: /etc/shadow" in text
    code, out = _check(capsys, "--measure-length", "8", "--format", "json")
    document = json.loads(out)
    shadow = next(d for d in document["denials"] if d["rule"]["text"] == "/etc/shadow r,")
    assert shadow["measure"] == {"paths": "0", "length": 8}
    capability = next(d for d in document["denials"] if d["access"]["class"] == "capability")
    assert "measure" not in capability


def test_cli_without_measure_keeps_the_json(capsys):
    _, out = _check(capsys, "--format", "json")
    assert all("measure" not in d for d in json.loads(out)["denials"])


def test_cli_refuses_measure_of_a_stack(capsys):
    code = main(["check", str(MODELS / "stacks" / "libvirt-lxd-expands.toml"), "--measure"])
    assert code == 2
    assert "--measure needs one --child" in capsys.readouterr().err


def test_a_product_past_the_budget_is_not_counted():
    """A pair whose product has more states than the budget gets no count, and says
    why; the text report shows it."""
    from lsmsim.report.measure import measure_lines
    child = load_text("profile c {\n  /tmp/** rw,\n}\n")
    parent = load_text("profile p {\n  /tmp/a/** r,\n}\n")
    result = ContainmentCheck(child, parent).run()
    measures = ExpansionMeasure(result, child, parent, budget=3).measures()
    assert measures and all(m.paths is None and "more than 3 states" in m.reason
                            for m in measures)
    assert measure_lines(measures[0])[0].startswith("    expansion:    not counted (")


def test_cli_refuses_measure_in_sarif(capsys):
    code = main(["check", "--child", str(MODELS / "containers" / "vm-agent-expands.aa"),
                 "--parent", str(SVIRT), "-I", INCLUDE[0], "--measure", "--format", "sarif"])
    assert code == 2
    assert "text or json, not sarif" in capsys.readouterr().err
