"""lsmsim decides as libsepol does on Debian's reference policy: 10,000 random
(source, target, class, permission) requests for each of two boolean settings (the
policy's defaults, and every boolean flipped), half drawn from the policy's own allow
rules so that both answers occur often, decided by lsmsim's simulator and by
``sepol_compute_av`` on secilc's binary of the same CIL with those booleans."""
from __future__ import annotations

import random
import re
import shutil

import pytest

from lsmsim.frontends.selinux import load_cil
from lsmsim.model.selinux import OBJECT_R, Context, Level, Range, SELinuxRequest
from lsmsim.simulate.selinux import decide

from .bench_selinux import Unavailable, debian_policy_cil
from .selinux_oracle import Libsepol, secilc

REQUESTS = 10_000
USER, ROLE = "system_u", "system_r"


@pytest.fixture(scope="module")
def debian():
    try:
        cil = debian_policy_cil()
    except Unavailable as error:
        pytest.skip(f"Debian's policy cannot be fetched or converted here: {error}")
    return cil, load_cil(cil)


def _flipped_copy(cil, out):
    """The CIL with every boolean's default flipped."""
    out.mkdir()
    for source in sorted(cil.glob("*.cil")):
        text = re.sub(r"\(boolean (\S+) (true|false)\)",
                      lambda m: f"(boolean {m[1]} {'false' if m[2] == 'true' else 'true'})",
                      source.read_text())
        (out / source.name).write_text(text)
    return out


def _level(rng: random.Random, categories) -> Range:
    cats = frozenset(rng.sample(categories, rng.choice((0, 1, 2, 2, 3))))
    return Range(Level("s0", cats), Level("s0", cats))


def _requests(policy, rng: random.Random) -> list[SELinuxRequest]:
    domains = sorted(policy.roles[ROLE])
    types = list(policy.types)
    categories = list(policy.categories[:16])
    rules = [r for r in policy.allow_rules() if r.perms]

    def members(type_set, fallback):
        names = sorted(type_set.names)
        if not names:
            return fallback
        name = rng.choice(names)
        found = sorted(policy.attributes.get(name, (name,)))
        return rng.choice(found) if found else fallback

    out = []
    while len(out) < REQUESTS:
        if len(out) % 2:
            rule = rng.choice(rules)
            tclass, perms = rng.choice(rule.perms)
            stype = members(rule.sources, rng.choice(domains))
            ttype = stype if rule.targets.self_ and not rule.targets.names \
                else members(rule.targets, rng.choice(types))
            perm = rng.choice(sorted(perms))
        else:
            tclass = rng.choice(sorted(policy.classes))
            if not policy.classes[tclass]:
                continue
            perm = rng.choice(sorted(policy.classes[tclass]))
            stype, ttype = rng.choice(domains), rng.choice(types)
        if stype not in policy.roles[ROLE]:
            continue  # a subject context must be one the policy accepts
        if tclass == "process":
            if ttype not in policy.roles[ROLE]:
                ttype = rng.choice(domains)
            target = Context(USER, ROLE, ttype, _level(rng, categories))
        else:
            target = Context(USER, OBJECT_R, ttype, _level(rng, categories))
        out.append(SELinuxRequest(Context(USER, ROLE, stype, _level(rng, categories)), target,
                                  tclass, perm))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("setting", ["defaults", "flipped"])
def test_decisions_agree_with_libsepol(debian, tmp_path, setting):
    cil, policy = debian
    if shutil.which("secilc") is None:
        pytest.skip("secilc is not installed (Debian package secilc)")
    booleans = dict(policy.booleans)
    if setting == "flipped":
        cil = _flipped_copy(cil, tmp_path / "flipped")
        booleans = {name: not value for name, value in booleans.items()}
    sepol = Libsepol(secilc(sorted(cil.glob("*.cil")), tmp_path / "policy.bin", "-M", "true"))
    values = tuple(booleans.items())
    rng = random.Random(f"lsmsim-{setting}")
    disagreements, allowed = [], 0
    for request in _requests(policy, rng):
        request = SELinuxRequest(request.scontext, request.tcontext, request.tclass,
                                 request.perm, values)
        mine = request.perm in decide(policy, request).granted
        theirs = sepol.allowed(str(request.scontext), str(request.tcontext), request.tclass,
                               request.perm)
        allowed += theirs
        if mine != theirs:
            disagreements.append((str(request.scontext), str(request.tcontext),
                                  request.tclass, request.perm, theirs))
    assert not disagreements, (len(disagreements), disagreements[:5])
    # Both answers are common, so agreement says something.
    assert REQUESTS // 10 < allowed < REQUESTS - REQUESTS // 10, allowed
