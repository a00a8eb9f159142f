"""The class registry: every rule and request type of the model belongs to exactly
one registered class, the registry drives the builder, the checks, request text and
the reports, and one generic test holds each registered class's random child and
parent profiles to simulator ⇔ automata ⇔ Z3 agreement."""
from __future__ import annotations

import importlib
import pkgutil
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lsmsim
import lsmsim.model
from lsmsim.classes import CLASSES
from lsmsim.frontends.apparmor.mount import MOUNT_KINDS
from lsmsim.model.names import IPC_CLASSES
from lsmsim.model.requests import ExecRequest, Request
from lsmsim.model.rules import FileRule, OtherRule, Rule
from lsmsim.report.audit import audit_line
from lsmsim.report.text import describe_access
from lsmsim.simulate import decide
from lsmsim.stack.request_text import parse_request, request_to_text
from lsmsim.verify.check import ENGINES, PROFILE_CHECKS

from .helpers import load_text
from .test_engines_agree import SCALE, _agree, _load

REGISTERED = list(CLASSES)


def _model_types(suffix: str) -> list[type]:
    """The classes named ``...{suffix}`` the AppArmor model modules define."""
    found = []
    for info in pkgutil.iter_modules(lsmsim.model.__path__):
        if info.name == "selinux":  # SELinux requests are decided by the SELinux simulator
            continue
        module = importlib.import_module(f"lsmsim.model.{info.name}")
        found += [value for name, value in vars(module).items()
                  if isinstance(value, type) and name.endswith(suffix)
                  and value.__module__ == module.__name__]
    return found


def test_every_request_type_is_registered_once():
    """Each request type of the model is the request of exactly one class."""
    request_types = _model_types("Request")
    assert set(typing.get_args(Request)) <= set(request_types)
    for request_type in request_types:
        owners = [c.name for c in CLASSES if c.request is request_type]
        assert len(owners) == 1, (request_type.__name__, owners)
    assert len(request_types) == len(REGISTERED)


def test_every_rule_type_is_owned_once():
    """Each rule type (but the rules kept as text) is owned by exactly one class."""
    rule_types = _model_types("Rule")
    assert set(typing.get_args(Rule)) <= set(rule_types)
    for rule_type in rule_types:
        owners = [c.name for c in CLASSES if c.rule is rule_type]
        assert len(owners) == (0 if rule_type is OtherRule else 1), (rule_type.__name__, owners)


def test_words_belong_to_one_class():
    """No request-text word and no rule keyword is claimed twice."""
    kinds = [kind for c in CLASSES for kind in c.text_kinds]
    keywords = [word for c in CLASSES for word in c.keywords]
    assert len(kinds) == len(set(kinds)) and "selinux" not in kinds
    assert len(keywords) == len(set(keywords))
    assert MOUNT_KINDS <= set(keywords) and set(IPC_CLASSES) <= set(keywords)


def test_engines_run_the_registered_checks_in_order():
    """Each engine runs every class's checks in registry order, then the profile checks."""
    for engine, checks in ENGINES.items():
        assert checks == (*CLASSES.checks(engine), *PROFILE_CHECKS)
        assert len(checks) == len(set(checks))


@pytest.mark.parametrize("rule_class", REGISTERED, ids=lambda c: c.name)
def test_sample_rules_build_rules_of_the_class(rule_class):
    """The builder turns the sample statements into rules of the class (and of
    the classes its meaning reads, such as the file rules a link's subset test
    reads), every one of them a registered class's."""
    owned = rule_class.rule or FileRule
    built = []
    for line in rule_class.sample_rules:
        profile = load_text(f"profile p {{\n  {line}\n}}\n").profiles[0]
        assert profile.rules, line
        built += profile.rules
    assert any(isinstance(rule, owned) for rule in built)
    assert all(CLASSES.of_rule(rule) is not None for rule in built)


@st.composite
def sample_profiles(draw, rule_class, name: str) -> str:
    lines = draw(st.lists(st.sampled_from(rule_class.sample_rules), min_size=1, max_size=3))
    return f"profile {name} {{\n  " + "\n  ".join(lines) + "\n}\n"


def _witnesses_read_back(child_text: str, parent_text: str) -> None:
    """Each witness is told the same way by every reporter: its request text reads
    back to the same text, and it has an audit line and a description."""
    child, parent = _load(child_text), _load(parent_text)
    if child is None or parent is None:
        return
    for denial in lsmsim.check(child, parent).denials:
        access = denial.access
        found = CLASSES.of_request(access)
        assert found is not None
        text = request_to_text(access)
        again = parse_request(text)
        assert request_to_text(again) == text
        if not isinstance(access, ExecRequest):  # the text keeps the path, not the mode
            assert again == access
        operation, _ = found.audit(access)
        assert audit_line(access, "p").startswith(
            f'apparmor="DENIED" operation="{operation}" profile="p" ')
        description = describe_access(access)
        # Written for people: never the request's repr.
        assert description and not description.startswith(type(access).__name__ + "(")


@pytest.mark.parametrize("rule_class", REGISTERED, ids=lambda c: c.name)
def test_engines_agree_on_each_class(rule_class):
    """Random child and parent profiles of the class: the automaton and Z3 engines
    give the same verdict and expansions, and the simulator confirms every witness."""
    @settings(max_examples=max(1, int(12 * SCALE)), deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(sample_profiles(rule_class, "c"), sample_profiles(rule_class, "p"))
    def agree(child_text, parent_text):
        _agree(child_text, parent_text)
        _witnesses_read_back(child_text, parent_text)
    agree()


@pytest.mark.parametrize("rule_class", REGISTERED, ids=lambda c: c.name)
def test_a_profile_that_enforces_nothing_allows_every_class(rule_class):
    """Each class that owns a rule type stands in for a complain profile with rules
    of that type, and those allow each of its sample witnesses."""
    rules = rule_class.allow_all(None)
    assert bool(rules) == (rule_class.rule is not None)
    assert all(isinstance(rule, rule_class.rule) for rule in rules)
    complain = load_text("profile c flags=(complain) {\n}\n").profiles[0]
    parent = load_text("profile p {\n}\n")
    for line in rule_class.sample_rules:
        child = load_text(f"profile c {{\n  {line}\n}}\n")
        for denial in lsmsim.check(child, parent).denials:
            assert decide(complain, denial.access).allowed, (line, denial.access)
