"""Start-up stays lean: `advisor --help` and `advisor score` never import cvxpy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

PROBE = """
import sys
from typer.testing import CliRunner
from advisor.cli import app
result = CliRunner().invoke(app, {args!r})
assert result.exit_code == 0, result.output
print("cvxpy" in sys.modules, "scipy" in sys.modules)
"""


@pytest.mark.parametrize("args", [["--help"], ["score", "portfolios/balanced.yaml"],
                                  ["score", "portfolios/balanced.yaml", "--json"]])
def test_no_solver_imported(args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


LEAN = """
import sys
import advisor.rebalance
deferred = "scipy.stats" not in sys.modules
import numpy as np
from cvxpy.atoms.quantum_rel_entr import entropy
import scipy.stats
print(deferred, round(float(entropy(np.array([0.5, 0.5]))), 6), scipy.stats.norm.cdf(0.0))
"""


def test_cvxpy_loads_without_scipy_stats_until_it_is_used() -> None:
    done = subprocess.run([sys.executable, "-c", LEAN], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.split() == ["True", "0.693147", "0.5"]
