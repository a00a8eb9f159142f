"""Source locations kept on every rule, so reports can point at the line to fix."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import Position


@dataclass(frozen=True)
class Source:
    """The text of one rule and where it was written."""

    file: str
    line: int
    column: int
    text: str

    @property
    def position(self) -> Position:
        return Position(self.file, self.line, self.column)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column, "text": self.text}
