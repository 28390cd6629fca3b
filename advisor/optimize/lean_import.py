"""Import cvxpy without paying for scipy.stats at start-up.

cvxpy imports scipy.stats (0.6-0.9 s of a 1.7 s import on this project's machines) for one
function, `entropy`, used by its quantum-entropy atoms, which this project never builds. While
cvxpy imports, a stand-in module answers `from scipy.stats import entropy` with a wrapper that
imports the real scipy.stats on first call; the stand-in is removed as soon as cvxpy is in, so
any later `import scipy.stats` gets the real module.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


def import_cvxpy() -> types.ModuleType:
    if "cvxpy" in sys.modules or "scipy.stats" in sys.modules:
        return importlib.import_module("cvxpy")
    stand_in = types.ModuleType("scipy.stats", "deferred until first use (advisor)")

    def real() -> types.ModuleType:
        if sys.modules.get("scipy.stats") is stand_in:
            del sys.modules["scipy.stats"]
        return importlib.import_module("scipy.stats")

    def entropy(*args: Any, **kwargs: Any) -> Any:
        return real().entropy(*args, **kwargs)

    def attribute(name: str) -> Any:
        if name.startswith("__"):  # the import system probing (__path__, ...): not a package
            raise AttributeError(name)
        return getattr(real(), name)

    stand_in.entropy = entropy  # type: ignore[attr-defined]
    stand_in.__getattr__ = attribute  # type: ignore[method-assign]
    sys.modules["scipy.stats"] = stand_in
    try:
        return importlib.import_module("cvxpy")
    finally:
        if sys.modules.get("scipy.stats") is stand_in:
            del sys.modules["scipy.stats"]
