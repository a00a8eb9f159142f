"""Never crash, never hang: mutated real policies through every command.

Each example takes a real input (shipped models, small SELinux policies, stack
manifests, installed profiles), applies a few byte-level mutations and runs one
command in this process. Whatever the input, the answer must be an exit code of the
contract (0-3, never 4), no traceback, one positioned line for an input error, and an
answer within the bound. The examples are fixed (``derandomize``); the long run is
``python -m tests.bench_fuzz``.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .fuzz_inputs import KINDS, Mutation, command_line, mutate, run_case, seed_bytes, seeds

SEEDS = seeds()
BOUND_SECONDS = 20.0

mutations = st.builds(Mutation, st.sampled_from(KINDS), st.floats(0, 1), st.integers(0, 511))


def _assert_contract(seed, command, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzzed-{seed.name}"
        path.write_bytes(data)
        argv = command_line(seed, command, path)
        outcome = run_case(argv, BOUND_SECONDS)
    assert not outcome.problems(), (outcome.problems(), argv, outcome.exit_code,
                                    outcome.stderr[-2000:])


@settings(max_examples=500, derandomize=True, deadline=None, database=None,
          phases=(Phase.explicit, Phase.generate, Phase.shrink),
          suppress_health_check=list(HealthCheck))
@given(seed=st.sampled_from(SEEDS), choice=st.integers(0, 2),
       edits=st.lists(mutations, min_size=1, max_size=3))
def test_mutated_inputs_get_an_answer_of_the_contract(seed, choice, edits):
    command = seed.commands[choice % len(seed.commands)]
    _assert_contract(seed, command, mutate(seed_bytes(seed), tuple(edits)))


def test_every_seed_unmutated_is_answered():
    """The seeds themselves: every command of every seed keeps the contract."""
    for seed in SEEDS:
        for command in seed.commands[:1]:
            _assert_contract(seed, command, seed_bytes(seed))
