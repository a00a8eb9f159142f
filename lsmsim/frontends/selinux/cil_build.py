"""CIL files → :class:`SELinuxPolicy`, the way secilc builds one policy from many files.

Containers are expanded first (:mod:`.cil_expand`); tunables decide their branches;
then names are declared and every statement read. A name that does not resolve
inside an ``optional`` disables that optional (and those inside it), as secilc does;
when a disabled optional declared names, the passes run again without it.
"""
from __future__ import annotations

from ...errors import PolicyError
from ...model.selinux import SELinuxPolicy
from .cil_assemble import assemble
from .cil_declare import declare
from .cil_expand import Expander, Leaf, Optional
from .cil_names import Unresolved
from .cil_rules import DECLARATIONS, Facts, StatementReader
from .cil_values import Values


class CilBuilder:
    """Builds one policy from parsed CIL files (``files``: name → top-level items)."""

    def __init__(self, parsed: dict[str, tuple]):
        self.parsed = parsed

    def build(self, name: str) -> SELinuxPolicy:
        leaves = Expander().leaves(list(self.parsed.values()))
        disabled: set[Optional] = set()
        while True:
            is_disabled = _disabled_test(disabled)
            active = [leaf for leaf in leaves if leaf.optional is None
                      or not is_disabled(leaf.optional)] if disabled else leaves
            active = self._decide_tunables(active, disabled)
            if active is None:
                continue
            try:
                decls = declare(active)
            except Unresolved as error:
                self._disable(error, disabled)
                continue
            facts = Facts()
            reader = StatementReader(decls, facts)
            failed: set[Optional] = set()
            read = reader.read
            for leaf in active:
                optional = leaf.optional
                if optional is not None and optional in failed:
                    continue
                try:
                    read(leaf)
                except Unresolved as error:
                    if optional is None:
                        raise PolicyError(error.message, error.position) from None
                    failed.add(optional)
            if not failed:
                break
            disabled |= failed
            is_disabled = _disabled_test(disabled)
            if any(leaf.optional is not None and is_disabled(leaf.optional)
                   and leaf.node.head in DECLARATIONS for leaf in active):
                continue  # names went away: declare and read again
            facts.drop(is_disabled)
            break
        return assemble(name, tuple(self.parsed), decls, facts)

    def _decide_tunables(self, active: list[Leaf], disabled: set[Optional]):
        """Drop the statements of tunable branches not taken (tunables are fixed when
        the policy is compiled); None when an optional had to be disabled."""
        if not any(b.kind == "tunable" for leaf in active for b in leaf.branches):
            return active
        tunables = [leaf for leaf in active if leaf.node.head == "tunable"]
        try:
            decls = declare(tunables)
        except Unresolved as error:
            self._disable(error, disabled)
            return None
        values = Values(decls.symbols, [], [], {}, {})
        defaults = {n: d.value for n, d in decls.symbols.tables["tunables"].items()}
        out = []
        for leaf in active:
            keep = True
            for branch in leaf.branches:
                if branch.kind != "tunable":
                    continue
                try:
                    expr = values.condition(branch.expr, branch.scope, branch.node, "tunables")
                except Unresolved as error:
                    if leaf.optional is None:
                        raise PolicyError(error.message, error.position) from None
                    disabled.add(leaf.optional)
                    return None
                keep = keep and expr.evaluate(defaults) == branch.value
            if keep:
                out.append(leaf)
        return out

    @staticmethod
    def _disable(error: Unresolved, disabled: set[Optional]) -> None:
        leaf = getattr(error, "leaf", None)
        if leaf is None or leaf.optional is None:
            raise PolicyError(error.message, error.position) from None
        disabled.add(leaf.optional)


def _disabled_test(disabled: set[Optional]):
    """Whether an optional is disabled, itself or one around it (each optional decided
    once: a policy has thousands of statements per optional)."""
    decided: dict[Optional, bool] = {}

    def is_disabled(optional: Optional) -> bool:
        found = decided.get(optional)
        if found is None:
            found = decided[optional] = any(o in disabled for o in optional.chain())
        return found
    return is_disabled
