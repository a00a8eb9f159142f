"""``change_profile [safe|unsafe] [EXEC] [-> TARGET],`` → :class:`ChangeProfileRule`,
with the checks apparmor_parser makes (parser_yacc.y ``change_profile``)."""
from __future__ import annotations

import dataclasses
import re
from typing import Callable

from ...model.change_profile import ANY_LABEL, ChangeProfileRule
from ...model.glob import Glob, GlobError
from ...model.rules import FileRule, Qualifier
from ...model.source import Source
from .parser import unquote

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|->|(?:(?!->)[^\s"])+')


def _glob(text: str, what: str) -> Glob:
    try:
        return Glob.parse(text)
    except GlobError as error:
        raise ValueError(f"bad {what} {text!r}: {error}") from None


def build_change_profile_rule(body: str, deny: bool, audit: bool, source: Source,
                              expand: Callable[[str], str]) -> ChangeProfileRule:
    """The rule for the text after ``change_profile``; ``expand`` replaces variables.
    Raises ValueError with the parser's reason when it would refuse the rule."""
    if not re.fullmatch(rf"(\s*({_TOKEN.pattern}))*\s*", body):
        raise ValueError(f"invalid change_profile rule {body!r}")
    tokens = _TOKEN.findall(body)
    before, arrow, after = (tokens[:tokens.index("->")], True, tokens[tokens.index("->") + 1:]) \
        if "->" in tokens else (tokens, False, [])
    safety = before.pop(0) if before and before[0] in ("safe", "unsafe") else None
    if len(before) > 1 or len(after) > 1 or (arrow and not after) or "->" in after:
        raise ValueError(f"invalid change_profile rule {body!r}")
    exec_text = unquote(before[0]) if before else None
    if safety and exec_text is None:
        raise ValueError("an exec condition is required with the safe and unsafe keywords")
    exec_glob = None
    if exec_text is not None:
        if not exec_text.startswith(("/", "@{")):
            raise ValueError(f"exec condition {exec_text!r} must begin with '/'")
        # The parser does not squash slashes in the exec condition.
        exec_glob = _glob(expand(exec_text), "exec condition")
    target = ANY_LABEL
    if after:
        text = expand(unquote(after[0]))
        if not text:
            raise ValueError("change_profile names an empty target")
        target = _glob(text, "change_profile target")
    return ChangeProfileRule(target, exec_glob, safety == "unsafe", deny, audit, source)


def implied_rules(source: Source) -> tuple[FileRule, ...]:
    """The owner rule apparmor_parser adds to a profile with change_profile rules
    (allow or deny), so that the change can be written to /proc. The write is a bare
    ``w`` (no append), as compiled."""
    implied = dataclasses.replace(source, text="(rule added for change_profile)")
    return (FileRule(Glob.parse("/proc/*/attr/{apparmor/,}{current,exec}"), frozenset("w"),
                     Qualifier.OWNER, source=implied),)
