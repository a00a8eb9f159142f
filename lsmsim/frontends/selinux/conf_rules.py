"""The rule pass of the policy.conf builder: access rules, type rules, constraints,
bounds, role types, users and the statements kept as written."""
from __future__ import annotations

from ...model.selinux import (AVRule, Condition, Constraint, KeptStatement, TypeRule,
                              XpermRule)
from .conf_common import _LABELLING, _describe_kind, _err
from .parser import RawContext, Stmt


class RulePass:
    """Reads each rule with every name resolved."""

    def _rule(self, stmt: Stmt, condition: Condition | None) -> None:
        p, src = stmt.parts, stmt.source
        match stmt.kind:
            case "av_rule":
                kind = p[0]
                if kind == "auditdeny":
                    kind = "dontaudit"  # auditdeny is the inverse spelling of dontaudit
                if condition is not None and kind == "neverallow":
                    raise _err("neverallow is not allowed inside an 'if' block", src)
                if condition is not None:
                    self._check_booleans(condition.expr, src)
                sources = self._type_set(p[1], src, allow_self=False,
                                         allow_complement=kind == "neverallow")
                targets = self._type_set(p[2], src, allow_self=True,
                                         allow_complement=kind == "neverallow")
                perms = self._class_perm_sets(p[3], p[4], src)
                self.rules.append(AVRule(kind, sources, targets, perms, condition, src))
            case "xperm_rule":
                kind = p[0]
                if str(p[4]) != "ioctl":
                    raise _err(f"{p[0]}: only ioctl extended permissions are supported, "
                               f"not {p[4]}", src)
                never = kind == "neverallowxperm"
                sources = self._type_set(p[1], src, allow_self=False, allow_complement=never)
                targets = self._type_set(p[2], src, allow_self=True, allow_complement=never)
                for tclass in self._classes(p[3], src):
                    self.xperm_rules.append(XpermRule(kind, sources, targets, tclass, "ioctl",
                                                      p[5], src))
            case "role_allow":
                if p[0] != "allow":
                    raise _err(f"{p[0]} needs 'source target : class perms'", src)
                for a in self._roles(p[1], src):
                    for b in self._roles(p[2], src):
                        self.role_allows.add((a, b))
            case "type_rule":
                classes = tuple(self._classes(p[3], src))
                self.type_rules.append(TypeRule(
                    p[0], self._type_set(p[1], src, False, False),
                    self._type_set(p[2], src, True, False), classes,
                    self._type(str(p[4]), src, attributes=False),
                    str(p[5]).strip('"') if len(p) > 5 else None, condition, src))
            case "constrain" | "mlsconstrain":
                perms = self._class_perm_sets(p[0], p[1], src)
                expr = self._cexpr(p[2], src, mls=stmt.kind == "mlsconstrain")
                self.constraints.append(Constraint(perms, expr, stmt.kind == "mlsconstrain",
                                                   src))
            case "typebounds":
                bound = self._type(str(p[0]), src, attributes=False)
                for child in p[1]:
                    self.typebounds[self._type(child, src, attributes=False)] = bound
            case "permissive":
                self.permissive.add(self._type(str(p[0]), src, attributes=False))
            case "role_types":
                role = str(p[0])
                self.roles[role] |= self._expand_types(self._type_set(p[1], src, False, True))
            case "user_decl":
                self._user(stmt)
            case "sid_context" | "fs_use" | "genfscon" | "portcon" | "netifcon" | "nodecon":
                for part in p:
                    if isinstance(part, RawContext):
                        self._context(part)
                self.kept.append(KeptStatement(stmt.kind, src))
            case "type_decl" | "typealias" | "typeattribute" | "attribute" | "bool_decl" \
                    | "tunable_decl" | "class_decl" | "class_perms" | "common_decl" \
                    | "sensitivity" | "category" | "level_decl" | "role_decl" \
                    | "attribute_role" | "roleattribute" | "role_dominance":
                pass
            case kind if kind in _LABELLING:
                self.kept.append(KeptStatement(kind, src))
            case kind:
                raise _err(f"{_describe_kind(kind)} is not supported", src)
