"""Hard links: the (new name, target) pair a link rule (or a file rule's ``l``)
allows, with the subset test (:mod:`lsmsim.model.link`)."""
from __future__ import annotations

from ..errors import PolicyError
from ..model.decision import link_allowed, matching
from ..model.exec_type import exec_subset
from ..model.link import LinkRequest, LinkRule
from ..model.policy import ALL_PATHS, Profile
from .base import Decision, RuleClass, half_of, owner_ids, owner_suffix
from .exec_transition import exec_mode_at
from .file import file_permissions


def link_subset_holds(profile: Profile, link: str, target: str, owner: bool) -> bool:
    """The kernel's link subset test: every permission on ``link`` ('l' aside) is
    held on ``target`` too, with the same exec transition."""
    on_link = file_permissions(profile, link, owner) - {"l"}
    on_target = file_permissions(profile, target, owner)
    if not on_link <= on_target:
        return False
    return "x" not in on_link or exec_subset(exec_mode_at(profile, link, owner),
                                             exec_mode_at(profile, target, owner))


def decide(profile: Profile, request: LinkRequest) -> Decision:
    """Whether ``profile`` lets the task link ``request.link`` to ``request.target``."""
    found = [r for r in profile.rules_of(LinkRule) if r.matches(request)]
    allowed_ = link_allowed(
        found, half_of(request.owner),
        lambda: link_subset_holds(profile, request.link, request.target, request.owner),
        matching)
    return Decision(allowed_, frozenset() if allowed_ else frozenset("l"),
                    tuple([r for r in found if not r.deny] + [r for r in found if r.deny]))


def parse_text(kind: str, fields: list[str]) -> LinkRequest:
    owner = owner_suffix(fields)
    if len(fields) != 2 or not all(f.startswith("/") for f in fields):
        raise ValueError("expected link:LINK:TARGET[:owner] (absolute paths)")
    return LinkRequest(fields[0], fields[1], owner)


def format_text(request: LinkRequest) -> str:
    return f"link:{request.link}:{request.target}" + (":owner" if request.owner else "")


def audit(request: LinkRequest) -> tuple[str, str]:
    return "link", (f'name="{request.link}" requested_mask="l" denied_mask="l" '
                    f'{owner_ids(request.owner)} target="{request.target}"')


def describe(request: LinkRequest) -> str:
    return f"link {request.link} -> {request.target} ({'owner' if request.owner else 'other'})"


def checks(engine: str) -> tuple:
    if engine == "automata":
        from ..verify.link_paths import check_link_paths
        return (check_link_paths,)
    from ..verify.link_check import check_links
    return (check_links,)


def build(builder, decl, prefix, extra: dict) -> tuple:
    """``[owner|other] link [subset] LINK -> TARGET,``."""
    from ..frontends.apparmor.link_rule import build_link_rule
    try:
        return (build_link_rule(decl.body, builder.qualifier(prefix, decl.source), prefix.deny,
                                prefix.audit, decl.source,
                                lambda raw: builder.glob(raw, decl.source, extra)),)
    except ValueError as error:
        raise PolicyError(str(error), decl.source.position) from None


def rule_json(rule: LinkRule) -> dict:
    return dict(kind="link", path=rule.link.text, target=rule.target.text,
                subset=rule.subset, qualifier=rule.qualifier.value)


def allow_all(source) -> tuple:
    """Every path linked to every path."""
    return (LinkRule(ALL_PATHS, ALL_PATHS, source=source),)


# Statements that overlap one another, for the engines' agreement test.
SAMPLE_RULES = ('link /a -> /b/**,', 'link subset /a/* -> /**,',
                'owner link /{a,b}/c -> /a,', 'deny link /a -> /**,', '/b/** rl,',
                '/a/* l,', '/a/b r,')

LINK = RuleClass("link", LinkRequest, LinkRule, decide, ("link",), parse_text, format_text,
                 audit, describe, checks, ("link",), build, rule_json,
                 sample_rules=SAMPLE_RULES,
                 allow_all=allow_all)
