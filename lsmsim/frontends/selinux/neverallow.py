"""neverallow and neverallowxperm enforced as checkpolicy and secilc enforce them.

Both compilers refuse a policy when an ``allow`` rule (conditional or not, whatever
its booleans) grants a (source type, target type, class, permission) a ``neverallow``
of the same policy forbids. A ``neverallowxperm`` (CIL ``neverallowx``) on ioctl
commands is broken by an ``allow`` of the class's ``ioctl`` permission on a pair of
types that either has no ``allowxperm`` at all (then every command is allowed) or
whose ``allowxperm`` rules allow one of the forbidden commands. A type set is expanded
once to an integer bitset over the policy's types, so each pair of rules costs a few
integer ``&``.
"""
from __future__ import annotations

from ...errors import PolicyError
from ...model.selinux import AVRule, SELinuxPolicy, TypeBits, XpermRule


def _overlap(bits: TypeBits, allow: AVRule, never: AVRule) -> tuple[str, str] | None:
    """A (source, target) pair both rules cover, or None."""
    sources = bits.of(allow.sources) & bits.of(never.sources)
    if not sources:
        return None
    a_targets, n_targets = bits.of(allow.targets), bits.of(never.targets)
    common = a_targets & n_targets
    if common:
        return bits.first(sources), bits.first(common)
    # ``self`` pairs a source type with itself.
    for selfish in ((sources & n_targets) if allow.targets.self_ else 0,
                    (sources & a_targets) if never.targets.self_ else 0,
                    sources if allow.targets.self_ and never.targets.self_ else 0):
        if selfish:
            name = bits.first(selfish)
            return name, name
    return None


def violations(policy: SELinuxPolicy):
    """Yield (neverallow, allow, source, target, class, permissions) per allow rule
    that breaks a neverallow of ``policy``, in the order the neverallows are written
    (and the allow rules, for each)."""
    nevers = [rule for rule in policy.rules if rule.kind == "neverallow"]
    if not nevers:
        return
    bits = TypeBits(policy)
    # The allow rules by class, then by their target set (rules share the set of each
    # name): a neverallow's targets rule out most of a class's groups at once.
    by_class: dict[str, dict[int, tuple[int, bool, list]]] = {
        tclass: {} for never in nevers for tclass, _perms in never.perms}
    for index, rule in enumerate(policy.allow_rules()):
        targets = rule.targets
        for tclass, perms in rule.perms:
            groups = by_class.get(tclass)
            if groups is None:
                continue  # no neverallow on the class
            group = groups.get(id(targets))
            if group is None:
                group = groups[id(targets)] = (bits.of(targets), targets.self_, [])
            group[2].append((index, rule, perms))
    for never in nevers:
        never_sources, never_targets = bits.of(never.sources), bits.of(never.targets)
        never_self = never.targets.self_
        for tclass, forbidden in never.perms:
            found = []
            for targets, allow_self, members in by_class.get(tclass, {}).values():
                if not (targets & never_targets or allow_self or never_self):
                    continue
                for index, allow, perms in members:
                    if perms.isdisjoint(forbidden) or not bits.of(allow.sources) & never_sources:
                        continue
                    pair = _overlap(bits, allow, never)
                    if pair is not None:
                        found.append((index, allow, pair, perms & forbidden))
            found.sort(key=lambda item: item[0])
            for _index, allow, pair, both in found:
                yield never, allow, pair[0], pair[1], tclass, both


def _bits_of(bits: int):
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


def _pairs(bits: TypeBits, allow: AVRule, never: XpermRule):
    """Every (source, target) index pair both rules cover."""
    sources = bits.of(allow.sources) & bits.of(never.sources)
    a_targets, n_targets = bits.of(allow.targets), bits.of(never.targets)
    for s in _bits_of(sources):
        me = 1 << s
        common = (a_targets | (me if allow.targets.self_ else 0)) \
            & (n_targets | (me if never.targets.self_ else 0))
        for t in _bits_of(common):
            yield s, t


def xperm_violations(policy: SELinuxPolicy):
    """Yield (neverallowxperm, breaking rule, source, target, class, commands) per
    allow rule of ``ioctl`` that lets a forbidden ioctl command through: the breaking
    rule is that allow rule, or the allowxperm rule that allows the command."""
    nevers = [r for r in policy.xperm_rules if r.kind == "neverallowxperm"]
    if not nevers:
        return
    bits = TypeBits(policy)
    allowed_x = [r for r in policy.xperm_rules if r.kind == "allowxperm"]
    for never in nevers:
        relevant = [x for x in allowed_x if x.tclass == never.tclass
                    and x.operation == never.operation]
        for allow in policy.allow_rules():
            if never.operation not in allow.perms_for(never.tclass):
                continue
            for s, t in _pairs(bits, allow, never):
                written = [x for x in relevant if bits.of(x.sources) >> s & 1 and (
                    bits.of(x.targets) >> t & 1 or (x.targets.self_ and s == t))]
                # No allowxperm for the pair: the permission allows every command, and
                # the allow rule breaks the neverallowxperm; otherwise the allowxperm
                # that allows a forbidden command does (as the compilers report it).
                breaker = allow if not written else next(
                    (x for x in written if x.values & never.values), None)
                if breaker is not None:
                    forbidden = never.values & (breaker.values if written else -1)
                    yield (never, breaker, policy.types[s], policy.types[t], never.tclass,
                           forbidden)
                    break


def check_neverallows(policy: SELinuxPolicy) -> None:
    """Raise :class:`PolicyError` at the first allow rule that breaks a neverallow,
    naming both rules with their positions and one access they disagree on."""
    for never, allow, stype, ttype, tclass, perms in violations(policy):
        text = allow.source.text if allow.source else "allow rule"
        where = f"{never.source} ({never.source.text})" if never.source else "a neverallow"
        raise PolicyError(
            f"{text} breaks the neverallow at {where}: it allows {stype} {ttype}:{tclass} "
            f"{{ {' '.join(sorted(perms))} }}",
            allow.source.position if allow.source else None)
    for never, allow, stype, ttype, tclass, commands in xperm_violations(policy):
        text = allow.source.text if allow.source else "allowxperm rule"
        where = f"{never.source} ({never.source.text})" if never.source else "a neverallowxperm"
        first = (commands & -commands).bit_length() - 1
        raise PolicyError(
            f"{text} breaks the neverallowxperm at {where}: it allows {stype} "
            f"{ttype}:{tclass} ioctl {first:#06x}",
            allow.source.position if allow.source else None)


__all__ = ["check_neverallows", "violations", "xperm_violations"]
