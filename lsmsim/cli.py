"""lsmsim: prove a nested LSM policy stays within its parent policy.

The command line (DESIGN §2): argument parsing, the API, a reporter, an exit code.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from pathlib import Path

from . import __version__
from .errors import LsmsimError, PolicyWarning, UsageError, recorded_warnings
from .interrupt import solver_interrupts
from .batch import many_children
from .report import FORMAT_NAMES

EXIT_USAGE = 2
EXIT_UNDECIDED = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

EXIT_CODES = """exit codes:
  0    the child is proven within the parent (simulate: every access allowed)
  1    expansions found (simulate: some access denied)
  2    usage or input error: one line, file:line:col: message
  3    undecided (budget or unsupported construct); never reported as success
  4    internal error: a bug in lsmsim (--debug or LSMSIM_DEBUG=1 shows the traceback)
  130  interrupted (Ctrl-C)
  141  the reader of the output went away (as if killed by SIGPIPE)"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lsmsim", description=__doc__.splitlines()[0],
                                     epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"lsmsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="prove a child policy within its parent")
    _add_pair_arguments(
        check, "check", sorted([*FORMAT_NAMES, "junit"]),
        child="the child policy file, or a folder of them (repeatable: one report for "
              "every child)",
        engine="how AppArmor's string-matching classes are decided: automata (default, as "
               "the kernel matches) or z3 (the independent second engine)",
        budget="work bound for one whole check (automaton states; a solver query counts "
               "1,000); running out gives 'undecided'")
    check.add_argument("-j", "--jobs", type=int, metavar="N", help="worker processes for "
                       "many children (default: the CPU count); above 1, one check's "
                       "classes also run in two processes")
    check.add_argument("--baseline", metavar="FILE", help="an earlier JSON or SARIF result: "
                       "its findings are unchanged, only new ones fail")
    check.add_argument("--write-baseline", metavar="FILE",
                       help="also write this run's JSON result here (for --baseline)")
    check.add_argument("--bool", action="append", default=[], metavar="NAME=on|off",
                       dest="booleans", help="fix a SELinux boolean (repeatable; others "
                       "range over every value)")
    check.add_argument("--explain", action="store_true", help="also explain the verdict: "
                       "the parent rules covering each child rule, the closest parent rules "
                       "of each denial (AppArmor; text or json)")
    check.add_argument("--measure", action="store_true", help="also measure each file and "
                       "exec expansion: the canonical paths it covers, counted exactly "
                       "(AppArmor; one child and one parent)")
    check.add_argument("--measure-length", type=int, default=None, metavar="N",
                       help="count paths of at most N bytes (default 255; implies --measure)")
    check.add_argument("--paths", metavar="LISTING", help="a listing of real paths, one per "
                       "line (find / -xdev, scripts/make_path_listing.py): name those each "
                       "expansion exposes (implies --measure)")

    explain = sub.add_parser("explain", help="check, and show which parent rules cover each "
                             "child rule and which come closest to each denial (AppArmor)")
    _add_pair_arguments(
        explain, "explain", ["text", "json"], child="the child policy file",
        engine="how the check decides (the explanation is read off automata)",
        budget="work bound for the check and for the explanation's own search")
    explain.add_argument("-j", "--jobs", type=int, metavar="N", help="above 1, each pair's "
                         "classes run in two processes (default: when there are two CPUs)")

    simulate = sub.add_parser("simulate", help="decide concrete accesses at every layer of a "
                              "stack (exit 0: all allowed, 1: some denied)")
    simulate.add_argument("stack", help="a stack manifest (TOML)")
    simulate.add_argument("--request", action="append", default=[], metavar="REQUEST",
                          help="e.g. file:/etc/shadow:r, capability:sys_admin, "
                          "selinux:SCON:TCON:CLASS:PERM (repeatable)")
    simulate.add_argument("--requests", metavar="FILE", help="a batch of requests, one per line")
    simulate.add_argument("--layer", help="the layer the task runs in (default: the deepest)")
    simulate.add_argument("--after-exec", action="append", default=[], metavar="PATH",
                          help="programs the task ran first (repeatable, in order)")
    simulate.add_argument("--format", choices=["text", "json"], default="text")

    graph = sub.add_parser("graph", help="domain transitions of a policy, or a stack's "
                           "namespace tree with each layer's transitions")
    graph.add_argument("file", help="a policy file or a stack manifest (.toml)")
    graph.add_argument("-I", "--include", action="append", default=[], metavar="DIR")
    graph.add_argument("--lsm", choices=["apparmor", "selinux", "cil"])
    graph.add_argument("--format", choices=["dot", "json"], default="dot")
    graph.add_argument("--output", help="write the graph here instead of standard output")

    parse = sub.add_parser("parse", help="show the model a policy file becomes")
    parse.add_argument("file")
    parse.add_argument("-I", "--include", action="append", default=[], metavar="DIR")
    parse.add_argument("--lsm", choices=["apparmor", "selinux", "cil"])
    parse.add_argument("--format", choices=["text", "json"], default="text")

    fleet = sub.add_parser("fleet", help="check every pair of a JSONL file on a process pool "
                           "or a Dask cluster; results stream to a JSONL file, reruns resume")
    fleet.add_argument("pairs", help="PAIRS.jsonl: one {child, parent, include, ...} or "
                       "{stack} per line")
    fleet.add_argument("--results", metavar="FILE", help="where records go (default: "
                       "PAIRS.results.jsonl beside the pairs file)")
    fleet.add_argument("--executor", choices=["local", "dask"], default="local")
    fleet.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler "
                       "(default: a LocalCluster)")
    fleet.add_argument("-j", "--workers", type=int, metavar="N",
                       help="worker processes (default: the CPU count)")
    fleet.add_argument("--timeout", type=float, metavar="SECONDS",
                       help="wall-clock budget per pair (local executor)")
    fleet.add_argument("--rlimit", type=int, default=None,
                       help="Z3 resource limit per query (deterministic)")
    _add_debug(parser, sub)
    return parser


def _add_pair_arguments(command: argparse.ArgumentParser, verb: str, formats: list[str],
                        child: str, engine: str, budget: str) -> None:
    """The arguments ``check`` and ``explain`` share: the two policies (or a stack), how
    they are read, how the proof is bounded, and where the report goes."""
    command.add_argument("stack", nargs="?", help="a stack manifest (instead of "
                         "--child/--parent)")
    command.add_argument("--child", action="append", help=child)
    command.add_argument("--child-profile", help=f"profile of the child file to {verb}")
    command.add_argument("--parent", help="the parent policy file")
    command.add_argument("--parent-profile", help="profile of the parent file to check "
                         "against")
    command.add_argument("-I", "--include", action="append", default=[], metavar="DIR",
                         help="include root for AppArmor 'include <...>' (repeatable)")
    command.add_argument("--lsm", choices=["apparmor", "selinux", "cil"])
    command.add_argument("--format", choices=formats, default="text")
    command.add_argument("--output", help="write the report here instead of standard output")
    command.add_argument("--engine", choices=["automata", "z3"], default="automata",
                         help=engine)
    command.add_argument("--no-cache", action="store_true",
                         help="neither read nor write the cache of compiled policies "
                         "(~/.cache/lsmsim, or $LSMSIM_CACHE_DIR)")
    command.add_argument("--budget", type=int, default=None, metavar="N", help=budget)
    command.add_argument("--rlimit", type=int, default=None,
                         help="Z3 resource limit per query (deterministic)")


def _add_debug(parser: argparse.ArgumentParser, sub) -> None:
    """``--debug`` before or after the command name."""
    help_text = "show the traceback of an internal error (also LSMSIM_DEBUG=1)"
    parser.add_argument("--debug", action="store_true", help=help_text)
    for command in sub.choices.values():
        # SUPPRESS: a command's default must not overwrite a --debug given before it.
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help=help_text)


def _write(text: str, output: str | None) -> None:
    if output:
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as error:
            raise UsageError(f"cannot write {output}: {error.strerror}") from None
    else:
        sys.stdout.write(text)


def _is_stack(path: str) -> bool:
    return path.endswith(".toml")


def _bounds(args) -> dict:
    """The engine and work bounds ``check`` was given."""
    kwargs = {"rlimit": args.rlimit} if args.rlimit else {}
    if args.engine != "automata":
        kwargs["engine"] = args.engine
    if args.budget is not None:
        kwargs["budget"] = args.budget
    return kwargs


def _jobs(args) -> int:
    """Processes one check may use: ``--jobs``, else one per CPU."""
    if args.jobs is not None:
        return args.jobs
    from .batch import default_workers
    return default_workers()


def _measuring(args) -> bool:
    return args.measure or args.measure_length is not None or args.paths is not None


def _check(args) -> int:
    if _measuring(args) and (args.explain or args.stack or not args.child
                             or many_children(args.child)):
        raise LsmsimError("--measure needs one --child and one --parent, without --explain")
    if _measuring(args) and args.format not in ("text", "json"):
        raise LsmsimError(f"a measure is reported as text or json, not {args.format}")
    if args.explain:
        return _explain(args)
    if args.stack:
        if args.child or args.parent:
            raise LsmsimError("give either a stack manifest or --child/--parent, not both")
        from .batch import Run
        from .stack import check_stack, load_stack
        stack = load_stack(args.stack)
        result = check_stack(stack, jobs=_jobs(args), **_bounds(args))
        return _emit(Run.of_stack(result, stack), args)
    if not args.child or not args.parent:
        raise LsmsimError("check needs --child FILE and --parent FILE (or a stack manifest)")
    kwargs = _bounds(args)
    if args.booleans:
        kwargs["booleans"] = _booleans(args.booleans)
    if many_children(args.child):
        from .batch import check_children
        from .cache_dir import default_directory
        return _emit(check_children(args.child, args.parent, args.include, args.lsm,
                                    args.child_profile, args.parent_profile, kwargs,
                                    args.jobs,
                                    None if args.no_cache else str(default_directory())),
                     args)
    results, key = _stored_results(args, kwargs)
    stored = results.get(key) if results is not None else None
    if stored is not None:
        for message in stored.warnings:
            warnings.warn(PolicyWarning(message))
        report = stored.reports.get(args.format)
        if report is not None and not args.baseline and not args.write_baseline:
            from .batch.write import write_report
            write_report(report, args.output)
            return stored.exit_code
        from .batch import Run
        parent = None
        if args.format == "sarif":  # it names the parent's closest rules: the policy
            from . import api
            cache = _policy_cache()
            parent = api.load(args.parent, args.include, args.lsm, cache=cache)
            cache.save(None, parent)
        return _emit(Run.of_check(stored.result(), parent), args)
    from . import api
    from .batch import Run
    cache = None if args.no_cache else _policy_cache()
    with recorded_warnings() as caught:
        child = api.load(args.child[0], args.include, args.lsm, cache=cache)
        parent = api.load(args.parent, args.include, args.lsm, cache=cache)
        result = api.check(child, parent, args.child_profile, args.parent_profile,
                           cache=cache, jobs=_jobs(args), **kwargs)
    if results is not None:
        results.put(key, result, (child, parent),
                    [str(w.message) for w in caught if issubclass(w.category, PolicyWarning)])
    if _measuring(args):
        return _emit(_measured(result, child, parent, cache, args), args)
    return _emit(Run.of_check(result, parent), args)


def _stored_results(args, options: dict):
    """The cache of check results and this check's key in it; (None, None) where
    results are not kept: no cache, a measure, or a policy other than AppArmor (only
    AppArmor loads are keyed on every file they read)."""
    from .result_cache import ResultCache, keeps_results
    if args.no_cache or _measuring(args) or not keeps_results(
            args.child[0], args.parent, args.lsm, args.booleans):
        return None, None
    key = ResultCache.key(args.child[0], args.parent, args.include,
                          {**options, "child_profile": args.child_profile,
                           "parent_profile": args.parent_profile})
    return ResultCache(), key


def _measured(result, child, parent, cache, args):
    """The check's run with each denial's measure under it (text) or in it (JSON)."""
    from .batch import Run
    from . import api
    from .batch.pairs import pairs_of_check
    from .report.json_report import result_to_dict
    from .report.measure import add_measures, measure_lines
    from .report.text import result_to_text
    measures = api.measure(result, child, parent, args.child_profile, args.parent_profile,
                           args.measure_length, args.paths, cache)
    return Run(pairs_of_check(result),
               lambda: result_to_text(result, [measure_lines(m) for m in measures]),
               lambda: add_measures(result_to_dict(result), measures),
               lambda: pairs_of_check(result, parent))


def _explain(args) -> int:
    """``explain``, and ``check --explain``: the check's report with its explanation."""
    from . import api
    from .batch import Run, emit
    from .batch.pairs import pairs_of_check, pairs_of_stack
    from .report.explain_json import explanation_to_dict, stack_explanation_to_dict
    from .report.explain_text import explanation_to_text, stack_explanation_to_text
    if args.format not in ("text", "json"):
        raise LsmsimError(f"an explanation is reported as text or json, not {args.format}")
    if args.stack:
        if args.child or args.parent:
            raise LsmsimError("give either a stack manifest or --child/--parent, not both")
        from .stack import load_stack
        from .verify.explain_stack import explain_stack
        explained = explain_stack(load_stack(args.stack), **_bounds(args))
        run = Run(pairs_of_stack(explained.result), lambda: stack_explanation_to_text(explained),
                  lambda: stack_explanation_to_dict(explained))
    else:
        if not args.child or not args.parent:
            raise LsmsimError("explain needs --child FILE and --parent FILE (or a stack manifest)")
        if len(args.child) > 1 or many_children(args.child):
            raise LsmsimError("explain takes one --child policy file")
        if getattr(args, "booleans", None):
            raise LsmsimError("--bool applies to SELinux policies, which explain does not cover")
        cache = None if args.no_cache else _policy_cache()
        child = api.load(args.child[0], args.include, args.lsm, cache=cache)
        parent = api.load(args.parent, args.include, args.lsm, cache=cache)
        explanation = api.explain(child, parent, args.child_profile, args.parent_profile,
                                  cache=cache, jobs=_jobs(args), **_bounds(args))
        run = Run(pairs_of_check(explanation.result), lambda: explanation_to_text(explanation),
                  lambda: explanation_to_dict(explanation))
    return emit(run, args.format, args.output, getattr(args, "baseline", None),
                getattr(args, "write_baseline", None))


def _policy_cache():
    from .cache import PolicyCache
    return PolicyCache()


def _emit(run, args) -> int:
    from .batch import emit
    return emit(run, args.format, args.output, args.baseline, args.write_baseline)


def _simulate(args) -> int:
    # Each command imports what it needs: a start that loads everything costs more
    # than a small check.
    from .report.stack_report import simulation_to_text, simulations_to_json
    from .stack import load_stack, parse_request, read_requests, simulate
    stack = load_stack(args.stack)
    requests = [parse_request(text) for text in args.request]
    if args.requests:
        requests += [request for _, request in read_requests(args.requests)]
    if not requests:
        raise LsmsimError("simulate needs --request REQUEST or --requests FILE")
    results = [simulate(stack, request, args.layer, args.after_exec) for request in requests]
    if args.format == "json":
        sys.stdout.write(simulations_to_json(results))
    else:
        sys.stdout.write("".join(simulation_to_text(r) for r in results))
    return 0 if all(r.allowed for r in results) else 1


def _graph(args) -> int:
    from . import api
    from .graph import graph_to_dot, graph_to_json, stack_graph, transitions
    from .stack import load_stack
    if _is_stack(args.file):
        stack = load_stack(args.file)
        graph, name = stack_graph(stack), stack.name
    else:
        policy = api.load(args.file, args.include, args.lsm)
        graph, name = transitions(policy), policy.file
    _write(graph_to_dot(graph, name) if args.format == "dot" else graph_to_json(graph),
           args.output)
    return 0


def _booleans(items: list[str]) -> dict[str, bool]:
    values = {"on": True, "true": True, "1": True, "off": False, "false": False, "0": False}
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        if not name or value.lower() not in values:
            raise LsmsimError(f"--bool {item!r}: expected NAME=on or NAME=off")
        out[name] = values[value.lower()]
    return out


def _parse(args) -> int:
    from . import api
    from .model.selinux import SELinuxPolicy
    from .report.model_json import policy_to_json, policy_to_text
    from .report.selinux_model import selinux_to_json, selinux_to_text
    policy = api.load(args.file, args.include, args.lsm)
    if isinstance(policy, SELinuxPolicy):
        sys.stdout.write(selinux_to_json(policy) if args.format == "json"
                         else selinux_to_text(policy))
        return 0
    sys.stdout.write(policy_to_json(policy) if args.format == "json" else policy_to_text(policy))
    return 0


def _fleet(args) -> int:
    from .fleet import default_results, run_fleet
    summary = run_fleet(args.pairs, args.results, args.executor, args.workers, args.scheduler,
                        {"rlimit": args.rlimit} if args.rlimit else {}, args.timeout)
    sys.stdout.write(summary.to_text(str(args.results or default_results(args.pairs))))
    return summary.exit_code


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit code follows DESIGN §2 (see ``EXIT_CODES``)."""
    try:
        return _run(argv)
    except KeyboardInterrupt:  # wherever it lands, even while cleaning up
        print("lsmsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(argv: list[str] | None) -> int:
    debug = os.environ.get("LSMSIM_DEBUG", "") not in ("", "0")
    with solver_interrupts() as interrupt, warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            args = _parser().parse_args(argv)
            debug = debug or args.debug
            return {"check": _check, "explain": _explain, "parse": _parse, "simulate": _simulate,
                    "graph": _graph, "fleet": _fleet}[args.command](args)
        except LsmsimError as error:
            print(f"lsmsim: {error}" if not getattr(error, "position", None) else str(error),
                  file=sys.stderr)
            return EXIT_USAGE
        except BrokenPipeError:
            # The reader of the output went away (``| head``): end as if by SIGPIPE.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_BROKEN_PIPE
        except Exception as error:  # noqa: BLE001 - a bug: one line, never a traceback
            if interrupt.received.is_set():
                # The solver's own "canceled" error, raised by the interrupt.
                raise KeyboardInterrupt from None
            if debug:
                traceback.print_exception(error, file=sys.stderr)
            print(internal_error_line(error), file=sys.stderr)
            return EXIT_INTERNAL


def internal_error_line(error: BaseException) -> str:
    """One line that names a crash as a bug: the exception and where it was raised
    (the innermost frame in lsmsim, or the innermost frame at all)."""
    frames = traceback.extract_tb(error.__traceback__)
    package = Path(__file__).resolve().parent
    ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(package)]
    frame = (ours or frames or [None])[-1]
    where = ""
    if frame is not None:
        path = Path(frame.filename).resolve()
        shown = path.relative_to(package.parent) if path.is_relative_to(package.parent) else path
        where = f" at {shown}:{frame.lineno} in {frame.name}"
    message = " ".join(str(error).split())[:200]
    return (f"lsmsim: internal error, a bug in lsmsim: {type(error).__name__}{where}"
            f"{': ' + message if message else ''} (rerun with --debug for the traceback)")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if issubclass(category, PolicyWarning):
        print(f"lsmsim: warning: {message}", file=sys.stderr)
    else:
        print(warnings.formatwarning(message, category, filename, lineno, line).rstrip(),
              file=sys.stderr)

if __name__ == "__main__":
    sys.exit(main())
