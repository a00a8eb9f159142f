"""What every front end's Lark transformer shares: the source of a node or token."""
from __future__ import annotations

from lark import Token, Transformer, Tree

from ..model.source import Source
from .nesting import refuse_deep_tree


class PositionedTransformer(Transformer):
    """A transformer that knows its file and text, so each node can carry its
    position and the rule text (whitespace folded) for reports."""

    def __init__(self, file: str, text: str):
        super().__init__()
        self.file = file
        self.text = text

    def transform(self, tree: Tree):
        """The transformed tree; a tree nested past the limit is refused before the
        (recursive) transformation starts, with the position of the deep node."""
        refuse_deep_tree(tree, self.file)
        return super().transform(tree)

    def _source(self, meta) -> Source:
        return Source(self.file, meta.line, meta.column,
                      " ".join(self.text[meta.start_pos:meta.end_pos].split()))

    def _token_source(self, token: Token) -> Source:
        return Source(self.file, token.line, token.column, " ".join(str(token).split()))
