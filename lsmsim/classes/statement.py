"""Building the rule kinds the grammar keeps as a keyword and a body (mount family,
mqueue, userns, io_uring): the front end reads the body."""
from __future__ import annotations

from ..errors import PolicyError


def build_statement(builder, decl, prefix, extra: dict) -> tuple:
    """The rule ``KIND BODY,`` with its variables expanded; the parser's reason as a
    :class:`PolicyError` where apparmor_parser refuses it."""
    from ..frontends.apparmor.other_rules import build_modelled_rule
    builder.no_owner(prefix, decl.kind, decl.source)
    try:
        return (build_modelled_rule(decl.kind, builder.expand(decl.body, decl.source, extra),
                                    prefix.deny, prefix.audit, decl.source),)
    except ValueError as error:
        raise PolicyError(str(error), decl.source.position) from None
