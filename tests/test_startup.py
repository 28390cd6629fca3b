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
