"""The parent side of the path check reads an automaton that tells file rules apart
only by what they decide, with the endings of alike rules shared
(:func:`lsmsim.automata.profile.decision_automaton`). On every path it must decide
as the rules themselves do, matched one by one by their globs."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsmsim.automata.dfa import LazyDFA
from lsmsim.automata.nfa import TaggedNFA
from lsmsim.automata.profile import decision_automaton, file_automaton
from lsmsim.errors import PolicyError
from lsmsim.model.decision import (exec_applies, exec_deciders, file_decision_key,
                                   granted_letters, matching)
from lsmsim.model.regex import Lit, Seq, Star
from lsmsim.model.rules import FileRule, Half

from .conftest import INCLUDE, MODELS
from .helpers import build_every_state, dfa_state, load_text
from .strategies import file_rule_lines, paths

EXEC_LINES = ["/usr/bin/a ix,", "/usr/bin/* ix,", "/usr/bin/* px,", "/usr/** cx,", "/usr/bin/a Px,",
              "/usr/bin/{a,b} ux,", "owner /usr/bin/* ix,", "deny /usr/bin/b x,"]


def _decision(rules, half: Half) -> tuple:
    """What ``rules`` (the matching ones) decide on ``half``: the letters, and the
    exec transitions that apply."""
    applying = {r.exec for r in exec_deciders(rules, half)
                if exec_applies(r, rules, half, matching)}
    return frozenset(granted_letters(rules, half)), frozenset(map(str, applying))


def _rules(lines: list[str]) -> tuple[FileRule, ...] | None:
    try:
        policy = load_text("profile p {\n  " + "\n  ".join(lines) + "\n}\n")
    except PolicyError:
        return None
    return policy.profiles[0].rules_of(FileRule)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(file_rule_lines(), st.sampled_from(EXEC_LINES)), min_size=1,
                max_size=8),
       st.lists(st.one_of(paths(), st.sampled_from(["/usr/bin/a", "/usr/bin/b", "/usr/x"])),
                min_size=1, max_size=6))
def test_decides_as_the_rules_do(lines, texts):
    rules = _rules(lines)
    if rules is None:
        return
    automaton = decision_automaton(rules)
    for text in texts:
        state = dfa_state(automaton.dfa, text)
        by_glob = [r for r in rules if r.glob.matches(text)]
        for half in (Half.OWNER, Half.OTHER):
            assert _decision(automaton.matched(state), half) == _decision(by_glob, half), text
        # A state that holds no allow rule's position grants nothing on any longer path.
        if not automaton.dfa.holds_any(state, automaton.live):
            longer = [r for r in rules if not r.deny and r.glob.matches(text + "/a")]
            assert not longer


def test_one_rule_stands_for_each_decision_in_policy_order():
    rules = _rules(["/a/** r,", "/b/** r,", "deny /a/b w,", "/c r,", "/d/** rw,"])
    automaton = decision_automaton(rules)
    assert [r.glob.text for r in automaton.items] == ["/a/**", "/a/b", "/d/**"]
    assert len({file_decision_key(r) for r in rules}) == 3


def test_alike_endings_lead_to_onedfa_state():
    # Past their different prefixes, /usr/lib/** and /usr/share/** decide alike on
    # every longer path: one DFA state, where a rule-by-rule automaton has two.
    rules = _rules(["/usr/lib/** r,", "/usr/share/** r,", "/usr/bin/* rix,"])
    shared = decision_automaton(rules).dfa
    assert dfa_state(shared, "/usr/lib/x") == dfa_state(shared, "/usr/share/x")
    plain = file_automaton(rules).dfa
    assert dfa_state(plain, "/usr/lib/x") != dfa_state(plain, "/usr/share/x")


def test_repetition_of_several_characters_falls_back_to_the_plain_automaton():
    # Globs never repeat more than one character, other expressions may.
    expressions = [Seq((Lit("/"), Star(Lit("ab")))), Lit("/ab"), Lit("/b")]
    nfa = TaggedNFA.shared(expressions, [0, 0, 1])
    dfa = LazyDFA(nfa)
    for text, tags in [("/", {0}), ("/ab", {0}), ("/abab", {0}), ("/b", {1}), ("/a", set())]:
        assert set(dfa.tags(dfa_state(dfa, text))) == tags, text
    assert set(nfa.spans[0]) and set(nfa.spans[1]) and not set(nfa.spans[0]) & set(nfa.spans[1])


def test_shipped_parent_needs_fewer_states():
    from lsmsim import load
    policy = load(MODELS / "svirt" / "libvirt-qemu.aa", include=[INCLUDE])
    rules = policy.profiles[0].rules_of(FileRule)
    plain = build_every_state(file_automaton(rules).dfa)
    shared = build_every_state(decision_automaton(rules).dfa)
    assert shared < 0.8 * plain, (shared, plain)


def test_an_exact_exec_rule_is_not_stood_in_for_by_a_glob():
    # /usr/bin/b ix and /usr/** ix grant alike, but only the exact one overrides the
    # glob transitions of its path: they must not share a tag.
    rules = _rules(["/usr/bin/b ix,", "/usr/** ix,", "/usr/bin/a px,"])
    automaton = decision_automaton(rules)
    for text in ("/usr/bin/a", "/usr/bin/b", "/usr/c"):
        by_glob = [r for r in rules if r.glob.matches(text)]
        assert _decision(automaton.matched(dfa_state(automaton.dfa, text)), Half.OTHER) == \
            _decision(by_glob, Half.OTHER), text
    assert _decision([r for r in rules if r.glob.matches("/usr/bin/a")], Half.OTHER)[1] == \
        frozenset({"px"})
