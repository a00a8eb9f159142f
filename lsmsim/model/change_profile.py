"""change_profile: what the kernel asks AppArmor when a task moves itself to another
profile, and the rules that answer it.

apparmor_parser compiles ``change_profile [safe|unsafe] [EXEC] [-> TARGET],`` into
three file-DFA entries (parser_regex.c ``process_dfa_entry``): TARGET alone gets
CHANGE_PROFILE|ONEXEC, EXEC alone gets ONEXEC, and the pair ``EXEC \\0 TARGET`` gets
ONEXEC (plus exec bits). No EXEC means any executable (``/[^/\\0][^\\0]*``), no TARGET
means ``**``. Target and exec strings share the DFA, so a deny rule's TARGET also
masks ONEXEC on an exec path it matches, and its EXEC also masks ONEXEC on a label.

The kernel (security/apparmor/domain.c) checks:

- ``change_profile`` now: CHANGE_PROFILE on the target label;
- ``change_onexec``: ONEXEC on the target label when it is asked for, and at the
  exec of a path ONEXEC on the path and on the pair ``path \\0 label``.

So an allow rule grants a change now when its TARGET matches, and an onexec change
when EXEC and TARGET match as a pair; a deny rule refuses a change now when its
TARGET matches, and an onexec change when its TARGET or EXEC matches the label or
the path. ``safe``/``unsafe`` only decide whether the environment is scrubbed
(under stacking the stricter layer wins), not whether the change is allowed.

Labels are written ``[&][:NS:]NAME``: ``&`` stacks the target on the current
profile, ``:NS:`` names a profile of another namespace.
"""
from __future__ import annotations

from dataclasses import dataclass

from .glob import Glob
from .source import Source

# The exec condition of a rule that names none, and the target of one that names none.
ANY_EXEC = Glob.parse("/[^/]**")
ANY_LABEL = Glob.parse("**")


@dataclass(frozen=True)
class ChangeProfileRequest:
    """A change to the profile labelled ``target``: now (``exec`` None), or at the
    exec of the path ``exec`` (change_onexec)."""

    target: str
    exec: str | None = None
    access_class = "change_profile"

    def to_json(self) -> dict:
        return {"class": "change_profile", "target": self.target, "exec": self.exec}


@dataclass(frozen=True)
class ChangeProfileRule:
    """``[audit] [deny] change_profile [safe|unsafe] [EXEC] [-> TARGET],``; ``exec``
    None means any executable."""

    target: Glob = ANY_LABEL
    exec: Glob | None = None
    unsafe: bool = False
    deny: bool = False
    audit: bool = False
    source: Source | None = None

    @property
    def exec_glob(self) -> Glob:
        return self.exec if self.exec is not None else ANY_EXEC

    def matches(self, request: ChangeProfileRequest) -> bool:
        """Does the rule speak about the request: grant it (allow rule) or refuse it
        (deny rule)? See the module docstring for the compiled entries behind it."""
        if request.exec is None:
            return self.target.matches(request.target)
        if not self.deny:
            return self.target.matches(request.target) and self.exec_glob.matches(request.exec)
        return any(glob.matches(text) for glob in (self.target, self.exec_glob)
                   for text in (request.target, request.exec))
