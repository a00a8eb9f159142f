"""Text → syntax nodes with the Lark grammar ``grammars/apparmor.lark``."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from ...errors import PolicyError, Position
from ...grammars import lark_parser
from ..positions import PositionedTransformer
from . import syntax as s

@lru_cache(maxsize=4)
def _parser(tables: Path | None) -> Lark:
    # The options are grammars.PARSER_OPTIONS, which the shipped tables are built with.
    return lark_parser("apparmor.lark", tables)


def unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


_VALUE = re.compile(r'"(?:[^"\\]|\\.)*"|[^\s"#]+|#.*|"')


def split_values(text: str) -> tuple[str, ...]:
    """Words of a variable assignment's right-hand side; ``#`` starts a comment and a
    trailing backslash continues the line. Raises ValueError on what the parser
    refuses: an unbalanced quote, a ``!``, a trailing ``,``."""
    out = []
    for word in _VALUE.findall(text.replace("\\\n", " ")):
        if word.startswith("#"):
            break
        if word == '"':
            raise ValueError("unbalanced quote in variable value")
        if "!" in word or word.endswith(","):
            raise ValueError(f"invalid variable value {word!r}")
        out.append(unquote(word))
    return tuple(out)


class _ToSyntax(PositionedTransformer):
    """One method per grammar rule; every node keeps its source position and text."""


    @staticmethod
    def _split_prefix(children):
        if children and isinstance(children[0], s.Prefix):
            return children[0], children[1:]
        return s.Prefix(), children

    def start(self, children):
        return tuple(children)

    def body(self, children):
        return tuple(children)

    @v_args(inline=True)
    def path(self, token):
        return unquote(str(token))

    @v_args(inline=True)
    def profile_name(self, token):
        return unquote(str(token))

    @v_args(inline=True)
    def attachment(self, path):
        return ("attach", path)

    @v_args(inline=True)
    def flag(self, token):
        return (str(token), self._token_source(token))

    def flags(self, children):
        return ("flags", tuple(children))

    def xattrs(self, children):
        return ("xattrs", str(children[0]))

    _PREFIX_RANK = {"PRIORITY": 0, "AUDIT": 1, "ALLOW": 2, "DENY": 2, "OWNER": 3, "OTHER": 3}

    def prefix(self, tokens):
        # The parser takes the words in this order only: priority, audit, allow|deny, owner|other.
        ranks = [self._PREFIX_RANK[t.type] for t in tokens]
        for token, before, after in zip(tokens[1:], ranks, ranks[1:]):
            if after <= before:
                raise PolicyError(f"rule prefix {str(token)!r} is out of order or repeated "
                                  "(priority, audit, allow|deny, owner|other)",
                                  self._token_source(token).position)
        words = [str(t) for t in tokens]
        priority = None
        for token, word in zip(tokens, words):
            if word.startswith("priority"):
                priority = int(word.split("=", 1)[1])
                if not -1000 <= priority <= 1000:
                    raise PolicyError(f"priority {priority} is outside -1000..1000",
                                      self._token_source(token).position)
        return s.Prefix(audit="audit" in words, deny="deny" in words,
                        owner="owner" in words, other="other" in words, priority=priority)

    @v_args(meta=True)
    def assignment(self, meta, children):
        match = re.match(r"@\{?([A-Za-z0-9_]+)\}?\s*(\+?)=(.*)", str(children[0]), re.S)
        name = match.group(1)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            raise PolicyError(f"invalid variable name @{{{name}}}", self._source(meta).position)
        try:
            values = split_values(match.group(3))
        except ValueError as error:
            raise PolicyError(str(error), self._source(meta).position) from None
        return s.Assignment(name, values, bool(match.group(2)), self._source(meta))

    @v_args(meta=True)
    def bool_assignment(self, meta, children):
        name, value = re.match(r"\$\{?([A-Za-z0-9_]+)\}?\s*=\s*(\S+)", str(children[0])).groups()
        if value.lower() not in ("true", "false"):
            raise PolicyError(f"boolean ${name} must be true or false, not {value!r}",
                              self._source(meta).position)
        return s.BoolAssignment(name, value.lower() == "true", self._source(meta))

    @v_args(meta=True)
    def include(self, meta, children):
        match = re.match(r'#?include(\s+if\s+exists)?\s*(<([^>]*)>|"([^"]*)"|(\S+))',
                         str(children[0]))
        angle = match.group(3) is not None
        target = next(g for g in match.group(3, 4, 5) if g is not None).strip()
        if angle:
            target = unquote(target)  # <"name with spaces">
        return s.Include(target, angle, bool(match.group(1)), self._source(meta))

    @v_args(meta=True)
    def alias(self, meta, children):
        return s.Alias(children[0], children[1], self._source(meta))

    @v_args(meta=True)
    def abi(self, meta, children):
        target = unquote(str(children[0]).strip().removeprefix("<").removesuffix(">").strip())
        if not target:
            raise PolicyError("abi names no file", self._source(meta).position)
        return s.Abi(target, self._source(meta))

    def _profile(self, meta, name, rest, hat, bare=False):
        attachment, flags = None, ()
        items = rest[-1]
        kinds = [option[0] for option in rest[:-1]]
        if "xattrs" in kinds and (hat or "flags" in kinds[:kinds.index("xattrs")]):
            raise PolicyError("xattrs=(...) belongs to a profile's attachment: before flags, "
                              "and never on a hat", self._source(meta).position)
        for option in rest[:-1]:
            if option[0] == "attach":
                attachment = option[1]
            elif option[0] == "flags":
                flags = option[1]
        return s.ProfileDecl(name, attachment, flags, items, hat, self._source(meta), bare)

    @v_args(meta=True)
    def profile(self, meta, children):
        return self._profile(meta, children[0], children[1:], hat=False)

    @v_args(meta=True)
    def path_profile(self, meta, children):
        return self._profile(meta, str(children[0]), children[1:], hat=False, bare=True)

    @v_args(meta=True)
    def hat(self, meta, children):
        name = str(children[0])
        return self._profile(meta, name[1:] if name.startswith("^") else name, children[1:],
                             hat=True)

    def if_test(self, tokens):
        negations = sum(1 for t in tokens if t.type == "NOT")
        defined = any(t.type == "DEFINED" for t in tokens)
        ref = re.sub(r"[{}]", "", str(tokens[-1]))
        return negations, "defined" if defined else "bool", ref

    @v_args(meta=True)
    def conditional(self, meta, children):
        (negations, test, name), items = children[0], children[1]
        if len(children) < 3:
            otherwise = ()
        elif isinstance(children[2], s.Conditional):
            otherwise = (children[2],)
        else:
            otherwise = children[2]
        return s.Conditional(negations, test, name, items, otherwise, self._source(meta))

    @v_args(meta=True)
    def block(self, meta, children):
        return s.Block(children[0], tuple(children[1:]), self._source(meta))

    @v_args(meta=True)
    def file_rule(self, meta, children):
        prefix, rest = self._split_prefix(children)
        rest = [c for c in rest if not (isinstance(c, Token) and c.type == "FILE")]
        safety = None
        if isinstance(rest[0], Token) and rest[0].type == "EXEC_SAFETY":
            safety = str(rest.pop(0))
        subset = any(isinstance(c, Token) and c.type == "SUBSET" for c in rest)
        rest = [c for c in rest if not (isinstance(c, Token) and c.type == "SUBSET")]
        target = None
        if isinstance(rest[-1], tuple) and rest[-1][0] == "target":
            target = rest.pop()[1]
        leading = isinstance(rest[0], Token) and rest[0].type == "MODE"
        if leading:
            mode, path = str(rest[0]), rest[1]
        else:
            path, mode = rest[0], str(rest[1])
        if subset and not (leading and target and "l" in mode):
            raise PolicyError("'subset' belongs to link rules: l subset NEW -> TARGET",
                              self._source(meta).position)
        return s.FileDecl(prefix, path, mode, target, self._source(meta), safety, leading, subset)

    @v_args(meta=True)
    def bare_file_rule(self, meta, children):
        prefix, _ = self._split_prefix(children)
        return s.FileDecl(prefix, None, "", None, self._source(meta))

    @v_args(inline=True)
    def exec_target(self, token):
        return ("target", unquote(str(token)))

    @v_args(meta=True)
    def capability_rule(self, meta, children):
        prefix, names = self._split_prefix(children)
        return s.CapabilityDecl(prefix, tuple(str(n) for n in names), self._source(meta))

    @v_args(meta=True)
    def network_rule(self, meta, children):
        prefix, rest = self._split_prefix(children)
        names = tuple(str(n) for n in rest if not isinstance(n, tuple))
        conditions = tuple(n for n in rest if isinstance(n, tuple))
        return s.NetworkDecl(prefix, names, conditions, self._source(meta))

    @v_args(inline=True)
    def access_perms(self, token):
        return ("perms", tuple(w for w in re.split(r"[\s,()]+", str(token)) if w))

    @v_args(inline=True)
    def condition(self, token):
        key, _, value = str(token).partition("=")
        return (key, value)

    def _access(self, meta, children, kind):
        prefix, rest = self._split_prefix(children)
        perms = ()
        if rest and rest[0][0] == "perms":
            perms, rest = rest[0][1], rest[1:]
        return s.AccessDecl(prefix, kind, perms, tuple(rest), self._source(meta))

    @v_args(meta=True)
    def signal_rule(self, meta, children):
        return self._access(meta, children, "signal")

    @v_args(meta=True)
    def ptrace_rule(self, meta, children):
        return self._access(meta, children, "ptrace")

    @v_args(meta=True)
    def ipc_rule(self, meta, children):
        prefix, rest = self._split_prefix(children)
        words = tuple(str(n) for n in rest[1:] if not isinstance(n, tuple))
        conditions = tuple(n for n in rest[1:] if isinstance(n, tuple))
        return s.AccessDecl(prefix, str(rest[0]), words, conditions, self._source(meta))

    @v_args(meta=True)
    def other_rule(self, meta, children):
        prefix, rest = self._split_prefix(children)
        body = " ".join(str(rest[1]).split()) if len(rest) > 1 else ""
        return s.OtherDecl(prefix, str(rest[0]), body, self._source(meta))


def _describe(error: UnexpectedInput, text: str) -> str:
    if isinstance(error, UnexpectedEOF) or (
            isinstance(error, UnexpectedToken) and error.token.type == "$END"):
        return "unexpected end of file (is a '{' not closed, or a rule missing its ','?)"
    if isinstance(error, UnexpectedCharacters):
        line = text.splitlines()[error.line - 1] if error.line - 1 < len(text.splitlines()) else ""
        word = re.match(r"\S*", line[error.column - 1:]).group(0) or text[error.pos_in_stream]
        return f"syntax error at {_excerpt(word)!r}"
    token = error.token
    expected = sorted(error.expected) if getattr(error, "expected", None) else []
    hint = ""
    if token.type == "RBRACE" or str(token) == "}":
        hint = " (a rule is missing its ',')"
    elif "COMMA" in expected and len(expected) <= 4:
        hint = " (expected ',')"
    return f"syntax error at {_excerpt(str(token))!r}{hint}"


def _excerpt(word: str, limit: int = 40) -> str:
    """The start of an offending word: a binary file's first "word" can be megabytes."""
    return word if len(word) <= limit else word[:limit] + "..."


def parse_text(text: str, file: str, tables: Path | None = None) -> tuple:
    """Parse one file's text into syntax nodes; errors carry file, line and column.
    ``tables``: a folder to keep the parser's tables in (see :func:`lark_parser`).
    The nodes are immutable and shared: a text parsed before in this process (a child
    and its parent often include the same abstractions) is not parsed again."""
    return _parse_once(_parser(tables), text, file)


# Keyed on the parser (one per grammar), the whole text and the file name the nodes'
# sources carry: the nodes depend on nothing else (includes are read afterwards, by
# the caller). Failures are not kept: a broken text raises afresh each time.
@lru_cache(maxsize=512)
def _parse_once(parser: Lark, text: str, file: str) -> tuple:
    try:
        tree = parser.parse(text)
    except UnexpectedInput as error:
        line = getattr(error, "line", None)
        column = getattr(error, "column", None)
        if line is None or line < 1:
            lines = text.splitlines() or [""]
            line, column = len(lines), len(lines[-1]) + 1
        raise PolicyError(_describe(error, text), Position(file, line, column)) from None
    try:
        return _ToSyntax(file, text).transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, PolicyError):
            raise error.orig_exc from None
        raise
