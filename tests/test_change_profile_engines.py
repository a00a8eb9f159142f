"""change_profile on both engines: on random child/parent policies (exec conditions,
globbed targets, deny rules, profiles of the child policy with the names the rules
change to, unconfined, stacking) the automata and Z3 give the same verdict, the same
findings per rule and follow the same pairs; the simulator confirms every witness."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lsmsim
from lsmsim.model.change_profile import ChangeProfileRequest
from lsmsim.simulate import decide
from lsmsim.verify.check import check_within

from .strategies import CHANGE_PROFILE_EXECS, change_profile_lines
from .test_engines_agree import SCALE, _findings, _load

TARGETS = ["k", "k*", "**", "&k", ":ns:k", "kid", "{k,x}", "c//h", "c//*", "unconfined",
           "u*", "/bin/*", "x"]
GRANTS = ["/etc/hosts r,", "/etc/** r,", "capability chown,", "signal,", ""]
PROFILES = ["k", "kid", ":ns:k", "x", "unconfined"]


def change_lines():
    return change_profile_lines(TARGETS, prefixes=("", "", "", "audit ", "deny "),
                                execs=(None, None, *CHANGE_PROFILE_EXECS))


@st.composite
def change_policy(draw) -> str:
    lines = draw(st.lists(change_lines(), min_size=1, max_size=3))
    lines.append(draw(st.sampled_from(GRANTS)))
    if draw(st.booleans()):
        lines.append(f"^h {{ {draw(st.sampled_from(GRANTS))} }}")
    text = "profile c {\n  " + "\n  ".join(lines) + "\n}\n"
    for name in draw(st.lists(st.sampled_from(PROFILES), max_size=3, unique=True)):
        text += f"profile {name} {{ {draw(st.sampled_from(GRANTS))} }}\n"
    return text


def _changes(result) -> set[tuple]:
    """The change_profile denials: per rule and pair, to unconfined or elsewhere."""
    return {(d.rule.line, d.access.target == "unconfined", tuple(s.path for s in d.via))
            for d in result.denials if isinstance(d.access, ChangeProfileRequest)}


def _checked(child, parent, engine: str):
    return check_within(child, parent, "c", "c", engine=engine)


@settings(max_examples=max(1, int(100 * SCALE)), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(change_policy(), change_policy())
def test_the_engines_agree_on_change_profile(child_text, parent_text):
    child, parent = _load(child_text), _load(parent_text)
    if child is None or parent is None:
        return
    automata, solver = _checked(child, parent, "automata"), _checked(child, parent, "z3")
    assert not automata.undecided, automata.undecided
    if solver.undecided:  # a bounded solver may give up; the automata never guess
        return
    assert automata.verdict is solver.verdict, (child_text, parent_text)
    assert _findings(automata) == _findings(solver), (child_text, parent_text)
    assert set(automata.pairs) == set(solver.pairs), (child_text, parent_text)
    assert _changes(automata) == _changes(solver), (child_text, parent_text)
    start_child = child.profiles[0]
    start_parent = parent.profiles[0]
    for result in (automata, solver):
        for denial in result.denials:
            if isinstance(denial.access, ChangeProfileRequest) and not denial.via:
                assert not denial.access.target.startswith("&"), denial
                assert decide(start_child, denial.access).allowed, denial
                assert not decide(start_parent, denial.access).allowed, denial


def test_a_deny_target_masks_the_exec_path_on_both_engines():
    """The parent's deny target /bin/k also refuses every change at the exec of
    /bin/k: it stays in c there, and enters its own k on a change now."""
    child = _load("profile c { change_profile /bin/k -> k, }\nprofile k { }\n")
    parent = _load("profile c { change_profile /bin/* -> k, deny change_profile -> /bin/k, }\n"
                   "profile k { }\n")
    for engine in ("automata", "z3"):
        result = _checked(child, parent, engine)
        assert result.verdict is lsmsim.Verdict.CONTAINED, engine
        assert set(result.pairs) == {("c", "c"), ("k", "c"), ("k", "k")}, engine


def test_the_automata_run_out_of_budget_on_the_rule():
    child = _load("profile c { change_profile -> **, }\n")
    parent = _load("profile c { change_profile -> k, }\n")
    result = check_within(child, parent, "c", "c", engine="automata", budget=3)
    assert result.verdict is lsmsim.Verdict.UNDECIDED
    assert any(u.rule is not None and u.rule.line == 1 for u in result.undecided)
