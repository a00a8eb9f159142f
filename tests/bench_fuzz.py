"""The long never-crash run: mutated real policies through every command.

    python -m tests.bench_fuzz [--inputs 2000] [--seed 1] [--bound 30] [--show 20]
                               [--only NAME] [--keep DIR]

Prints how many inputs ended in an internal error (exit 4 or any code outside the
contract), how many hung (no answer within the bound), how many tracebacks were
seen, the share of input errors (exit 2) that came as one positioned line, the exit
codes and the time taken. Exits 1 when any of those fall short of the contract.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from .fuzz_inputs import KINDS, Mutation, command_line, mutate, run_case, seed_bytes, seeds


def _mutations(rng: random.Random) -> tuple[Mutation, ...]:
    return tuple(Mutation(rng.choice(KINDS), rng.random(), rng.randrange(512))
                 for _ in range(rng.randint(1, 3)))


def run(inputs: int, seed: int, bound: float, show: int, only: str | None = None,
        keep: Path | None = None) -> int:
    rng = random.Random(seed)
    pool = [s for s in seeds() if only is None or only in s.name]
    exits: Counter[int] = Counter()
    failures: list[tuple[list[str], str, str]] = []
    hangs = crashes = tracebacks = input_errors = positioned = 0
    slowest = (0.0, [])
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for index in range(inputs):
            chosen = rng.choice(pool)
            command = rng.choice(chosen.commands)
            path = Path(folder) / f"{index}-{chosen.name}"
            path.write_bytes(mutate(seed_bytes(chosen), _mutations(rng)))
            argv = command_line(chosen, command, path)
            outcome = run_case(argv, bound)
            exits[outcome.exit_code] += 1
            slowest = max(slowest, (outcome.seconds, argv))
            hangs += outcome.timed_out
            crashes += not outcome.timed_out and outcome.exit_code not in (0, 1, 2, 3)
            tracebacks += "Traceback" in outcome.stdout + outcome.stderr
            if outcome.exit_code == 2:
                input_errors += 1
                positioned += outcome.positioned()
            if outcome.problems() and keep is not None:  # the input, to run again
                keep.mkdir(parents=True, exist_ok=True)
                path = path.replace(keep / path.name)
                argv = command_line(chosen, command, path)
            else:
                path.unlink()
            if outcome.problems():
                failures.append((argv, ", ".join(outcome.problems()),
                                 outcome.stderr.strip()[-300:]))
    seconds = time.perf_counter() - start
    share = 100.0 * positioned / input_errors if input_errors else 100.0
    print(f"inputs:              {inputs} ({len(pool)} seeds, seed {seed})")
    print(f"internal errors:     {crashes}")
    print(f"hangs (> {bound:g} s):     {hangs}")
    print(f"tracebacks:          {tracebacks}")
    print(f"exit 2 positioned:   {positioned}/{input_errors} ({share:.1f}%)")
    print("exit codes:          " + ", ".join(f"{c}: {n}" for c, n in sorted(exits.items())))
    print(f"time:                {seconds:.1f} s ({1000 * seconds / inputs:.0f} ms per input; "
          f"slowest {slowest[0]:.1f} s: {' '.join(slowest[1])})")
    for argv, problem, stderr in failures[:show]:
        print(f"\n{problem}: lsmsim {' '.join(argv)}\n  {stderr}")
    return 0 if not crashes and not hangs and not tracebacks and share >= 99.0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bound", type=float, default=30.0, help="seconds per input")
    parser.add_argument("--show", type=int, default=20, help="failures to print")
    parser.add_argument("--only", help="only the seeds whose file name holds this")
    parser.add_argument("--keep", type=Path, help="keep the inputs that fail here")
    args = parser.parse_args()
    return run(args.inputs, args.seed, args.bound, args.show, args.only, args.keep)


if __name__ == "__main__":
    sys.exit(main())
