"""AppArmor labels as a task names them (``[&][:NS:]NAME``, children as ``a//b``),
looked up in a policy."""
from __future__ import annotations

from dataclasses import dataclass

from .policy import Policy, Profile

UNCONFINED = "unconfined"


@dataclass(frozen=True)
class Label:
    """A label split into its parts: ``stack`` for a leading ``&``, the namespace
    (None for the current one) and the hierarchical profile name."""

    stack: bool
    namespace: str | None
    name: str

    @staticmethod
    def parse(text: str) -> "Label":
        stack = text.startswith("&")
        text = text.removeprefix("&")
        namespace = None
        if text.startswith(":"):
            namespace, colon, rest = text[1:].partition(":")
            if colon:
                text = rest.removeprefix("//")  # ":ns://name" is ":ns:name"
            else:
                namespace, text = None, ":" + text[1:]
        return Label(stack, namespace, text)

    @property
    def key(self) -> str:
        """The label without its stack mark, namespaces written ``:NS:NAME``."""
        return f":{self.namespace}:{self.name}" if self.namespace is not None else self.name

    @property
    def unconfined(self) -> bool:
        """The namespace's unconfined profile (``:NS:`` alone names it too)."""
        return self.name in (UNCONFINED, "")


def profiles_by_label(policy: Policy) -> dict[str, Profile]:
    """Every profile of ``policy`` (children and hats as ``parent//child``) by the
    label a task would name it with."""
    out: dict[str, Profile] = {}

    def walk(profile: Profile, prefix: str) -> None:
        key = Label.parse(prefix + profile.name).key if not prefix else prefix + profile.name
        out.setdefault(key, profile)
        for child in profile.children:
            walk(child, key + "//")

    for profile in policy.profiles:
        walk(profile, "")
    return out


def resolve(policy: Policy, label: str) -> Profile | str | None:
    """The profile ``label`` names in ``policy``, :data:`UNCONFINED`, or None when the
    policy defines no such profile."""
    parsed = Label.parse(label)
    if parsed.unconfined:
        return UNCONFINED
    return profiles_by_label(policy).get(parsed.key)


def label_of(policy: Policy, profile: Profile) -> str:
    """The label a task running under ``profile`` (found by identity) shows."""
    for key, found in profiles_by_label(policy).items():
        if found is profile:
            return key
    return profile.name
