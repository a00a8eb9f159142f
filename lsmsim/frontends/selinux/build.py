"""policy.conf statements → :class:`~lsmsim.model.selinux.SELinuxPolicy`: declarations first (as
checkpolicy's first pass), then rules, with every name looked up and every error
pointing at the statement that caused it.

The passes live in their own modules: :mod:`.conf_conditions` (if/optional/tunables),
:mod:`.conf_declare` (names), :mod:`.conf_rules` and :mod:`.conf_constraints` (rules),
:mod:`.conf_tables` (the tables and every lookup).
"""
from __future__ import annotations

from ...model.selinux import SELinuxPolicy
from .parser import Stmt
from .conf_conditions import ConditionPass
from .conf_constraints import ConstraintPass
from .conf_declare import DeclarationPass
from .conf_rules import RulePass
from .conf_tables import ConfTables


class PolicyBuilder(ConditionPass, DeclarationPass, RulePass, ConstraintPass, ConfTables):
    """Collects declarations, then resolves every rule against them."""

    # ------------------------------------------------------------------ driver
    def build(self, statements: tuple[Stmt, ...]) -> SELinuxPolicy:
        self.tunable_defaults = self._tunable_defaults(statements)
        flat = list(self._flatten(statements, None))
        for stmt, _ in flat:
            self._declare(stmt)
        self._declare_memberships(flat)
        for stmt, condition in flat:
            self._rule(stmt, condition)
        if self.dominance:
            order = self.dominance
        else:
            order = self.sensitivities
        return SELinuxPolicy(
            file=self.file,
            classes={c: self.classes.get(c, frozenset()) for c in self.class_order},
            types=tuple(self.types),
            attributes={a: frozenset(m) for a, m in self.attributes.items()},
            aliases=dict(self.aliases), booleans=dict(self.booleans), rules=tuple(self.rules),
            constraints=tuple(self.constraints), typebounds=dict(self.typebounds),
            permissive=frozenset(self.permissive),
            roles={r: frozenset(t) for r, t in self.roles.items()},
            role_allows=frozenset(self.role_allows), users=dict(self.users),
            role_dominance={r: frozenset(d) for r, d in self.role_dominance.items() if d},
            sensitivities=tuple(order), categories=tuple(self.categories),
            sensitivity_categories=dict(self.sens_cats), type_rules=tuple(self.type_rules),
            xperm_rules=tuple(self.xperm_rules), type_sources=dict(self.types), policycaps=frozenset(self.policycaps),
            kept=tuple(self.kept), mls=bool(self.sensitivities), files_read=(self.file,))
