"""lsmsim: prove a nested LSM policy stays within its parent policy.

The command line (DESIGN §2): argument parsing, the API, a reporter, an exit code.
"""
from __future__ import annotations

import argparse
import sys

from . import api
from .errors import LsmsimError
from .model.selinux import SELinuxPolicy
from .report import FORMATS
from .report.model_json import policy_to_json, policy_to_text
from .report.selinux_model import selinux_to_json, selinux_to_text

EXIT_USAGE = 2
EXIT_UNDECIDED = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lsmsim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="prove a child policy within its parent")
    check.add_argument("stack", nargs="?", help="a stack manifest (instead of --child/--parent)")
    check.add_argument("--child", help="the child policy file")
    check.add_argument("--child-profile", help="profile of the child file to check")
    check.add_argument("--parent", help="the parent policy file")
    check.add_argument("--parent-profile", help="profile of the parent file to check against")
    check.add_argument("-I", "--include", action="append", default=[], metavar="DIR",
                       help="include root for AppArmor 'include <...>' (repeatable)")
    check.add_argument("--lsm", choices=["apparmor", "selinux", "cil"])
    check.add_argument("--format", choices=sorted(FORMATS), default="text")
    check.add_argument("--output", help="write the report here instead of standard output")
    check.add_argument("--rlimit", type=int, default=None,
                       help="Z3 resource limit per query (deterministic)")
    check.add_argument("--bool", action="append", default=[], metavar="NAME=on|off",
                       dest="booleans", help="fix a SELinux boolean (repeatable; others "
                       "range over every value)")

    parse = sub.add_parser("parse", help="show the model a policy file becomes")
    parse.add_argument("file")
    parse.add_argument("-I", "--include", action="append", default=[], metavar="DIR")
    parse.add_argument("--lsm", choices=["apparmor", "selinux", "cil"])
    parse.add_argument("--format", choices=["text", "json"], default="text")
    return parser


def _write(text: str, output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


def _check(args) -> int:
    if args.stack:
        raise LsmsimError("stack manifests are not supported by this version; "
                          "use --child FILE --parent FILE")
    if not args.child or not args.parent:
        raise LsmsimError("check needs --child FILE and --parent FILE")
    child = api.load(args.child, args.include, args.lsm)
    parent = api.load(args.parent, args.include, args.lsm)
    kwargs = {"rlimit": args.rlimit} if args.rlimit else {}
    if args.booleans:
        kwargs["booleans"] = _booleans(args.booleans)
    result = api.check(child, parent, args.child_profile, args.parent_profile, **kwargs)
    _write(FORMATS[args.format](result), args.output)
    return result.exit_code


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
    policy = api.load(args.file, args.include, args.lsm)
    if isinstance(policy, SELinuxPolicy):
        sys.stdout.write(selinux_to_json(policy) if args.format == "json"
                         else selinux_to_text(policy))
        return 0
    sys.stdout.write(policy_to_json(policy) if args.format == "json" else policy_to_text(policy))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"check": _check, "parse": _parse}[args.command](args)
    except LsmsimError as error:
        print(f"lsmsim: {error}" if not getattr(error, "position", None) else str(error),
              file=sys.stderr)
        return EXIT_USAGE
    except RecursionError:
        print("lsmsim: policy nests too deeply to analyse", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # noqa: BLE001 - a user gets a line, never a traceback
        print(f"lsmsim: internal error ({type(error).__name__}: {error}); no verdict",
              file=sys.stderr)
        return EXIT_UNDECIDED


if __name__ == "__main__":
    sys.exit(main())
