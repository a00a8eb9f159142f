"""The file class: opening, reading, writing, locking and mapping a path, decided
per half (owner or other) as allow minus deny over the matching file rules."""
from __future__ import annotations

import dataclasses

from ..errors import PolicyError
from ..model.decision import file_allows
from ..model.link import ANY_TARGET, LinkRule
from ..model.policy import ALL_PATHS, Profile
from ..model.requests import FileRequest, sorted_perms
from ..model.rules import FILE_PERMS, ExecKind, ExecMode, FileRule, Qualifier
from .base import Decision, RuleClass, half_of, owner_ids, owner_suffix


def file_permissions(profile: Profile, path: str, owner: bool) -> frozenset[str]:
    """Letters granted on ``path``: union of matching allows minus every matching deny."""
    rules = profile.rules_of(FileRule)
    matched = {id(r) for r in rules if r.glob.matches(path)}
    half = half_of(owner)
    granted = {letter for letter in FILE_PERMS
               if file_allows(rules, letter, half, lambda r: id(r) in matched)}
    # 'l' on a path alone comes from link rules; a deny never masks it there.
    if any(not r.deny and r.covers(path, owner) for r in profile.rules_of(LinkRule)):
        granted.add("l")
    return frozenset(granted)


def decide(profile: Profile, request: FileRequest) -> Decision:
    """What ``profile`` decides for opening ``request.path`` with its letters."""
    granted = file_permissions(profile, request.path, request.owner)
    denied = request.perms - granted
    rules = tuple(r for r in profile.rules_of(FileRule) if r.matches(request))
    return Decision(not denied, frozenset(denied), rules)


def parse_text(kind: str, fields: list[str]) -> FileRequest:
    owner = owner_suffix(fields)
    if len(fields) < 2:
        raise ValueError("expected file:PATH:PERMS[:owner]")
    path, perms = ":".join(fields[:-1]), fields[-1]
    if not path.startswith("/") or not perms or set(perms) - set(FILE_PERMS):
        raise ValueError(f"expected an absolute path and letters of {FILE_PERMS!r}")
    return FileRequest(path, frozenset(perms), owner)


def format_text(request: FileRequest) -> str:
    return (f"file:{request.path}:{''.join(sorted_perms(request.perms))}"
            + (":owner" if request.owner else ""))


def _operation(perms: frozenset[str]) -> str:
    if perms <= {"m"}:
        return "file_mmap"
    if perms <= {"k"}:
        return "file_lock"
    if perms <= {"l"}:
        return "link"
    return "open"


def audit(request: FileRequest) -> tuple[str, str]:
    mask = "".join(sorted_perms(request.perms))
    return _operation(request.perms), (f'name="{request.path}" requested_mask="{mask}" '
                                       f'denied_mask="{mask}" {owner_ids(request.owner)}')


def describe(request: FileRequest) -> str:
    return (f"file {request.path} {''.join(sorted_perms(request.perms))} "
            f"({'owner' if request.owner else 'other'})")


def checks(engine: str) -> tuple:
    # The engines import the simulator, which reads the registry: import them late.
    if engine == "automata":
        from ..verify.path_check import check_paths  # file and exec in one search
        return (check_paths,)
    from ..verify.file_check import check_files
    return (check_files,)


def build(builder, decl, prefix, extra: dict) -> tuple:
    """``[owner|other] PATH MODE [-> TARGET],`` and the bare ``file,``; the ``l``
    of a file rule becomes a link rule, ``PATH l -> TARGET`` is one."""
    from ..frontends.apparmor.modes import parse_mode
    qualifier = builder.qualifier(prefix, decl.source)
    if decl.path is None:  # "file," = every path, rwlkm and ix on both halves
        exec_mode = None if prefix.deny else ExecMode(ExecKind.INHERIT)
        return split_link(FileRule(ALL_PATHS, frozenset("rwalkmx"), qualifier, prefix.deny,
                                   prefix.audit, exec_mode, decl.source))
    glob = builder.glob(decl.path, decl.source, extra)
    target = builder.expand(decl.target, decl.source, extra) if decl.target else None
    mode = decl.mode
    link: tuple = ()
    if target and decl.target.startswith(("/", "@{")) and "l" in mode:
        # "PATH l -> TARGET" is a link rule written in file-rule form; the
        # deprecated "PATH lix -> TARGET" adds an exec rule without a target.
        if decl.leading and "x" in mode.lower():
            raise PolicyError("a leading link mode cannot be combined with an exec mode",
                              decl.source.position)
        link = (LinkRule(glob, builder.glob(decl.target, decl.source, extra), decl.subset,
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
    return (*link, *split_link(FileRule(glob, perms, qualifier, prefix.deny, prefix.audit,
                                        exec_mode, decl.source)))


def split_link(rule: FileRule) -> tuple:
    """A file rule's ``l`` is a link rule to any target with the subset test
    (``PATH l,`` pairs PATH with ``/[^/].*``); the other letters stay a file rule."""
    if "l" not in rule.perms:
        return (rule,)
    link = LinkRule(rule.glob, ANY_TARGET, True, rule.qualifier, rule.deny, rule.audit,
                    rule.source)
    rest = rule.perms - {"l"}
    return (link, dataclasses.replace(rule, perms=rest)) if rest else (link,)


def rule_json(rule: FileRule) -> dict:
    return dict(kind="file", path=rule.glob.text, perms=sorted_perms(rule.perms),
                qualifier=rule.qualifier.value, exec=str(rule.exec) if rule.exec else None)


def allow_all(source) -> tuple:
    """Every letter on every path, and exec leaves confinement."""
    return (FileRule(ALL_PATHS, frozenset("rwakmx"), Qualifier.BOTH,
                     exec=ExecMode(ExecKind.UNCONFINED), source=source),)


# Statements that overlap one another, for the engines' agreement test.
SAMPLE_RULES = ('/a/* r,', '/a/b rw,', 'deny /a/b w,', 'owner /** r,', 'other /a/** rwk,',
                '/{a,b}/c m,', 'audit /a/** w,', 'deny owner /a/* r,')

FILE = RuleClass("file", FileRequest, FileRule, decide, ("file",), parse_text, format_text,
                 audit, describe, checks, ("file",), build, rule_json,
                 sample_rules=SAMPLE_RULES,
                 allow_all=allow_all)
