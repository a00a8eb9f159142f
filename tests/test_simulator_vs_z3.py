"""The simulator and the Z3 encoding share one meaning of every rule: for random
profiles and random concrete requests, substituting the request into the formula
gives the simulator's decision."""
from __future__ import annotations

import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from lsmsim.model.names import CAPABILITIES, NETWORK_FAMILIES, PROTOCOLS, SOCKET_TYPES
from lsmsim.model.requests import CapabilityRequest, NetworkRequest
from lsmsim.model.rules import CapabilityRule, FileRule, Half, NetworkRule
from lsmsim.simulate import decide, file_permissions
from lsmsim.verify.encoders import CapabilitySpace, FileSpace, NetworkSpace

from .helpers import load_text
from .mount_strategies import mount_requests, mount_rule_lines
from .strategies import ipc_lines, paths, profiles


def _holds(formula) -> bool:
    value = z3.simplify(formula)
    assert z3.is_true(value) or z3.is_false(value), value
    return z3.is_true(value)


@settings(max_examples=120, deadline=None)
@given(profiles(), st.lists(paths(), min_size=1, max_size=5))
def test_file_permissions_agree(text, requests):
    profile = load_text(text).profiles[0]
    rules = profile.rules_of(FileRule)
    space = FileSpace()
    from lsmsim.model.requests import FileRequest
    for path in requests:
        for half in Half:
            owner = half is Half.OWNER
            granted = file_permissions(profile, path, owner)
            for letter in "rwakmx":  # 'l' alone is a link rule's: see test_links_agree
                formula = space.substitute(space.allows(rules, letter, half),
                                           FileRequest(path, frozenset(letter), owner))
                assert _holds(formula) == (letter in granted), (path, half, letter)


cap_rules = st.lists(st.tuples(st.booleans(), st.sets(st.sampled_from(CAPABILITIES[:8]),
                                                       max_size=3)), min_size=1, max_size=5)


@settings(max_examples=100, deadline=None)
@given(cap_rules, st.sampled_from(CAPABILITIES[:10]))
def test_capabilities_agree(rules, name):
    from lsmsim.model.policy import Profile
    profile = Profile("t", tuple(CapabilityRule(frozenset(n) or frozenset(CAPABILITIES), deny)
                                 for deny, n in rules))
    space = CapabilitySpace()
    request = CapabilityRequest(name)
    formula = space.substitute(space.allows(profile.rules_of(CapabilityRule)), request)
    assert _holds(formula) == decide(profile, request).allowed


families = st.sampled_from([None, "inet", "inet6", "unix", "packet"])
types = st.sampled_from([None, *SOCKET_TYPES])
protocols = st.sampled_from([None, *PROTOCOLS])


@st.composite
def network_rule(draw):
    proto = draw(protocols)
    return NetworkRule(draw(families), None if proto else draw(types), proto, draw(st.booleans()))


@st.composite
def network_request(draw):
    proto = draw(protocols)
    sock_type = draw(st.sampled_from(PROTOCOLS[proto][1])) if proto else draw(
        st.sampled_from(list(SOCKET_TYPES)))
    family = draw(st.sampled_from([f for f in ("inet", "inet6", "unix", "packet", "netlink")
                                   if f in NETWORK_FAMILIES]))
    return NetworkRequest(family, sock_type, proto)


@settings(max_examples=150, deadline=None)
@given(st.lists(network_rule(), min_size=1, max_size=5), network_request())
def test_network_agrees(rules, request):
    from lsmsim.model.policy import Profile
    profile = Profile("t", tuple(rules))
    space = NetworkSpace()
    formula = space.substitute(space.allows(profile.rules_of(NetworkRule)), request)
    assert _holds(z3.And(formula, space.substitute(space.domain(), request)))\
        == decide(profile, request).allowed


PEERS = ["libvirtd", "libvirt-1", "libvirt-", "unconfined", "a/b", "x"]
PEER_GLOBS = [None, "libvirtd", "libvirt-*", "*", "**", "{a,x}", "a/*", "unconfined"]


@st.composite
def signal_rules(draw):
    from lsmsim.model.glob import Glob
    from lsmsim.model.names import SIGNAL_PERMS, SIGNALS
    from lsmsim.model.rules import SignalRule
    perms = draw(st.sets(st.sampled_from(SIGNAL_PERMS), min_size=1))
    signals = draw(st.sets(st.sampled_from(SIGNALS[:6]), max_size=3)) or set(SIGNALS)
    peer = draw(st.sampled_from(PEER_GLOBS))
    return SignalRule(frozenset(perms), frozenset(signals), Glob.parse(peer) if peer else None,
                      draw(st.booleans()))


@settings(max_examples=150, deadline=None)
@given(st.lists(signal_rules(), min_size=1, max_size=4), st.sampled_from(["send", "receive"]),
       st.sampled_from(["hup", "int", "kill", "term"]), st.sampled_from(PEERS))
def test_signal_agrees(rules, perm, signal, peer):
    from lsmsim.model.policy import Profile
    from lsmsim.model.requests import SignalRequest
    from lsmsim.model.rules import SignalRule
    from lsmsim.verify.encoders import SignalSpace
    profile = Profile("t", tuple(rules))
    space, request = SignalSpace(), SignalRequest(perm, signal, peer)
    formula = space.substitute(space.allows(profile.rules_of(SignalRule)), request)
    assert _holds(formula) == decide(profile, request).allowed


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sets(st.sampled_from(["read", "trace", "readby", "tracedby"]),
                                  min_size=1), st.sampled_from(PEER_GLOBS), st.booleans()),
                min_size=1, max_size=4),
       st.sampled_from(["read", "trace", "readby", "tracedby"]), st.sampled_from(PEERS))
def test_ptrace_agrees(rules, perm, peer):
    from lsmsim.model.glob import Glob
    from lsmsim.model.policy import Profile
    from lsmsim.model.requests import PtraceRequest
    from lsmsim.model.rules import PtraceRule
    from lsmsim.verify.encoders import PtraceSpace
    profile = Profile("t", tuple(PtraceRule(frozenset(p), Glob.parse(g) if g else None, deny)
                                 for p, g, deny in rules))
    space, request = PtraceSpace(), PtraceRequest(perm, peer)
    formula = space.substitute(space.allows(profile.rules_of(PtraceRule)), request)
    assert _holds(formula) == decide(profile, request).allowed


IPC_VALUES = ["session", "system", "/org/a", "org.a", "Hello", "libvirtd", "@a", "@b1",
              "stream", "dgram", ""]


@settings(max_examples=150, deadline=None)
@given(st.lists(ipc_lines(), min_size=1, max_size=4), st.sampled_from(["dbus", "unix"]),
       st.data())
def test_ipc_agrees(lines, kind, data):
    from lsmsim.model.names import IPC_CLASSES
    from lsmsim.model.requests import IpcRequest
    from lsmsim.model.rules import IpcRule
    from lsmsim.verify.encoders import IpcSpace
    profile = load_text("profile t {\n  " + "\n  ".join(lines) + "\n}\n").profiles[0]
    shape = IPC_CLASSES[kind]
    request = IpcRequest(kind, data.draw(st.sampled_from(shape.perms)), tuple(
        (f, data.draw(st.sampled_from(IPC_VALUES))) for f in shape.all_fields))
    space = IpcSpace(kind)
    formula = space.substitute(space.allows(profile.rules_of(IpcRule)), request)
    assert _holds(formula) == decide(profile, request).allowed


@settings(max_examples=200, deadline=None)
@given(st.lists(mount_rule_lines(), min_size=1, max_size=4), st.lists(st.booleans(), max_size=4),
       mount_requests())
def test_mount_agrees(lines, denies, request):
    from lsmsim.errors import PolicyError
    from lsmsim.model.mount import MountRule
    from lsmsim.verify.mount_space import MountSpace
    lines = [("deny " if deny else "") + line for line, deny in zip(lines, denies + [False] * 4)]
    try:
        profile = load_text("profile t {\n  " + "\n  ".join(lines) + "\n}\n").profiles[0]
    except PolicyError:
        return
    space = MountSpace()
    formula = space.substitute(space.allows(profile.rules_of(MountRule)), request)
    assert _holds(formula) == decide(profile, request).allowed, (lines, request)


LINK_LINES = ["link /a -> /b,", "link subset /a* -> /**,", "owner link /{a,b} -> /c/*,",
              "other link subset /** -> /a,", "deny link /a -> /b*,", "/a* l,", "owner /b l,",
              "deny /c/** l,", "l subset /ab -> /b,", "/a rwl,", "/b* ix,", "/** px,", "/ab Ux,"]


@settings(max_examples=150, deadline=None)
@given(profiles(), st.lists(st.sampled_from(LINK_LINES), min_size=1, max_size=4),
       st.lists(st.tuples(paths(), paths(), st.booleans()), min_size=1, max_size=4))
def test_links_agree(text, lines, requests):
    from lsmsim.model.link import LinkRequest, LinkRule
    from lsmsim.verify.link_space import LinkSpace
    body = text[text.index("{") + 1:text.rindex("}")]
    try:
        profile = load_text("profile t {\n" + body + "\n  " + "\n  ".join(lines) + "\n}\n"
                            ).profiles[0]
    except Exception as error:  # conflicting exec modes: the parser refuses those too
        assert "conflicting x" in str(error)
        return
    space = LinkSpace()
    files = list(profile.rules_of(FileRule))
    for link, target, owner in requests:
        request = LinkRequest(link, target, owner)
        half = Half.OWNER if owner else Half.OTHER
        formula = space.permits(list(profile.rules_of(LinkRule)), files, files, half)
        assert _holds(space.substitute(formula, request)) == decide(profile, request).allowed, \
            (request, lines)


CHANGE_LINES = ["change_profile,", "change_profile -> foo,", "change_profile /bin/* -> f*,",
                "change_profile unsafe /bin/a -> &bar,", "deny change_profile -> foo,",
                "deny change_profile /bin/b -> **,", "change_profile -> :ns:*,",
                "deny change_profile /bin/{a,c} -> /bin/*,", "change_profile /** -> /bin/a,"]
LABELS = ["foo", "fa", "&bar", "bar", ":ns:foo", "/bin/a", "/bin/b", "unconfined"]
EXECS = [None, "/bin/a", "/bin/b", "/bin/c", "/usr/x"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(CHANGE_LINES), min_size=1, max_size=4),
       st.sampled_from(LABELS), st.sampled_from(EXECS))
def test_change_profile_agrees(lines, target, exec_path):
    from lsmsim.model.change_profile import ChangeProfileRequest, ChangeProfileRule
    from lsmsim.verify.change_profile_space import ChangeProfileSpace
    profile = load_text("profile t {\n  " + "\n  ".join(lines) + "\n}\n").profiles[0]
    space, request = ChangeProfileSpace(), ChangeProfileRequest(target, exec_path)
    formula = space.substitute(space.allows(profile.rules_of(ChangeProfileRule)), request)
    assert _holds(formula) == decide(profile, request).allowed, (request, lines)
