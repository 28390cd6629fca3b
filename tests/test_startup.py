"""Start-up stays lean: `advisor --help` and `advisor score` never import cvxpy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["score", "portfolios/balanced.yaml"],
        ["score", "portfolios/balanced.yaml", "--json"],
    ],
)
def test_no_solver_imported(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
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


@pytest.mark.slow
def test_cvxpy_loads_without_scipy_stats_until_it_is_used() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LEAN], cwd=ROOT, capture_output=True, text=True, check=True
    )
    deferred, entropy, cdf = done.stdout.split()
    assert deferred == "True", (
        "importing cvxpy loaded scipy.stats: advisor/optimize/lean_import.py no longer defers it "
        "with this cvxpy release; fix the deferral or drop it, and move cvxpy's bound in "
        "pyproject.toml"
    )
    assert (entropy, cdf) == ("0.693147", "0.5")  # the real functions behind the stand-in


@pytest.mark.parametrize("launcher", ["python -m advisor", "console script"])
def test_entry_point_keeps_exit_codes_and_output(tmp_path: Path, launcher: str) -> None:
    """Both launchers run main(), which freezes the collector before exit."""
    command = [sys.executable, "-m", "advisor"]
    if launcher == "console script":
        script = Path(sys.executable).parent / "advisor"
        if not script.is_file():
            pytest.skip(f"no {script}: the package is not installed in this interpreter")
        command = [str(script)]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*command, *args], cwd=ROOT, capture_output=True, text=True)

    scored = run("score", "portfolios/balanced.yaml", "--json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["positions"]
    missing = run("score", str(tmp_path / "no.yaml"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: ") and "Traceback" not in missing.stderr
