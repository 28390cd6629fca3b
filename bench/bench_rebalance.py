"""`advisor rebalance` end to end on a 50-holding portfolio with funds as buy candidates.

Run: .venv/bin/python bench/bench_rebalance.py [runs]
Prints medians of whole-process wall times against the import floors, measured in the same run,
the commands taking turns; the cvxpy floor also as it is when exiting as advisor does
(common.FROZEN_EXIT).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ADVISOR, FROZEN_EXIT, holdings_portfolio, time_commands

TARGET = """target: {small_cap_share: 0.30, band: 0.02}
limits: {buy_from: [holdings, funds], min_trade_value: 250}
"""


CVXPY = "import pandas, pydantic, typer, cvxpy"


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory() as folder:
        portfolio = holdings_portfolio(Path(folder) / "fifty.yaml", 50, TARGET)
        got = time_commands({
            "floor": [sys.executable, "-c", "import pandas, numpy, pydantic, typer"],
            "cvxpy": [sys.executable, "-c", CVXPY],
            "frozen": [sys.executable, "-c", CVXPY + FROZEN_EXIT],
            "rebalance": [*ADVISOR, "rebalance", str(portfolio)],
        }, runs, ok_codes=(0, 3))  # fmt: skip
    floor, cvxpy, frozen, full = got["floor"], got["cvxpy"], got["frozen"], got["rebalance"]
    print(f"runs per figure: {runs} (medians; the commands take turns in each round)")
    print(f"import floor (pandas+numpy+pydantic+typer): {floor:.3f} s")
    print(f"import floor with cvxpy:                    {cvxpy:.3f} s")
    print(f"the same, exiting with the collector frozen: {frozen:.3f} s")
    print(
        f"advisor rebalance, 50 holdings + funds:     {full:.3f} s "
        f"({full / cvxpy:.2f}x the cvxpy floor, {full / frozen:.2f}x the frozen one)"
    )


if __name__ == "__main__":
    main()
