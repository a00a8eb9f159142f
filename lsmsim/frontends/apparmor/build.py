"""Syntax nodes → model: expands variables, applies prefixes, checks placement."""
from __future__ import annotations

import dataclasses
import errno

from ...classes import CLASSES
from ...errors import PolicyError
from ...model.glob import Glob, GlobError, squash_slashes, unescape
from ...model.change_profile import ChangeProfileRule
from ...model.names import SIGNALS
from ...model.policy import Mode, Policy, Profile
from ...model.rules import FileRule, OtherRule, Qualifier, Rule
from ...model.source import Source
from . import syntax as s
from .change_profile import implied_rules
from .exec_conflicts import exec_conflict
from .other_rules import check_other_rule
from .variables import Variables, escape_glob

_MODE_FLAGS = {"enforce": Mode.ENFORCE, "complain": Mode.COMPLAIN, "kill": Mode.KILL,
               "unconfined": Mode.UNCONFINED, "default_allow": Mode.DEFAULT_ALLOW,
               "prompt": Mode.COMPLAIN}
_OTHER_FLAGS = {"audit", "chroot_relative", "namespace_relative", "mediate_deleted",
                "delegate_deleted", "attach_disconnected", "no_attach_disconnected",
                "chroot_attach", "chroot_no_attach", "interruptible", "debug"}
# The keyword of the statements the grammar gives a node type of their own; the
# other nodes carry theirs as ``kind``.
_STATEMENT_KEYWORDS = {s.FileDecl: "file", s.CapabilityDecl: "capability",
                       s.NetworkDecl: "network"}
_VALUED_FLAGS = ("attach_disconnected.path=", "kill.signal=", "error=")
_CONFLICTING_FLAGS = (("mediate_deleted", "delegate_deleted"),
                      ("attach_disconnected", "no_attach_disconnected"),
                      ("namespace_relative", "chroot_relative"),
                      ("chroot_attach", "chroot_no_attach"))


class PolicyBuilder:
    """Builds a :class:`Policy` from the spliced syntax nodes of one file."""

    def __init__(self, file: str):
        self.file = file
        self.variables = Variables()
        self.booleans: dict[str, bool] = {}

    def chosen(self, node: s.Conditional) -> tuple:
        """The items of the branch a conditional takes (booleans and variables are
        known when the policy is compiled, so the choice is made here)."""
        if node.test == "defined":
            found = (node.name[1:] in self.variables.values if node.name.startswith("@")
                     else node.name[1:] in self.booleans)
        elif node.name[1:] in self.booleans:
            found = self.booleans[node.name[1:]]
        else:
            raise PolicyError(f"undefined boolean {node.name}", node.source.position)
        if node.negations % 2:
            found = not found
        return node.items if found else node.otherwise

    def build(self, nodes: tuple, files_read: tuple[str, ...] = ()) -> Policy:
        profiles = []
        pending = list(nodes)
        while pending:
            node = pending.pop(0)
            match node:
                case s.Conditional():
                    pending[:0] = self.chosen(node)
                case s.Assignment():
                    self.variables.define(node.name, node.values, node.append, node.source)
                case s.BoolAssignment():
                    if node.name in self.booleans:
                        raise PolicyError(f"boolean ${node.name} is defined twice",
                                          node.source.position)
                    self.booleans[node.name] = node.value
                case s.Alias() | s.Abi():
                    pass  # aliases and ABIs do not change what these rule kinds permit
                case s.ProfileDecl():
                    profiles.append(node)
                case _:
                    raise PolicyError("rules must stand inside a profile", node.source.position)
        built = tuple(self._profile(p, parent=None) for p in profiles)
        names = [p.name for p in built]
        for profile, decl in zip(built, profiles):
            if names.count(profile.name) > 1:
                raise PolicyError(f"profile {profile.name!r} is defined twice", decl.source.position)
        return Policy(self.file, "apparmor", built, files_read)

    def _profile(self, decl: s.ProfileDecl, parent: str | None) -> Profile:
        name = self.variables.expand(decl.name, decl.source)
        if not name:
            raise PolicyError(f"profile name {decl.name!r} is empty", decl.source.position)
        if decl.bare and not name.startswith(("/", ":")):
            raise PolicyError(f"profile name {name!r} needs the 'profile' keyword "
                              "(bare names must start with '/')", decl.source.position)
        local = name
        if name.startswith(":"):  # ":ns:name" or ":ns://name" puts the profile in namespace ns
            ns, colon, local = name[1:].partition(":")
            if not colon or not ns:
                raise PolicyError(f"namespace in {name!r} is not closed by ':'",
                                  decl.source.position)
            local = local.removeprefix("//")
            if not local:
                raise PolicyError(f"{name!r} names a namespace but no profile",
                                  decl.source.position)
        attachment = None
        attach_text = decl.attachment if decl.attachment is not None else (
            local if local.startswith("/") else None)
        if attach_text is not None:
            attachment = self.glob(attach_text, decl.source)
        mode, flags = self._flags(decl.flags)
        # The hierarchical name without its namespace, as @{profile_name} expands to.
        full_name = f"{parent}//{local}" if parent else local
        rules: list[Rule] = []
        children: list[Profile] = []
        self._items(decl.items, s.Prefix(), rules, children, full_name)
        _check_exact_exec_conflicts(rules)
        if decl.hat or any(c.hat for c in children):
            rules.extend(_change_hat_rules(decl.source))
        if any(isinstance(r, ChangeProfileRule) for r in rules):
            rules.extend(implied_rules(decl.source))
        seen: set[str] = set()
        for child in children:
            if child.name in seen:
                raise PolicyError(f"{full_name!r} defines {child.name!r} twice",
                                  child.source.position)
            seen.add(child.name)
        return Profile(name, tuple(rules), attachment, mode, flags, tuple(children), decl.hat,
                       decl.source)

    def _flags(self, flags) -> tuple[Mode, tuple[str, ...]]:
        modes: dict[str, Source] = {}
        names = []
        for flag, source in flags:
            if flag in _MODE_FLAGS:
                modes.setdefault(flag, source)
            elif flag.startswith(_VALUED_FLAGS):
                self._valued_flag(flag, source)
            elif flag not in _OTHER_FLAGS:
                raise PolicyError(f"unknown profile flag {flag!r}", source.position)
            names.append(flag)
        if len(modes) > 1:
            raise PolicyError(f"conflicting profile modes: {', '.join(modes)}",
                              list(modes.values())[1].position)
        for a, b in _CONFLICTING_FLAGS:
            if a in names and b in names:
                raise PolicyError(f"conflicting profile flags {a!r} and {b!r}",
                                  flags[0][1].position)
        mode = _MODE_FLAGS[next(iter(modes))] if modes else Mode.ENFORCE
        return mode, tuple(dict.fromkeys(names))

    def _valued_flag(self, flag: str, source: Source) -> None:
        key, _, value = flag.partition("=")
        if key == "kill.signal":
            ok = value in SIGNALS
        elif key == "error":
            ok = value in errno.errorcode.values()
        else:  # attach_disconnected.path: an absolute path once variables are expanded
            ok = self.variables.expand(value, source).startswith("/")
        if not ok:
            raise PolicyError(f"invalid value in profile flag {flag!r}", source.position)

    def _items(self, items, prefix: s.Prefix, rules: list, children: list,
               full_name: str) -> None:
        extra = {"profile_name": escape_glob(unescape(full_name))}
        for node in items:
            match node:
                case s.Conditional():
                    self._items(self.chosen(node), prefix, rules, children, full_name)
                case s.ProfileDecl():
                    children.append(self._profile(node, full_name))
                case s.Block():
                    self._items(node.items, prefix.merged(node.prefix), rules, children,
                                full_name)
                case s.FileDecl() | s.CapabilityDecl() | s.NetworkDecl() | s.AccessDecl() \
                        | s.OtherDecl():
                    rules.extend(self._statement(node, prefix.merged(node.prefix), extra))
                case s.Abi():
                    pass
                case s.Alias():
                    raise PolicyError("alias rules belong in the preamble, not inside a profile",
                                      node.source.position)
                case s.Assignment() | s.BoolAssignment():
                    raise PolicyError("variables are defined before the profiles, not inside one",
                                      node.source.position)

    def expand(self, text: str, source: Source, extra: dict | None = None) -> str:
        """``text`` with its variables (and ``extra``'s) expanded."""
        return self.variables.expand(text, source, extra)

    def glob(self, raw: str, source: Source, extra: dict | None = None) -> Glob:
        """The glob of an absolute path (or one that starts with a variable)."""
        if not raw.startswith(("/", "@{")):
            raise PolicyError(f"path {raw!r} must start with '/' or a variable", source.position)
        text = squash_slashes(self.variables.expand(raw, source, extra))
        try:
            return Glob.parse(text)
        except GlobError as error:
            shown = text if len(text) <= 80 else text[:80] + "..."
            raise PolicyError(f"bad glob {shown!r}: {error}", source.position) from None

    @staticmethod
    def qualifier(prefix: s.Prefix, source: Source) -> Qualifier:
        """The half an ``owner``/``other`` prefix restricts a rule to."""
        if prefix.owner and prefix.other:
            raise PolicyError("a rule cannot be both 'owner' and 'other'", source.position)
        return Qualifier.OWNER if prefix.owner else Qualifier.OTHER if prefix.other \
            else Qualifier.BOTH

    def _statement(self, node, prefix: s.Prefix, extra: dict) -> tuple[Rule, ...]:
        """The rules one statement becomes: its class builds them; a statement of a
        kind no class models is checked as apparmor_parser would and kept as text."""
        rule_class = CLASSES.of_keyword(_STATEMENT_KEYWORDS.get(type(node)) or node.kind)
        if rule_class is not None:
            return rule_class.build(self, node, prefix, extra)
        self.no_owner(prefix, node.kind, node.source)
        text = self.expand(node.body, node.source, extra)
        try:
            check_other_rule(node.kind, text)
        except ValueError as error:
            raise PolicyError(str(error), node.source.position) from None
        return (OtherRule(node.kind, text, prefix.deny, prefix.audit, node.source),)

    def no_owner(self, prefix: s.Prefix, kind: str, source: Source) -> None:
        """Refuse ``owner``/``other`` on a rule of a class without halves."""
        if prefix.owner or prefix.other:
            raise PolicyError(f"owner prefix not allowed on {kind} rules", source.position)


def _change_hat_rules(source: Source) -> tuple[FileRule, ...]:
    """The owner rules apparmor_parser adds to a profile with hats and to each hat
    (``profile_add_hat_rules``), so that change_hat can work. The write is a bare
    ``w`` (no append), as compiled."""
    implied = dataclasses.replace(source, text="(rule added for change_hat)")
    return tuple(FileRule(Glob.parse(path), frozenset(perms), Qualifier.OWNER, source=implied)
                 for path, perms in (("/proc/*/attr/apparmor/", "r"),
                                     ("/sys/module/apparmor/parameters/enabled", "r"),
                                     ("/proc/[0-9]*/attr/{apparmor/,}current", "w")))


def _check_exact_exec_conflicts(rules: list[Rule]) -> None:
    """Two allow rules that give one path different exec transitions are an error
    ("conflicting x modifiers"), unless exactly one of them is an exact path."""
    found = exec_conflict(rules)
    if found is not None:
        first, second = found
        what = (f"{first.glob.text} {first.exec} and {second.glob.text} {second.exec}"
                if isinstance(first, FileRule) else
                f"change_profile rules {first.source.text!r} and {second.source.text!r}")
        raise PolicyError(f"conflicting x modifiers: {what} ({first.source})",
                          second.source.position)
