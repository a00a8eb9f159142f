"""Errors that carry a source position, so every message reads ``file:line:col: message``."""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator


@dataclass(frozen=True)
class Position:
    """Where a piece of policy text starts: file, 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        file = self.file
        if len(file) > _LONGEST_SHOWN:  # no such file can exist: show its ends only
            file = f"{file[:_LONGEST_SHOWN // 2]}...{file[-_LONGEST_SHOWN // 2:]}"
        return f"{file}:{self.line}:{self.column}"


# File names longer than this are shortened in messages (the kernel's PATH_MAX).
_LONGEST_SHOWN = 4096


class LsmsimError(Exception):
    """Base of every error lsmsim reports to a user (exit code 2)."""


class PolicyError(LsmsimError):
    """Bad policy input: the message names the file, line and column."""

    def __init__(self, message: str, position: Position | None = None):
        self.message = message
        self.position = position
        super().__init__(f"{position}: {message}" if position else message)


class UsageError(LsmsimError):
    """Bad command-line or API usage (unknown profile, missing option); where a file
    is at fault, the message starts with its position."""

    def __init__(self, message: str, position: Position | None = None):
        self.message = message
        self.position = position
        super().__init__(f"{position}: {message}" if position else message)


class PolicyWarning(UserWarning):
    """Something in the input a user should know about that does not stop the analysis
    (a file an include skipped); the message starts with ``file:line:col``."""


@contextmanager
def recorded_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """The warnings raised in the block, in a list, each raised again once the block
    ends: a cache keeps them to repeat when it answers in place of the work."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename,
                               warning.lineno)
