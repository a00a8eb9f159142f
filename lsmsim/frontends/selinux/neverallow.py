"""neverallow enforced as checkpolicy and secilc enforce it.

Both compilers refuse a policy when an ``allow`` rule (conditional or not, whatever
its booleans) grants a (source type, target type, class, permission) a ``neverallow``
of the same policy forbids. A type set is expanded once to an integer bitset over the
policy's types, so each (neverallow, allow) pair costs a few integer ``&``.
"""
from __future__ import annotations

from ...errors import PolicyError
from ...model.selinux import AVRule, SELinuxPolicy, TypeBits


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
    that breaks a neverallow of ``policy``, in the order the neverallows are written."""
    by_class: dict[str, list[tuple[AVRule, frozenset[str]]]] = {}
    for rule in policy.rules:
        if rule.kind == "allow":
            for tclass, perms in rule.perms:
                by_class.setdefault(tclass, []).append((rule, perms))
    bits = TypeBits(policy)
    for never in policy.rules:
        if never.kind != "neverallow":
            continue
        for tclass, forbidden in never.perms:
            for allow, perms in by_class.get(tclass, ()):
                both = perms & forbidden
                if not both:
                    continue
                pair = _overlap(bits, allow, never)
                if pair is not None:
                    yield never, allow, pair[0], pair[1], tclass, both


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


__all__ = ["check_neverallows", "violations"]
