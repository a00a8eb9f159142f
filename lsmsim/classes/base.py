"""What a mediated AppArmor class is made of, and what a profile decides for one
request of it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..model.decision import allowed, matching
from ..model.rules import ExecMode, Half

if TYPE_CHECKING:
    from ..model.policy import Profile


@dataclass(frozen=True)
class Decision:
    """The outcome for one request: ``denied`` holds what was asked and refused
    (permission letters for files, the request's own name otherwise)."""

    allowed: bool
    denied: frozenset[str]
    rules: tuple
    exec_mode: ExecMode | None = None


def no_rules(source) -> tuple:
    """``allow_all`` of a class whose requests another class's rules decide."""
    return ()


@dataclass(frozen=True)
class RuleClass:
    """One mediated class: its rule and request types and everything each part of
    lsmsim needs to know about it, so that they find it here rather than in a
    ``match`` of their own.

    - ``decide(profile, request)``: what the profile decides, built from
      :mod:`lsmsim.model.decision`.
    - ``text_kinds``: the words that start its request text (``mount``, ``umount``,
      ...); ``parse_text(kind, fields)`` reads the fields after ``kind:``,
      raising ValueError with the reason, and ``format_text(request)`` writes
      the whole line back.
    - ``audit(request)``: the audit record's operation and the fields after
      ``profile=``, as the kernel logs a denial.
    - ``describe(request)``: the one-line description of the text report.
    - ``checks(engine)``: the ``child ⊆ parent`` analyses of the class on that
      engine (``automata`` or ``z3``), in the order they run.
    - ``keywords`` and ``build(builder, node, prefix, extra)``: the rule
      keywords of the language it owns and the rules one statement becomes.
    - ``rule_json(rule)``: the fields of one of its rules in ``lsmsim parse``.
    - ``allow_all(source)``: rules that allow every request of the class, which
      stand in for the rules of a profile that enforces nothing.
    - ``sample_rules``: statements of the class that overlap one another (allow
      and deny, wide and narrow), from which the engines' agreement test draws
      random child and parent profiles.

    ``rule`` is None for a class that owns no rule type (exec transitions are
    decided by file rules).
    """

    name: str
    request: type
    rule: type | None
    decide: Callable[["Profile", Any], Decision]
    text_kinds: tuple[str, ...]
    parse_text: Callable[[str, list[str]], Any]
    format_text: Callable[[Any], str]
    audit: Callable[[Any], tuple[str, str]]
    describe: Callable[[Any], str]
    checks: Callable[[str], tuple[Callable[[Any], Iterator[object]], ...]]
    keywords: tuple[str, ...] = ()
    build: Callable[..., tuple] | None = None
    rule_json: Callable[[Any], dict] | None = None
    sample_rules: tuple[str, ...] = ()
    allow_all: Callable[[Any], tuple] = no_rules


def half_of(owner: bool) -> Half:
    """The half of file permissions a request of a task that owns (or not) the
    file is decided in."""
    return Half.OWNER if owner else Half.OTHER


def decide_named(profile: "Profile", request, kind: type, label: str) -> Decision:
    """The decision of a class without halves or precedence: some allow rule of
    ``kind`` matches and no deny rule does; ``label`` names what is refused."""
    found = [r for r in profile.rules_of(kind) if r.matches(request)]
    ok = allowed(found, matching)
    return Decision(ok, frozenset() if ok else frozenset({label}),
                    tuple([r for r in found if not r.deny] + [r for r in found if r.deny]))


def no_checks(engine: str) -> tuple:
    """The checks of a class another class's checks already cover."""
    return ()


def owner_suffix(fields: list[str]) -> bool:
    """Take a trailing ``owner``/``other`` field off ``fields``: is it ``owner``?"""
    return bool(fields) and fields[-1] in ("owner", "other") and fields.pop() == "owner"


def one_of(value: str, allowed_values, what: str) -> str:
    """``value`` when it is one of ``allowed_values``; ValueError naming ``what`` else."""
    if value not in allowed_values:
        raise ValueError(f"unknown {what} {value!r}")
    return value


# Owner accesses are logged with fsuid == ouid; "other" ones with a different owner.
OWNER_IDS = 'fsuid=1000 ouid=1000'
OTHER_IDS = 'fsuid=1000 ouid=0'


def owner_ids(owner: bool) -> str:
    """The fsuid/ouid fields of an audit record for the owner or the other half."""
    return OWNER_IDS if owner else OTHER_IDS
