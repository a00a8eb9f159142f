"""Equal expressions in one position automaton (:meth:`TaggedNFA.of`) share their
positions, each adding its own tag where they end. Every file rule's ``l`` pairs with
one target glob, so a profile's link automaton holds that glob once, not once per
rule. The automaton must still tag each expression exactly where its glob matches."""
from __future__ import annotations

from statistics import mean

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsmsim.automata.dfa import LazyDFA
from lsmsim.automata.nfa import TaggedNFA
from lsmsim.automata.profile import link_automaton
from lsmsim.model.glob import Glob
from lsmsim.model.link import LinkRule

from .conftest import INCLUDE, MODELS
from .helpers import build_every_state, dfa_state
from .strategies import globs, paths


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(globs(), min_size=1, max_size=4),
       st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=8),
       st.lists(paths(), min_size=1, max_size=6))
def test_each_expression_is_tagged_where_its_glob_matches(pool, picks, texts):
    # Expressions drawn from a small pool, so that equal ones (equal, not the same
    # object: each is parsed anew) come up often.
    chosen = [Glob.parse(pool[i % len(pool)]) for i in picks]
    nfa = TaggedNFA.of([g.regex for g in chosen])
    dfa = LazyDFA(nfa)
    for text in texts:
        expected = {tag for tag, glob in enumerate(chosen) if glob.matches(text)}
        assert set(dfa.tags(dfa_state(dfa, text))) == expected, text
    for tag, glob in enumerate(chosen):
        first = next(t for t, other in enumerate(chosen) if other.text == glob.text)
        assert nfa.spans[tag] == nfa.spans[first]


def test_equal_expressions_are_built_once():
    glob = Glob.parse("/srv/**")
    alone = TaggedNFA.of([glob.regex])
    repeated = TaggedNFA.of([Glob.parse("/srv/**").regex for _ in range(50)])
    assert len(repeated.follow) == len(alone.follow)
    assert repeated.tags_of == {p: tuple(range(50)) for p in alone.tags_of}


def test_an_expression_too_long_to_match_stays_empty_for_every_copy():
    long = Glob.parse("/" + "a" * 20)
    nfa = TaggedNFA.of([long.regex, Glob.parse("/b").regex, long.regex], max_length=10)
    assert not nfa.spans[0] and not nfa.spans[2]
    dfa = LazyDFA(nfa)
    assert set(dfa.tags(dfa_state(dfa, "/b"))) == {1}
    assert not dfa.tags(dfa_state(dfa, "/" + "a" * 20))


def test_lxc_default_link_automaton_holds_its_target_glob_once():
    # lxc-default's 84 link rules come from the l of its file rules, all with the one
    # target /[^/]**: with a copy per rule each state held 88 positions on average.
    from lsmsim import load
    profile = load(MODELS / "containers" / "lxc-default.aa", include=[INCLUDE]).profiles[0]
    rules = profile.rules_of(LinkRule)
    assert len(rules) > 50
    dfa = link_automaton(rules).dfa
    build_every_state(dfa)
    assert mean(len(s) for s in dfa.sets) < 10
    # Every rule's target tag is there on a path any rule could link to.
    tags = set(dfa.tags(dfa_state(dfa, "/etc/hostname")))
    assert {2 * i + 1 for i in range(len(rules))} <= tags
