"""One limit on how deeply policy text may nest, checked before anything recurses.

The transformers, the model builders and the encoders walk nested constructs
(blocks, conditionals, brackets, operator chains, includes) recursively. Rather than
let Python's recursion limit decide where a deep input fails, and fail differently
in each place, every front end measures nesting here first, without recursion, and
refuses a policy that goes deeper than :data:`MAX_NESTING` with the position of the
first construct past the limit.
"""
from __future__ import annotations

from lark import Token, Tree

from ..errors import PolicyError, Position

# Real policies stay below 30 (Debian's reference policy: conditionals and constraint
# expressions); each level costs a few stack frames in the passes that follow.
MAX_NESTING = 100


def too_deep(position: Position) -> PolicyError:
    """The one error every front end raises for nesting past :data:`MAX_NESTING`."""
    return PolicyError(f"nested too deeply to analyse (more than {MAX_NESTING} levels of "
                       "blocks, brackets, operators or includes)", position)


def refuse_deep_tree(tree: Tree, file: str) -> None:
    """Raise :func:`too_deep` at the first node of a Lark parse tree (built with
    ``propagate_positions``) that lies deeper than :data:`MAX_NESTING`."""
    pending: list[tuple[Tree, int, Position]] = [(tree, 0, Position(file, 1, 1))]
    while pending:
        node, depth, outer = pending.pop()
        here = _tree_position(node, file) or outer
        if depth > MAX_NESTING:
            raise too_deep(here)
        # Reversed, so the first child is looked at first: the error names the
        # earliest construct past the limit.
        pending.extend((child, depth + 1, here) for child in reversed(node.children)
                       if isinstance(child, Tree))


def refuse_deep_lists(items, file: str) -> None:
    """The same limit for nested sequences (CIL lists): ``items`` is a sequence whose
    elements are atoms or objects with ``items`` and ``line``/``column``."""
    pending = [(item, 1) for item in reversed(tuple(items))]
    while pending:
        node, depth = pending.pop()
        inner = getattr(node, "items", None)
        if inner is None or isinstance(node, (str, bytes)):
            continue
        if depth > MAX_NESTING:
            raise too_deep(Position(getattr(node, "file", file), node.line, node.column))
        pending.extend((child, depth + 1) for child in reversed(tuple(inner)))


def _tree_position(node: Tree, file: str) -> Position | None:
    meta = node.meta
    if not meta.empty:
        return Position(file, meta.line, meta.column)
    token = next((c for c in node.children if isinstance(c, Token) and c.line), None)
    return Position(file, token.line, token.column) if token is not None else None
