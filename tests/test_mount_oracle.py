"""Mount-class rules against the real compiler (apparmor_parser 3.0.8).

For random mount, remount, umount and pivot_root rules (allow and deny), walking the
compiled policy DFA over the string the kernel matches for a request (see
:mod:`lsmsim.model.mount`) gives the simulator's decision, and both accept or both
refuse the profile. AppArmor 4 refuses some rules 3.0.8 accepts (conflicting flags
in one ``options=``) and accepts some 3.0.8 refuses (a lone source as the mount point
of a propagation change); lsmsim follows AppArmor 4 there, so those are left out.

Skipped, with the reason, where apparmor_parser or the corpus features file is absent.
"""
from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsmsim.errors import PolicyError
from lsmsim.model.rules import OtherRule
from lsmsim.simulate import decide

from .helpers import load_text
from .mount_strategies import MOUNT_PERMS, kernel_string, mount_requests, mount_rule_lines
from .oracle import apparmor_oracle as aa

pytestmark = aa.pytest_marks()

SETTINGS = settings(max_examples=max(200, int(os.environ.get("LSMSIM_ORACLE_EXAMPLES", "60"))),
                    deadline=None, suppress_health_check=[HealthCheck.too_slow])
_LONE_SOURCE_PROPAGATION = re.compile(r"(private|slave|shared|bindable)[^>]*\) [^-]*,$")


@SETTINGS
@given(st.lists(st.tuples(st.booleans(), mount_rule_lines()), min_size=1, max_size=4),
       st.lists(mount_requests(), min_size=10, max_size=30))
def test_decisions_equal_the_compiled_policy(rules, requests):
    lines = [("deny " if deny else "") + line for deny, line in rules]
    text = "profile p {\n  " + "\n  ".join(lines) + "\n}\n"
    try:
        compiled = aa.compile_profile(text)
    except aa.CompileTimeout:
        pytest.skip("apparmor_parser timed out")
    except aa.CompileError:
        compiled = None
    try:
        ours = load_text(text).profiles[0]
    except PolicyError as error:
        assert compiled is None or "conflicting flags" in str(error), (text, error)
        return
    if compiled is None:
        assert any(isinstance(r, OtherRule) for r in ours.rules) or any(
            _LONE_SOURCE_PROPAGATION.search(line) for line in lines), text
        return
    if any(isinstance(r, OtherRule) for r in ours.rules):
        return
    policydb = compiled.profile("p").policydb
    for request in requests:
        masks = policydb.walk(kernel_string(request))
        bit = MOUNT_PERMS[request.operation]
        truth = bool(masks.allow & bit) and not masks.deny & bit
        assert decide(ours, request).allowed is truth, (text, request, masks)
