"""Syntax nodes → model: expands variables, applies prefixes, checks placement."""
from __future__ import annotations

import dataclasses
import errno
import re

from ...errors import PolicyError
from ...model.glob import Glob, GlobError, squash_slashes, unescape
from ...model.change_profile import ChangeProfileRule
from ...model.link import ANY_TARGET, LinkRule
from ...model.names import (CAPABILITIES, IPC_CLASSES, NETWORK_FAMILIES, NETWORK_PERM_WORDS, PROTOCOLS,
                            PTRACE_PERM_WORDS, PTRACE_PERMS, SIGNAL_PERM_WORDS, SIGNAL_PERMS,
                            SIGNALS, SOCKET_TYPES)
from ...model.policy import ALL_PATHS, Mode, Policy, Profile
from ...model.rules import (CapabilityRule, ExecKind, ExecMode, FileRule, NetworkRule,
                            OtherRule,
                            PtraceRule, Qualifier, Rule, SignalRule)
from ...model.source import Source
from . import syntax as s
from .change_profile import build_change_profile_rule, implied_rules
from .exec_conflicts import exec_conflict
from .link_rule import build_link_rule
from .modes import parse_mode
from .ipc import build_ipc_rule
from .other_rules import MODELLED_KINDS, build_modelled_rule, check_other_rule
from .netconds import check_conditions
from .variables import Variables, escape_glob

_MODE_FLAGS = {"enforce": Mode.ENFORCE, "complain": Mode.COMPLAIN, "kill": Mode.KILL,
               "unconfined": Mode.UNCONFINED, "default_allow": Mode.DEFAULT_ALLOW,
               "prompt": Mode.COMPLAIN}
_OTHER_FLAGS = {"audit", "chroot_relative", "namespace_relative", "mediate_deleted",
                "delegate_deleted", "attach_disconnected", "no_attach_disconnected",
                "chroot_attach", "chroot_no_attach", "interruptible", "debug"}
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
            attachment = self._glob(attach_text, decl.source)
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
                case s.FileDecl():
                    rules.extend(self._file(node, prefix.merged(node.prefix), extra))
                case s.CapabilityDecl():
                    rules.append(self._capability(node, prefix.merged(node.prefix)))
                case s.NetworkDecl():
                    rules.append(self._network(node, prefix.merged(node.prefix)))
                case s.AccessDecl() if node.kind in IPC_CLASSES:
                    rules.append(build_ipc_rule(node, prefix.merged(node.prefix),
                                                lambda text: self.variables.expand(
                                                    text, node.source, extra)))
                    self._no_owner(prefix.merged(node.prefix), node.kind, node.source)
                case s.AccessDecl():
                    rules.append(self._access(node, prefix.merged(node.prefix), extra))
                case s.OtherDecl() if node.kind in ("link", "change_profile"):
                    rules.append(self._transition_rule(node, prefix.merged(node.prefix), extra))
                case s.OtherDecl() if node.kind in MODELLED_KINDS:
                    p = prefix.merged(node.prefix)
                    self._no_owner(p, node.kind, node.source)
                    try:
                        rules.append(build_modelled_rule(
                            node.kind, self.variables.expand(node.body, node.source, extra),
                            p.deny, p.audit, node.source))
                    except ValueError as error:
                        raise PolicyError(str(error), node.source.position) from None
                case s.OtherDecl():
                    p = prefix.merged(node.prefix)
                    if node.kind != "link":
                        self._no_owner(p, node.kind, node.source)
                    text = self.variables.expand(node.body, node.source, extra)
                    try:
                        check_other_rule(node.kind, text)
                    except ValueError as error:
                        raise PolicyError(str(error), node.source.position) from None
                    rules.append(OtherRule(node.kind, text, p.deny, p.audit, node.source))
                case s.Abi():
                    pass
                case s.Alias():
                    raise PolicyError("alias rules belong in the preamble, not inside a profile",
                                      node.source.position)
                case s.Assignment() | s.BoolAssignment():
                    raise PolicyError("variables are defined before the profiles, not inside one",
                                      node.source.position)

    def _glob(self, raw: str, source: Source, extra: dict | None = None) -> Glob:
        if not raw.startswith(("/", "@{")):
            raise PolicyError(f"path {raw!r} must start with '/' or a variable", source.position)
        text = squash_slashes(self.variables.expand(raw, source, extra))
        try:
            return Glob.parse(text)
        except GlobError as error:
            shown = text if len(text) <= 80 else text[:80] + "..."
            raise PolicyError(f"bad glob {shown!r}: {error}", source.position) from None

    @staticmethod
    def _qualifier(prefix: s.Prefix, source: Source) -> Qualifier:
        if prefix.owner and prefix.other:
            raise PolicyError("a rule cannot be both 'owner' and 'other'", source.position)
        return Qualifier.OWNER if prefix.owner else Qualifier.OTHER if prefix.other \
            else Qualifier.BOTH

    def _file(self, decl: s.FileDecl, prefix: s.Prefix, extra: dict) -> tuple[Rule, ...]:
        qualifier = self._qualifier(prefix, decl.source)
        if decl.path is None:  # "file," = every path, rwlkm and ix on both halves
            exec_mode = None if prefix.deny else ExecMode(ExecKind.INHERIT)
            return _split_link(FileRule(ALL_PATHS, frozenset("rwalkmx"), qualifier, prefix.deny,
                                        prefix.audit, exec_mode, decl.source))
        glob = self._glob(decl.path, decl.source, extra)
        target = self.variables.expand(decl.target, decl.source, extra) if decl.target else None
        mode = decl.mode
        link: tuple[Rule, ...] = ()
        if target and decl.target.startswith(("/", "@{")) and "l" in mode:
            # "PATH l -> TARGET" is a link rule written in file-rule form; the
            # deprecated "PATH lix -> TARGET" adds an exec rule without a target.
            if decl.leading and "x" in mode.lower():
                raise PolicyError("a leading link mode cannot be combined with an exec mode",
                                  decl.source.position)
            link = (LinkRule(glob, self._glob(decl.target, decl.source, extra), decl.subset,
                             qualifier, prefix.deny, prefix.audit, decl.source),)
            mode, target = mode.replace("l", ""), None
            if not mode:
                return link
        perms, exec_mode = parse_mode(mode, prefix.deny, target, decl.source)
        if decl.safety and exec_mode is None:
            raise PolicyError(f"'{decl.safety}' needs an exec mode", decl.source.position)
        if decl.leading and exec_mode is not None:
            # In the leading form the letter case does not matter: only the keyword
            # "unsafe" keeps the environment.
            exec_mode = dataclasses.replace(exec_mode, safe=decl.safety != "unsafe")
        return (*link, *_split_link(FileRule(glob, perms, qualifier, prefix.deny, prefix.audit,
                                             exec_mode, decl.source)))

    def _transition_rule(self, decl: s.OtherDecl, prefix: s.Prefix, extra: dict) -> Rule:
        """``link ...,`` and ``change_profile ...,`` rules."""
        try:
            if decl.kind == "link":
                return build_link_rule(decl.body, self._qualifier(prefix, decl.source),
                                       prefix.deny, prefix.audit, decl.source,
                                       lambda raw: self._glob(raw, decl.source, extra))
            self._no_owner(prefix, decl.kind, decl.source)
            return build_change_profile_rule(
                decl.body, prefix.deny, prefix.audit, decl.source,
                lambda raw: self.variables.expand(raw, decl.source, extra))
        except ValueError as error:
            raise PolicyError(str(error), decl.source.position) from None

    def _no_owner(self, prefix: s.Prefix, kind: str, source: Source) -> None:
        if prefix.owner or prefix.other:
            raise PolicyError(f"owner prefix not allowed on {kind} rules", source.position)

    def _capability(self, decl: s.CapabilityDecl, prefix: s.Prefix) -> CapabilityRule:
        self._no_owner(prefix, "capability", decl.source)
        for name in decl.names:
            if name not in CAPABILITIES:
                raise PolicyError(f"invalid capability {name!r}", decl.source.position)
        names = frozenset(decl.names) if decl.names else frozenset(CAPABILITIES)
        return CapabilityRule(names, prefix.deny, prefix.audit, decl.source)

    def _network(self, decl: s.NetworkDecl, prefix: s.Prefix) -> NetworkRule | OtherRule:
        """``network [perms] [family] [type|protocol] [conditions],``. Rules with
        permissions or address conditions (AppArmor 4) are validated and kept as
        :class:`OtherRule`: the checker does not reason about them yet."""
        self._no_owner(prefix, "network", decl.source)
        family = sock_type = protocol = None
        perms: list[str] = []
        conditions = list(decl.conditions)
        words = list(decl.names)
        try:
            while words:
                word = words.pop(0)
                if word.startswith("("):
                    items = [w for w in re.split(r"[\s,()]+", word) if w]
                    if not items or not set(items) <= NETWORK_PERM_WORDS:
                        raise ValueError(f"invalid network permissions {word!r}")
                    perms.extend(items)
                elif word in NETWORK_PERM_WORDS and family is sock_type is protocol is None:
                    perms.append(word)
                elif word in NETWORK_FAMILIES and family is sock_type is protocol is None:
                    family = word
                elif word in SOCKET_TYPES and sock_type is None and protocol is None:
                    sock_type = word
                elif word in PROTOCOLS and sock_type is None and protocol is None:
                    protocol = word
                else:
                    raise ValueError(f"invalid network entry {word!r}")
            check_conditions(conditions, family, frozenset(perms))
        except ValueError as error:
            raise PolicyError(str(error), decl.source.position) from None
        if perms or conditions:
            return OtherRule("network", " ".join((*decl.names, *(f"{k}={v}" for k, v in
                                                                 decl.conditions))),
                             prefix.deny, prefix.audit, decl.source)
        return NetworkRule(family, sock_type, protocol, prefix.deny, prefix.audit, decl.source)

    def _perm_words(self, decl: s.AccessDecl, words: dict, every: tuple[str, ...]) -> frozenset:
        perms: set[str] = set()
        for word in decl.perms:
            if word not in words:
                raise PolicyError(f"invalid {decl.kind} permission {word!r}", decl.source.position)
            value = words[word]
            perms.update((value,) if isinstance(value, str) else value)
        return frozenset(perms) if perms else frozenset(every)

    def _access(self, decl: s.AccessDecl, prefix: s.Prefix, extra: dict) -> Rule:
        """``signal``/``ptrace`` rules: permissions, ``set=`` and ``peer=``."""
        self._no_owner(prefix, decl.kind, decl.source)
        signal = decl.kind == "signal"
        if signal:
            perms = self._perm_words(decl, SIGNAL_PERM_WORDS, SIGNAL_PERMS)
        else:
            perms = self._perm_words(decl, PTRACE_PERM_WORDS, PTRACE_PERMS)
        peer, signals = None, set()
        if [key for key, _ in decl.conditions].count("peer") > 1:
            raise PolicyError(f"{decl.kind} peer given twice", decl.source.position)
        for key, value in decl.conditions:
            if key == "peer":
                text = self.variables.expand(value.strip('"'), decl.source, extra)
                try:
                    peer = Glob.parse(text)
                except GlobError as error:
                    raise PolicyError(f"bad peer {text!r}: {error}", decl.source.position) from None
            elif key == "set" and signal:
                for name in re.split(r"[\s,()\"]+", value):
                    if not name:
                        continue
                    name = re.sub(r"^rtmin\+0*(\d)", r"rtmin+\1", name)
                    if name not in SIGNALS:
                        raise PolicyError(f"unknown signal {name!r}", decl.source.position)
                    signals.add(name)
            else:
                raise PolicyError(f"invalid {decl.kind} condition {key!r}", decl.source.position)
        if signal:
            return SignalRule(perms, frozenset(signals or SIGNALS), peer, prefix.deny,
                              prefix.audit, decl.source)
        return PtraceRule(perms, peer, prefix.deny, prefix.audit, decl.source)


def _change_hat_rules(source: Source) -> tuple[FileRule, ...]:
    """The owner rules apparmor_parser adds to a profile with hats and to each hat
    (``profile_add_hat_rules``), so that change_hat can work. The write is a bare
    ``w`` (no append), as compiled."""
    implied = dataclasses.replace(source, text="(rule added for change_hat)")
    return tuple(FileRule(Glob.parse(path), frozenset(perms), Qualifier.OWNER, source=implied)
                 for path, perms in (("/proc/*/attr/apparmor/", "r"),
                                     ("/sys/module/apparmor/parameters/enabled", "r"),
                                     ("/proc/[0-9]*/attr/{apparmor/,}current", "w")))


def _split_link(rule: FileRule) -> tuple[Rule, ...]:
    """A file rule's ``l`` is a link rule to any target with the subset test
    (``PATH l,`` pairs PATH with ``/[^/].*``); the other letters stay a file rule."""
    if "l" not in rule.perms:
        return (rule,)
    link = LinkRule(rule.glob, ANY_TARGET, True, rule.qualifier, rule.deny, rule.audit,
                    rule.source)
    rest = rule.perms - {"l"}
    return (link, dataclasses.replace(rule, perms=rest)) if rest else (link,)


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
