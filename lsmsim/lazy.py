"""Heavy dependencies loaded on first use.

A check on the automaton engine needs neither the solver nor the graph library, and
a cold start is a large part of a small check's time; so the modules that use them
import them from here, where the import is deferred until an attribute is read.
"""
from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_import(name: str) -> ModuleType:
    """``name``, imported when first used (the module itself if already imported)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {name!r}")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


z3 = lazy_import("z3")
networkx = lazy_import("networkx")
