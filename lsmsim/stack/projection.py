"""A SELinux ancestor layer as a policy over the child's own labels.

In the ancestor, every task of the child layer runs as the ancestor's ``subject`` and
every object carries the label the stack's ``object_labels`` give it. So for each
child type ``t`` and class ``c`` the ancestor grants exactly the vector it computes for
``(subject, label(t), c)``. Written as allow rules over the child's types, that vector
is a policy the child can be checked against with the ordinary SELinux check: the
projection is exact, not an approximation, for the booleans the layer runs with (its
``booleans``, the policy's defaults otherwise).
"""
from __future__ import annotations

from collections import defaultdict
from itertools import product
from typing import Callable

from ..model.selinux import AVRule, Context, SELinuxPolicy, TypeSet
from ..simulate.selinux import booleans_of, compute_av
from .stack import Layer

def project_ancestor(child: SELinuxPolicy, ancestor: Layer,
                     parent_view: Callable[[str, str, str], list | None]) -> SELinuxPolicy:
    """``ancestor``'s decisions for the child's tasks, as rules over ``child``'s types.
    ``parent_view(type, class, perm)`` gives the (context, class, perm) triples the
    ancestor checks for that child access (``None``: the object has no label there)."""
    policy, subject = ancestor.policy, ancestor.context
    values = booleans_of(policy, ancestor.booleans)
    permissive = policy.canonical_type(subject.type) in policy.permissive
    vectors: dict[tuple[Context, str], frozenset[str]] = {}

    def granted(label: Context, tclass: str) -> frozenset[str]:
        if (label, tclass) not in vectors:
            vectors[(label, tclass)] = (
                frozenset(policy.classes.get(tclass, ())) if permissive else
                compute_av(policy, subject, label, tclass, values).granted)
        return vectors[(label, tclass)]

    targets: dict[tuple[str, frozenset[str]], set[str]] = defaultdict(set)
    for type_name, tclass in product(child.types, sorted(child.classes)):
        perms = set()
        for perm in child.classes[tclass]:
            view = parent_view(type_name, tclass, perm)
            if view is not None and all(p in granted(label, c) for label, c, p in view):
                perms.add(perm)
        if perms:
            targets[(tclass, frozenset(perms))].add(type_name)
    everyone = TypeSet(frozenset(child.types))
    rules = tuple(AVRule("allow", everyone, TypeSet(frozenset(types)), ((tclass, perms),))
                  for (tclass, perms), types in sorted(targets.items(),
                                                       key=lambda item: item[0][0]))
    roles = set(child.roles)
    return SELinuxPolicy(
        file=policy.file, classes=child.classes, types=child.types, attributes={},
        aliases=child.aliases, booleans={}, rules=rules, roles=child.roles,
        # Every task of the child layer has the same role in the ancestor.
        role_allows=frozenset(product(roles, roles)), users=child.users,
        sensitivities=child.sensitivities, categories=child.categories,
        sensitivity_categories=child.sensitivity_categories, mls=child.mls,
        files_read=policy.files_read)
