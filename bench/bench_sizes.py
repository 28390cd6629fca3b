"""What the minimum trade sizes cost: the proposal's objective against the relaxed answer.

    python bench/bench_sizes.py [--seeds 8]

The relaxed answer is the convex problem without whole shares or minimum sizes: its objective
is a lower bound on any proposal's. Each proposal is scored by the same objective (the
optimizer's terms: costs, risk change, cash moved, pull to the target's centre) at its final
trades, in basis points of the portfolio's value, twice: with whole shares alone (the minimum
sizes at zero) and as shipped (whole shares, min_trade_share 0.002, min_position 0.005, found by
relax-and-fix and the noise filter). Also the number of trades and the time of each plan.
A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.synthetic
from common import ROOT, holdings_portfolio

from advisor import checks
from advisor.limits import EffectiveLimits, effective_limits
from advisor.optimize import ProblemData, Solver
from advisor.optimize.inputs import Adjust, Inputs
from advisor.portfolio import Limits, Target
from advisor.rebalance import problem_data
from advisor.scoring import score
from advisor.trades import plan_trades
from tests.synthetic import universe

NO_SIZES = {"min_trade_share": 0.0, "min_position": 0.0}


def objective(solver: Solver, data: ProblemData, target: Target | None,
              limits: EffectiveLimits, quantities: pd.Series) -> float:  # fmt: skip
    """The optimizer's objective at whole-share `quantities` (share of value)."""
    form = solver.formulation(Inputs(data, target, limits, solver.options, Adjust()))
    q = quantities.reindex(data.tickers, fill_value=0.0).to_numpy(dtype=float)
    dx = q * data.prices.to_numpy(dtype=float) / data.total_value
    return float(sum(float(term(dx)) for term in form.terms))


def case(name: str, data: ProblemData, target: Target | None, given: Limits) -> dict[str, str]:
    today, positions = checks.today(data), checks.positions(data)
    invest = data.equity_value <= 0 and target is not None
    shipped = effective_limits(given, today, positions, invest=invest)
    whole = effective_limits(given.model_copy(update=NO_SIZES), today, positions, invest=invest)
    solver = Solver()
    relaxed = solver.solve(data, target, shipped)
    out = {"case": name, "names": str(data.n)}
    if not relaxed.feasible:
        return {**out, "relaxed": "infeasible"}
    if relaxed.objective < 1e-9:
        return {**out, "relaxed": "nothing to do"}
    traded = int((relaxed.trades.abs() > 1e-6 * data.total_value).sum())
    out["relaxed"] = f"{1e4 * relaxed.objective:.2f} bp, {traded} trades"
    for label, limits in (("whole shares", whole), ("as shipped", shipped)):
        start = time.perf_counter()
        plan = plan_trades(data, target, limits, solver=Solver())
        took = time.perf_counter() - start
        value = objective(solver, data, target, shipped, plan.quantities)
        ratio = value / relaxed.objective if relaxed.objective > 0 else float("nan")
        smallest = plan.trades["value"].min() / data.total_value if len(plan.trades) else 0.0
        out[label] = (
            f"{1e4 * value:.2f} bp ({ratio:.2f}x), {len(plan.trades)} trades, smallest "
            f"{100 * smallest:.2f}%, {took:.2f} s{'' if plan.ok else ', ' + plan.status}"
        )
    return out


def synthetic(seeds: int) -> list[dict[str, str]]:
    rows = []
    for seed in range(seeds):
        data = universe(40, seed, total=500_000.0, companies=True)
        rows.append(case(f"synthetic 40 names, seed {seed}", data,
                         Target(small_cap_share=0.3, band=0.02), Limits()))  # fmt: skip
    return rows


def real(folder: Path) -> list[dict[str, str]]:
    files = {
        name: ROOT / "portfolios" / f"{name}.yaml"
        for name in ("mega-cap-tech", "rotation", "balanced")
    }
    files["50 holdings, funds"] = holdings_portfolio(
        folder / "holdings.yaml", 50,
        "target: {small_cap_share: 0.30, band: 0.02}\nlimits: {buy_from: [holdings, funds]}\n",
    )  # fmt: skip
    cash = folder / "cash.yaml"
    cash.write_text("cash: 300000\ntarget: {small_cap_share: 0.30, band: 0.02}\n"
                    "limits: {buy_from: [all]}\n")  # fmt: skip
    files["$300k cash, buy_from all"] = cash
    rows = []
    for name, path in files.items():
        scored = score(path)
        portfolio = scored.loaded.portfolio
        rows.append(case(name, problem_data(scored), portfolio.target, portfolio.limits))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = real(Path(tmp)) + synthetic(args.seeds)
    for row in rows:
        print(row["case"], f"({row['names']} names)")
        for key in ("relaxed", "whole shares", "as shipped"):
            if key in row:
                print(f"  {key:13} {row[key]}")
    ratios = [float(r["as shipped"].split("(")[1].split("x")[0])
              for r in rows if "as shipped" in r and "(nan" not in r["as shipped"]]  # fmt: skip
    whole = [float(r["whole shares"].split("(")[1].split("x")[0])
             for r in rows if "whole shares" in r and "(nan" not in r["whole shares"]]  # fmt: skip
    print(f"median objective / relaxed: whole shares {statistics.median(whole):.3f}x, "
          f"as shipped {statistics.median(ratios):.3f}x; worst {max(whole):.3f}x and "
          f"{max(ratios):.3f}x")  # fmt: skip


if __name__ == "__main__":
    main()
