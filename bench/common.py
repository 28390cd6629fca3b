"""Helpers for the benchmark scripts: timing whole processes, medians, example portfolios."""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
ADVISOR = [sys.executable, "-m", "advisor"]
# advisor's entry point freezes the collector before exit (advisor.cli.main), which spares it the
# collections the interpreter runs while tearing down modules. A floor that ends with this exits
# the same way: the stricter comparison.
FROZEN_EXIT = "; import gc; gc.freeze()"


def compile_advisor() -> None:
    """Compile advisor's bytecode, as an installed package's is: a checkout run with
    PYTHONDONTWRITEBYTECODE set would otherwise compile its modules at every start."""
    compileall.compile_dir(ROOT / "advisor", quiet=1)


def time_commands(
    commands: dict[str, list[str]], runs: int, ok_codes: tuple[int, ...] = (0,)
) -> dict[str, float]:
    """Median wall time of each whole process over `runs` rounds, in seconds. The commands take
    turns within each round, so a slow spell of a shared machine falls on all of them alike."""
    compile_advisor()
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            start = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, check=False, capture_output=True, text=True)
            if done.returncode not in ok_codes:
                raise RuntimeError(f"{command} exited {done.returncode}: {done.stderr[-500:]}")
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def holdings_portfolio(path: Path, count: int, extra: str = "") -> Path:
    """A portfolio of `count` listed stocks spread over the size range, plus IWM and IVV."""
    securities = pd.read_csv(ROOT / "models" / "us-equity" / "securities.csv")
    stocks = securities[(securities["type"] == "stock") & securities["ranked"]]
    stocks = stocks.sort_values("market_cap", ascending=False).reset_index(drop=True)
    spread = [round(i * (len(stocks) - 1) / (count - 3)) for i in range(count - 2)]
    picks = stocks.iloc[spread]
    lines = ["account: benchmark", "cash: 20000", "holdings:"]
    lines += [
        f"  - {{ticker: {t}, shares: {max(1, round(5000 / p))}}}"
        for t, p in zip(picks["ticker"], picks["price"], strict=True)
    ]
    lines += ["  - {ticker: IWM, shares: 100}", "  - {ticker: IVV, shares: 50}"]
    path.write_text("\n".join(lines) + "\n" + extra)
    return path
