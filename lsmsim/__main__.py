"""The ``lsmsim`` command (and ``python -m lsmsim``).

The command line itself is :mod:`lsmsim.cli`; importing it takes a moment, and a
Ctrl-C in that moment ends the command like one later on: exit 130, no traceback.
"""
from __future__ import annotations

import sys


def run() -> None:
    """Entry point of the ``lsmsim`` script."""
    try:
        from .cli import main
    except KeyboardInterrupt:
        print("lsmsim: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())


if __name__ == "__main__":
    run()
