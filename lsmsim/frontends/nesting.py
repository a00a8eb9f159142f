"""One limit on how deeply policy text may nest, checked before anything recurses.

The transformers, the model builders and the encoders walk nested constructs
(blocks, conditionals, brackets, operator chains, includes) recursively. Rather than
let Python's recursion limit decide where a deep input fails, and fail differently
in each place, every front end measures nesting here first, without recursion, and
refuses a policy that goes deeper than :data:`MAX_NESTING` with the position of the
first construct past the limit: Lark parse trees here, before their transformer; CIL
lists as the parser builds them; AppArmor includes as they are spliced in.
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
    pending: list[tuple[Tree, int, Tree | None]] = [(tree, 0, None)]
    while pending:
        node, depth, parent = pending.pop()
        if depth > MAX_NESTING:
            where = _tree_position(node, file) or (parent and _tree_position(parent, file))
            raise too_deep(where or Position(file, 1, 1))
        # Reversed, so the first child is looked at first: the error names the
        # earliest construct past the limit.
        pending.extend((child, depth + 1, node) for child in reversed(node.children)
                       if isinstance(child, Tree))


def _tree_position(node: Tree, file: str) -> Position | None:
    meta = node.meta
    if not meta.empty:
        return Position(file, meta.line, meta.column)
    token = next((c for c in node.children if isinstance(c, Token) and c.line), None)
    return Position(file, token.line, token.column) if token is not None else None
