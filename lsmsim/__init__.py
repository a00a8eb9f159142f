"""lsmsim: prove that a nested Linux Security Module policy stays within the policy
of the namespace above it, or report each expansion with a concrete witness."""
from __future__ import annotations

import importlib
import sys
import types

__version__ = "0.1.0"

# The public names and the modules that define them. They are imported on first use,
# so that ``import lsmsim`` (and the command's start, when Ctrl-C must already work)
# costs nothing until a name is needed.
_EXPORTS = {
    "check": "api", "explain": "api", "measure": "api", "decide_request": "api",
    "detect_lsm": "api", "load": "api",
    "LsmsimError": "errors", "PolicyError": "errors", "UsageError": "errors",
    "transitions": "graph",
    "CapabilityRequest": "model.requests", "ExecRequest": "model.requests",
    "FileRequest": "model.requests", "NetworkRequest": "model.requests",
    "Stack": "stack", "StackResult": "stack", "check_stack": "stack", "load_stack": "stack",
    "CheckResult": "verify.result", "Denial": "verify.result", "Verdict": "verify.result",
}

__all__ = sorted([*_EXPORTS, "simulate"])


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        try:  # a subpackage used without importing it first (lsmsim.report, ...)
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError:
            raise AttributeError(f"module 'lsmsim' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """``lsmsim.simulate`` is the stack simulator (a function), and also the name of
    the subpackage with the per-profile decision. Importing a subpackage binds its
    name on the package; here that binding is refused, so the name stays the function
    without importing the subpackage (and the checker with it) at every start."""

    def __setattr__(self, name: str, value) -> None:
        if name == "simulate" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def simulate(stack, request, layer=None, after_exec=()):
    """Decide ``request`` for a task of ``layer`` (default: the deepest) at every layer
    of ``stack`` (:func:`lsmsim.stack.simulate`)."""
    from .stack import simulate as run
    return run(stack, request, layer, after_exec)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
