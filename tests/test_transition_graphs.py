"""Domain-transition graphs: AppArmor's from the exec modes, SELinux's against setools'
own domain transition analysis on the compiled policy."""
from __future__ import annotations

import networkx as nx

import lsmsim
from lsmsim.graph import transitions

from .conftest import MODELS
from .helpers import load_text
from .selinux_oracle import compile_policy, setools

POLICY = """
profile web /usr/bin/web {
  /usr/bin/helper ix,
  /usr/bin/tool px,
  /usr/bin/named px -> other,
  /usr/bin/gone pix -> nowhere,
  /usr/bin/shell ux,
  /usr/bin/child cx,
  /usr/bin/kid cx -> kid,
  profile kid { }
  profile sub /usr/bin/child { }
  ^hat { }
}
profile other { }
profile tool /usr/bin/tool { }
"""


def _edges(graph) -> set[tuple[str, str, str]]:
    return {(s, t, d["mode"]) for s, t, d in graph.edges(data=True)}


def test_apparmor_edges_follow_each_exec_mode():
    graph = transitions(load_text(POLICY))
    assert _edges(graph) == {
        ("web", "web", "ix"), ("web", "tool", "px"), ("web", "other", "px -> other"),
        ("web", "web", "pix -> nowhere"), ("web", "unconfined", "ux"),
        ("web", "web//sub", "cx"), ("web", "web//kid", "cx -> kid"),
        ("web", "web//hat", "change_hat")}
    assert graph.nodes["unconfined"]["kind"] == "unconfined"
    assert graph.nodes["web//hat"]["kind"] == "hat"
    assert nx.has_path(graph, "web", "unconfined")


def test_selinux_edges_equal_setools_domain_transition_analysis(tmp_path):
    tools = setools()
    for name in ("ns-container-expands.conf", "ns-container.conf", "svirt-parent.conf"):
        source = MODELS / "selinux" / name
        compiled = tools.SELinuxPolicy(str(compile_policy(source, tmp_path / f"{name}.bin")))
        analysis = tools.DomainTransitionAnalysis(compiled)
        expected = {(str(t.source), str(t.target)) for domain in compiled.types()
                    for t in analysis.transitions(domain)}
        graph = transitions(lsmsim.load(source))
        assert {(s, t) for s, t in graph.edges()} == expected, name
