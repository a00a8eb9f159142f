"""The paths a request can carry: canonical absolute paths."""
from __future__ import annotations

from ..model.regex import CharSet, Lit, Regex, Seq, Star, Alt

_NOT_SLASH = CharSet.of([(ord("/"), ord("/"))], negate=True)
_NOT_SLASH_DOT = CharSet.of([(ord("/"), ord("/")), (ord("."), ord("."))], negate=True)


def canonical_path() -> Regex:
    """``/([^/]+/)*[^/]*`` with no component ``.`` or ``..``: the kernel hands the
    matcher resolved paths, so a witness must be one."""
    tail = Star(_NOT_SLASH)
    component = Alt((Seq((_NOT_SLASH_DOT, tail)),
                     Seq((Lit("."), _NOT_SLASH_DOT, tail)),
                     Seq((Lit(".."), _NOT_SLASH, tail))))
    return Seq((Lit("/"), Star(Seq((component, Lit("/")))), Alt((component, Lit("")))))
