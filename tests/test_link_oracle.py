"""Link decisions against the compiled DFA (apparmor_parser 3.0.8).

The test walks the compiled file DFA the way the kernel does (``kernel_link_allowed``)
and compares with lsmsim's simulator, for random profiles of file and link rules
(deny rules included) and random requests.
"""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lsmsim.model.link import LinkRequest
from lsmsim.simulate import decide

from .helpers import load_text
from .oracle import apparmor_oracle as aa
from .strategies import globs, paths
from .test_apparmor_parser_differential import (ORACLE_SETTINGS, _compile, _load,
                                                kernel_link_allowed)

pytestmark = aa.pytest_marks()

@st.composite
def link_lines(draw) -> str:
    prefix = draw(st.sampled_from(["", "", "owner ", "other ", "deny ", "audit ",
                                   "deny owner "]))
    form = draw(st.sampled_from(["link", "link subset", "file", "exec"]))
    if form == "file":
        return f"{prefix}{draw(globs())} {draw(st.sampled_from(['l', 'rl', 'wl', 'lk', 'rwl']))},"
    if form == "exec":
        mode = draw(st.sampled_from(["ix", "px", "Px", "ux", "rix", "mPx"]))
        return f"{prefix.replace('deny ', '')}{draw(globs())} {mode},"
    return f"{prefix}{form} {draw(globs())} -> {draw(globs())},"


@st.composite
def profiles_with_links(draw) -> str:
    files = draw(st.lists(st.sampled_from(["/a r,", "/b rw,", "/a* rk,", "/** r,", "/b/** m,",
                                           "deny /a/b w,", "owner /{a,b}* rw,"]), max_size=3))
    lines = draw(st.lists(link_lines(), min_size=1, max_size=5))
    return "profile t {\n  " + "\n  ".join(files + lines) + "\n}\n"


@ORACLE_SETTINGS
@given(profiles_with_links(), st.lists(st.tuples(paths(), paths(), st.booleans()),
                                       min_size=3, max_size=8))
def test_link_decisions_equal_the_compiled_dfa(text, requests):
    compiled, ours = _compile(text), _load(text)
    assert (compiled is None) == (ours is None), text
    if ours is None:
        return
    profile = ours.profiles[0]
    for link, target, owner in requests:
        request = LinkRequest(link, target, owner)
        assert decide(profile, request).allowed == kernel_link_allowed(compiled, request), \
            (text, request)


def test_subset_bit_is_in_the_owner_half_only():
    """``link subset`` asks for the subset test of owned files only (LINK_TO_LINK_SUBSET
    shifts the owner link bit), so an ``other`` rule never does."""
    text = "profile t {\n  link subset /a -> /b,\n  other link subset /c -> /d,\n  /a r,\n}\n"
    profile = load_text(text).profiles[0]
    compiled = aa.compile_profile(text)
    for link, target, owner, expected in (("/a", "/b", True, False), ("/a", "/b", False, True),
                                          ("/c", "/d", False, True)):
        request = LinkRequest(link, target, owner)
        assert decide(profile, request).allowed is expected
        assert kernel_link_allowed(compiled, request) is expected
