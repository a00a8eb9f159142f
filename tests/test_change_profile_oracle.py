"""change_profile decisions against the compiled DFA (apparmor_parser 3.0.8).

The kernel (security/apparmor/domain.c) allows a change now when the target label
has CHANGE_PROFILE (bit 31) in the file DFA, and a change at the exec of a path
when the label, the path and the pair ``PATH \\0 LABEL`` each have ONEXEC (bit 30).
The test walks the compiled DFA that way and compares with lsmsim's simulator, for
random allow and deny rules with and without exec conditions; both must also
accept and refuse the same profiles (safe and unsafe rules on one path conflict).
"""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lsmsim.model.change_profile import ChangeProfileRequest
from lsmsim.simulate import decide, file_permissions

from .helpers import load_text
from .strategies import change_profile_lines
from .oracle import apparmor_oracle as aa
from .test_apparmor_parser_differential import ORACLE_SETTINGS, _compile, _load

pytestmark = aa.pytest_marks()

CHANGE_PROFILE, ONEXEC = 1 << 31, 1 << 30
TARGETS = ["foo", "f*", "**", "&foo", ":ns:foo", "/bin/*", "{foo,bar}", "bar//baz", "unconfined"]
LABELS = ["foo", "fa", "bar", "&foo", ":ns:foo", "/bin/a", "/bin/b", "bar//baz", "unconfined",
          "/usr/x"]
PATHS = [None, "/bin/a", "/bin/b", "/bin/ab", "/usr/x", "/usr/bin/y"]


def _kernel_allows(compiled, request: ChangeProfileRequest) -> bool:
    def granted(text: str) -> int:
        masks = compiled.file_perms(text).masks
        return masks.allow & ~masks.deny
    if request.exec is None:
        return bool(granted(request.target) & CHANGE_PROFILE)
    return all(granted(text) & ONEXEC for text in
               (request.target, request.exec, request.exec + "\0" + request.target))


@ORACLE_SETTINGS
@given(st.lists(change_profile_lines(TARGETS), min_size=1, max_size=4),
       st.lists(st.tuples(st.sampled_from(LABELS), st.sampled_from(PATHS)), min_size=3,
                max_size=8))
def test_change_profile_decisions_equal_the_compiled_dfa(lines, requests):
    text = "profile t {\n  " + "\n  ".join(lines) + "\n}\n"
    compiled, ours = _compile(text), _load(text)
    assert (compiled is None) == (ours is None), text
    if ours is None:
        return
    profile = ours.profiles[0]
    for target, exec_path in requests:
        request = ChangeProfileRequest(target, exec_path)
        assert decide(profile, request).allowed == _kernel_allows(compiled, request), \
            (text, request)


def test_a_change_profile_rule_lets_the_profile_write_its_proc_attr_files():
    """apparmor_parser adds owner ``w`` on /proc/*/attr/{apparmor/,}{current,exec}."""
    text = "profile t {\n  deny change_profile -> foo,\n}\n"
    compiled = aa.compile_profile(text)
    profile = load_text(text).profiles[0]
    for path in ("/proc/1/attr/current", "/proc/1/attr/apparmor/exec"):
        truth = compiled.file_perms(path)
        assert file_permissions(profile, path, True) == truth.owner.letters
        assert file_permissions(profile, path, False) == truth.other.letters
