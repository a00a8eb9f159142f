"""The pre-commit hook (``.pre-commit-hooks.yaml``): pre-commit passes the changed
files; each policy among them is checked within the parent named in the hook's
``args``, or the stack named there is checked when one of its files changed.

    lsmsim-pre-commit --parent FILE [-I DIR]... [--parent-profile NAME]
                      [--baseline FILE] [-j N] FILE...
    lsmsim-pre-commit --stack STACK.toml [--baseline FILE] FILE...
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import main as lsmsim_main
from .targets import is_leftover


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lsmsim-pre-commit", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--parent", help="the parent policy every changed profile must stay within")
    target.add_argument("--stack", help="a stack manifest checked when a file changed")
    parser.add_argument("-I", "--include", action="append", default=[], metavar="DIR")
    parser.add_argument("--parent-profile")
    parser.add_argument("--lsm", choices=["apparmor", "selinux", "cil"])
    parser.add_argument("--baseline", metavar="FILE")
    parser.add_argument("-j", "--jobs", type=int, metavar="N")
    parser.add_argument("files", nargs="*", help="the changed files (pre-commit passes them)")
    return parser


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def changed_children(files: list[str], parent: str, include: list[str]) -> list[str]:
    """The changed files that are policies to check: not the parent, not a file under
    an include root (abstractions and tunables are not profiles), not a leftover."""
    parent_path = Path(parent).resolve()
    roots = [Path(root).resolve() for root in include]
    out = []
    for name in files:
        path = Path(name).resolve()
        if path == parent_path or is_leftover(path.name) or \
                any(_is_within(path, root) for root in roots):
            continue
        out.append(name)
    return out


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    options = [*(["--baseline", args.baseline] if args.baseline else []),
               *(["-j", str(args.jobs)] if args.jobs else [])]
    if args.stack:
        return lsmsim_main(["check", args.stack, *options]) if args.files else 0
    children = changed_children(args.files, args.parent, args.include)
    if not children:
        return 0
    command = ["check", "--parent", args.parent, *[f"-I{root}" for root in args.include],
               *(["--parent-profile", args.parent_profile] if args.parent_profile else []),
               *(["--lsm", args.lsm] if args.lsm else []), *options]
    for child in children:
        command += ["--child", child]
    return lsmsim_main(command)


if __name__ == "__main__":
    sys.exit(main())
