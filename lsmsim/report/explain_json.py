"""The explanation as JSON: the result of DESIGN §3 with keys added, never renamed.
Each denial gains ``explanation`` (its closest parent rules); the document gains
``explanations``, one per pair of profiles checked, each listing the child rules with
an ``explanation`` object per rule."""
from __future__ import annotations

import json

from ..verify.explain import Explanation
from ..verify.explain_stack import StackExplanation
from .json_report import result_to_dict


def explanation_to_dict(explanation: Explanation) -> dict:
    document = result_to_dict(explanation.result)
    for entry, explained in zip(document["denials"], explanation.denials):
        entry["explanation"] = explained.to_json()
    document["explanations"] = [pair.to_json() for pair in explanation.pairs]
    return document


def explanation_to_json(explanation: Explanation) -> str:
    return json.dumps(explanation_to_dict(explanation), indent=2) + "\n"


def stack_explanation_to_dict(explained: StackExplanation) -> dict:
    """The stack document, each pair of AppArmor layers explained as above."""
    from .stack_report import stack_to_dict
    document = stack_to_dict(explained.result)
    for entry, explanation in zip(document["pairs"], explained.pairs):
        if explanation is not None:
            own = explanation_to_dict(explanation)
            entry["denials"] = own["denials"]
            entry["explanations"] = own["explanations"]
    return document


def stack_explanation_to_json(explained: StackExplanation) -> str:
    return json.dumps(stack_explanation_to_dict(explained), indent=2) + "\n"
