"""What lots cost in time: a taxable account with 10 lots per holding against the same account
without lots, and a 500-name account with 10 lots each.

    python bench/bench_tax_speed.py [--runs 5] [--large 500]

Accounts as bench_rebalance.py's (stocks spread over the size range, IWM and IVV, a 0.30
small-cap target, funds as buy candidates, $20k cash). With lots, each holding's shares are
split into 10 lots with bases 0.3-1.6 x today's price and dates over the last three years
(a fixed seed; run date 2026-11-28), which makes the tax term, the buy-or-sell directions and
the tax-blind comparison part of the run. Times are of `propose` in one process (the model
loaded once, as in a batch) and of whole `advisor rebalance` processes, medians over --runs,
the two accounts taking turns. A taxable account with lots is planned twice: tax-aware, and
tax-blind for the comparison the proposal reports.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_rebalance import TARGET
from common import ADVISOR, ROOT, holdings_portfolio, time_commands

from advisor.prices import PriceOptions
from advisor.rebalance import propose

RUN_DATE = date(2026, 11, 28)
LOTS = 10


def with_lots(path: Path, seed: int = 0) -> Path:
    """The portfolio file at `path` with each holding split into LOTS lots (rewritten)."""
    rng = np.random.default_rng(seed)
    portfolio = yaml.safe_load(path.read_text())
    table = pd.read_csv(ROOT / "models" / "us-equity" / "securities.csv", index_col="ticker")
    for holding in portfolio["holdings"]:
        price = float(table.at[holding["ticker"], "price"])
        shares = float(holding.pop("shares"))
        parts = np.full(LOTS, shares / LOTS)
        holding["lots"] = [
            {
                "shares": float(part),
                "cost_basis": round(price * float(rng.uniform(0.3, 1.6)), 2),
                "acquired": RUN_DATE - timedelta(days=int(rng.integers(1, 3 * 365))),
            }
            for part in parts
        ]
    path.write_text(yaml.safe_dump(portfolio, sort_keys=False))
    return path


def timed(path: Path) -> float:
    start = time.perf_counter()
    propose(path, prices=PriceOptions(run_date=RUN_DATE))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--large", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        plain = holdings_portfolio(Path(folder) / "plain.yaml", 50, TARGET)
        lots = with_lots(holdings_portfolio(Path(folder) / "lots.yaml", 50, TARGET))
        timed(plain)  # the model loaded and cached once, as in a batch
        times: dict[str, list[float]] = {"plain": [], "lots": []}
        for _ in range(args.runs):
            times["plain"].append(timed(plain))
            times["lots"].append(timed(lots))
        plain_s, lots_s = statistics.median(times["plain"]), statistics.median(times["lots"])
        print(f"50 holdings, in one process: no lots {plain_s:.2f} s; 10 lots each (500 lots) "
              f"{lots_s:.2f} s; ratio {lots_s / plain_s:.2f}")  # fmt: skip
        day = ["--date", RUN_DATE.isoformat()]
        got = time_commands({
            "plain": [*ADVISOR, "rebalance", str(plain), *day],
            "lots": [*ADVISOR, "rebalance", str(lots), *day],
        }, args.runs, ok_codes=(0, 3))  # fmt: skip
        print(
            f"50 holdings, `advisor rebalance` processes: no lots {got['plain']:.2f} s; "
            f"10 lots each {got['lots']:.2f} s; ratio {got['lots'] / got['plain']:.2f}"
        )
        large = with_lots(holdings_portfolio(Path(folder) / "large.yaml", args.large, TARGET))
        large_s = timed(large)
        print(f"{args.large} holdings with {LOTS} lots each ({args.large * LOTS} lot "
              f"variables): {large_s:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
