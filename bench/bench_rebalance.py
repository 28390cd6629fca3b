"""`advisor rebalance` end to end on a 50-holding portfolio with funds as buy candidates.

Run: .venv/bin/python bench/bench_rebalance.py [runs]
Prints medians of whole-process wall times against the import floors, measured in the same run.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ADVISOR, holdings_portfolio, time_command

TARGET = """target: {small_cap_share: 0.30, band: 0.02}
limits: {buy_from: [holdings, funds], min_trade_value: 250}
"""


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory() as folder:
        portfolio = holdings_portfolio(Path(folder) / "fifty.yaml", 50, TARGET)
        floor = time_command([sys.executable, "-c", "import pandas, numpy, pydantic, typer"], runs)
        cvxpy = time_command([sys.executable, "-c", "import pandas, pydantic, typer, cvxpy"], runs)
        full = time_command([*ADVISOR, "rebalance", str(portfolio)], runs, ok_codes=(0, 3))
    print(f"runs per figure: {runs} (medians)")
    print(f"import floor (pandas+numpy+pydantic+typer): {floor:.3f} s")
    print(f"import floor with cvxpy:                    {cvxpy:.3f} s")
    print(f"advisor rebalance, 50 holdings + funds:     {full:.3f} s "
          f"({full / cvxpy:.2f}x the cvxpy floor)")


if __name__ == "__main__":
    main()
