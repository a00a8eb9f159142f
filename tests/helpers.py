"""Small helpers shared by the tests."""
from __future__ import annotations

import tempfile
from pathlib import Path

import lsmsim
from lsmsim.automata.dfa import START, LazyDFA
from lsmsim.automata.nfa import utf8


def load_text(text: str, include=(), name: str = "policy.aa") -> lsmsim.api.Policy:
    """Load AppArmor policy text through the real front end (via a temporary file)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text)
        return lsmsim.load(path, include=include)


def dfa_state(dfa: LazyDFA, text: str) -> int:
    """The state ``dfa`` is in after reading ``text`` (as the kernel's bytes)."""
    state = START
    for byte in utf8(text):
        state = dfa.row(state)[dfa.nfa.class_of[byte]]
    return state


def build_every_state(dfa: LazyDFA) -> int:
    """Build every row of ``dfa`` that can be reached; the number of states."""
    state = 0
    while state < len(dfa.sets):
        dfa.row(state)
        state += 1
    return len(dfa.sets)
