"""The mediated AppArmor classes, one module each, and the one registry of them.

Every part of lsmsim that treats classes differently finds the class here: the
front end's builder (by rule keyword), the simulator's ``decide`` and request text
(by request type and class word), the containment checks (in registry order) and
the reporters. Adding a class is one module and one line of :data:`CLASSES`.

A class module imports the model only. The front end and the engines read this
registry themselves, so a class module imports the parts of them it names (its
statement builder, its checks) inside the function that uses them; importing the
registry, and with it ``import lsmsim``, stays as cheap as importing the model.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterator

from .base import Decision, RuleClass
from .capability import CAPABILITY
from .change_profile import CHANGE_PROFILE
from .exec_transition import EXEC
from .file import FILE
from .io_uring import IO_URING
from .ipc import IPC
from .link import LINK
from .mount import MOUNT_CLASS
from .mqueue import MQUEUE
from .network import NETWORK
from .ptrace import PTRACE
from .signal import SIGNAL
from .userns import USERNS


@dataclass(frozen=True)
class Registry:
    """The classes in the order their checks run (and their findings are listed)."""

    classes: tuple[RuleClass, ...]

    def __iter__(self) -> Iterator[RuleClass]:
        return iter(self.classes)

    @cached_property
    def _by_request(self) -> dict[type, RuleClass]:
        return {c.request: c for c in self.classes}

    @cached_property
    def _by_text_kind(self) -> dict[str, RuleClass]:
        return {kind: c for c in self.classes for kind in c.text_kinds}

    @cached_property
    def _by_keyword(self) -> dict[str, RuleClass]:
        return {word: c for c in self.classes for word in c.keywords}

    @cached_property
    def _by_rule(self) -> dict[type, RuleClass]:
        return {c.rule: c for c in self.classes if c.rule is not None}

    def of_request(self, request) -> RuleClass | None:
        """The class of a request (None for a request of no AppArmor class)."""
        return self._by_request.get(type(request))

    def of_text_kind(self, kind: str) -> RuleClass | None:
        """The class whose request text starts with ``kind``."""
        return self._by_text_kind.get(kind)

    def of_keyword(self, keyword: str) -> RuleClass | None:
        """The class whose rules start with ``keyword`` in policy text."""
        return self._by_keyword.get(keyword)

    def of_rule(self, rule) -> RuleClass | None:
        """The class that owns a rule's type (None for rules kept as text)."""
        return self._by_rule.get(type(rule))

    @property
    def text_kinds(self) -> tuple[str, ...]:
        return tuple(self._by_text_kind)

    def checks(self, engine: str) -> tuple:
        """Every class's checks on ``engine``, in registry order."""
        return tuple(check for c in self.classes for check in c.checks(engine))


CLASSES = Registry((FILE, EXEC, LINK, CAPABILITY, NETWORK, SIGNAL, PTRACE, IPC, MOUNT_CLASS,
                    USERNS, IO_URING, MQUEUE, CHANGE_PROFILE))

__all__ = ["CLASSES", "Decision", "Registry", "RuleClass"]
