"""Exec transitions: executing a path, decided by the file rules that carry an exec
mode (an exact path beats a glob), and the domain the exec enters."""
from __future__ import annotations

from ..model.decision import exec_applies, exec_deciders
from ..model.policy import Profile
from ..model.requests import ExecRequest
from ..model.rules import ExecMode, FileRule
from .base import Decision, RuleClass, half_of, no_checks, owner_ids, owner_suffix
from .file import file_permissions


def exec_rules_at(profile: Profile, path: str, owner: bool) -> list[FileRule]:
    """The allow rules whose exec transition applies at ``path`` (exact paths beat
    globs: :func:`lsmsim.model.decision.exec_applies`)."""
    half = half_of(owner)
    rules = profile.rules_of(FileRule)
    matched = {id(r) for r in exec_deciders(rules, half) if r.glob.matches(path)}
    return [r for r in exec_deciders(rules, half)
            if exec_applies(r, rules, half, lambda r: id(r) in matched)]


def exec_mode_at(profile: Profile, path: str, owner: bool) -> ExecMode | None:
    """The transition taken when executing ``path``, or None if exec is not allowed."""
    if "x" not in file_permissions(profile, path, owner):
        return None
    rules = exec_rules_at(profile, path, owner)
    return rules[0].exec if rules else None


def decide(profile: Profile, request: ExecRequest) -> Decision:
    """Whether ``profile`` lets the task execute ``request.path``, and how."""
    mode = exec_mode_at(profile, request.path, request.owner)
    rules = tuple(exec_rules_at(profile, request.path, request.owner))
    return Decision(mode is not None, frozenset() if mode else frozenset("x"), rules, mode)


def parse_text(kind: str, fields: list[str]) -> ExecRequest:
    owner = owner_suffix(fields)
    path = ":".join(fields)
    if not path.startswith("/"):
        raise ValueError("expected exec:PATH[:owner]")
    return ExecRequest(path, "x", None, owner)


def format_text(request: ExecRequest) -> str:
    return f"exec:{request.path}" + (":owner" if request.owner else "")


def audit(request: ExecRequest) -> tuple[str, str]:
    fields = (f'name="{request.path}" requested_mask="x" denied_mask="x" '
              + owner_ids(request.owner))
    return "exec", fields + (f' target="{request.target}"' if request.target else "")


def describe(request: ExecRequest) -> str:
    return f"exec {request.path} {request.mode}" + (
        f" -> {request.target}" if request.target else "")


def checks(engine: str) -> tuple:
    if engine == "automata":
        return no_checks(engine)  # the file class's path search decides exec too
    from ..verify.exec_check import check_exec
    return (check_exec,)


# Statements that overlap one another, for the engines' agreement test.
SAMPLE_RULES = ('/usr/bin/a ix,', '/usr/bin/* ux,', '/usr/** pix,', '/usr/bin/b* Cx,',
                'deny /usr/bin/a x,', '/usr/bin/c rix,', '/usr/bin/d px,')

EXEC = RuleClass("exec", ExecRequest, None, decide, ("exec",), parse_text, format_text,
                 audit, describe, checks,
                 sample_rules=SAMPLE_RULES)
