"""How often the buy-or-sell direction fixing reaches the best direction pattern.

    python bench/bench_tax_exact.py [--problems 500] [--seed 0]

Random small problems, as the paper measures (Moehle et al. 2021, section 6): 2-8 assets, 3
lots each (bases 0.3-1.6 x the price, two in five short term), a third of the assets not held,
rates (short 25-45%, long 10-25%), this year's gains (within 2% of value either way), a
factor risk model, spreads, a penalty pulling an exposure to a target. Each is solved by the
method shipped (advisor/optimize/taxes.py: the relaxation with both directions allowed, the
directions fixed from its answer, one convex solve, then each of the FLIPS largest round trips
of the relaxation solved the other way) and by exhaustive enumeration: one convex solve for
every pattern of buy-only or sell-only per asset (holding still lies in both). Objectives are
those of the convex problem, continuous (before whole shares), in units of the account's
value; a problem counts as solved to the optimum when the method's objective is within REL_TOL
of the enumerated best, relative to the objective's scale (its value at no trade less the
best), and the gap is reported on that scale.
A benchmark, not a test: it prints figures (tests/test_tax.py asserts floors on fewer).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cvxpy as cp
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from advisor.optimize.taxes import directions, round_trips
from advisor.tax.lots import TaxData

REL_TOL = 1e-3
NOISE = 1e-6  # of the account's value: a difference of objectives below it is none
LOTS = 3  # lots per asset
BIG = 2.0


@dataclass
class Sized:
    """One parametrized problem per number of assets: re-solved with new numbers."""

    n: int
    problem: cp.Problem
    dx: cp.Variable
    sold: cp.Variable
    params: dict[str, cp.Parameter]


def sized(n: int) -> Sized:
    lots = n * LOTS
    owner = np.kron(np.eye(n), np.ones((1, LOTS)))  # asset i owns lots i*LOTS ...
    dx = cp.Variable(n)
    sold = cp.Variable(lots, nonneg=True)
    short, long = cp.Variable(), cp.Variable()
    p = {
        "x0": cp.Parameter(n, nonneg=True),
        "cash": cp.Parameter(nonneg=True),
        "spread": cp.Parameter(n, nonneg=True),
        "root": cp.Parameter((n, n)),
        "exposure": cp.Parameter(n),
        "aim": cp.Parameter(),
        "g_short": cp.Parameter(lots),
        "g_long": cp.Parameter(lots),
        "base_short": cp.Parameter(),
        "base_long": cp.Parameter(),
        "low": cp.Parameter(nonneg=True),
        "extra_short": cp.Parameter(nonneg=True),
        "extra_long": cp.Parameter(nonneg=True),
        "lot_cap": cp.Parameter(lots, nonneg=True),
        "buy_cap": cp.Parameter(n, nonneg=True),
    }
    tax = cp.pos(
        p["low"] * (short + long)
        + p["extra_short"] * cp.pos(short)
        + p["extra_long"] * cp.pos(long)
    )
    miss = p["exposure"] @ dx - p["aim"]
    objective = (
        p["spread"] @ cp.abs(dx) + cp.sum_squares(p["root"] @ dx) + tax + 10 * cp.square(miss)
    )
    bought = dx + owner @ sold
    rules = [
        short == p["base_short"] + p["g_short"] @ sold,
        long == p["base_long"] + p["g_long"] @ sold,
        sold <= p["lot_cap"],
        bought >= 0,
        bought <= p["buy_cap"],
        dx >= -p["x0"],
        cp.sum(dx) <= p["cash"],
    ]
    return Sized(n, cp.Problem(cp.Minimize(objective), rules), dx, sold, p)


@dataclass
class Case:
    values: dict[str, Any]
    tax: TaxData
    prices: pd.Series
    held: np.ndarray
    lot_value: np.ndarray


def random_case(n: int, rng: np.random.Generator) -> Case:
    tickers = [f"A{i}" for i in range(n)]
    prices = pd.Series(rng.uniform(20, 200, n), index=tickers)
    held = rng.random(n) < 0.7
    held[0] = True
    shares = rng.uniform(0.05, 0.3, (n, LOTS)) * held[:, None]
    value = shares * prices.to_numpy()[:, None]
    total = float(value.sum()) / 0.95
    basis = prices.to_numpy()[:, None] * rng.uniform(0.3, 1.6, (n, LOTS))
    short = rng.random((n, LOTS)) < 0.4
    rows = [
        (tickers[i], float(shares[i, j] / total * total), float(basis[i, j]), None,
         bool(short[i, j]))
        for i in range(n) for j in range(LOTS)
    ]  # fmt: skip
    lots = pd.DataFrame(rows, columns=["ticker", "shares", "cost_basis", "acquired", "short"])
    short_rate, long_rate = rng.uniform(0.25, 0.45), rng.uniform(0.1, 0.25)
    tax = TaxData(
        lots=lots, short_rate=short_rate, long_rate=long_rate,
        realized_short=rng.uniform(-0.02, 0.02) * total,
        realized_long=rng.uniform(-0.02, 0.02) * total,
        budget=None, weight=1.0, group={},
    )  # fmt: skip
    gain = (tax.gain_per_share(prices) / prices.reindex(lots["ticker"]).to_numpy()).reshape(-1)
    short_flat = short.reshape(-1)
    x0 = value.sum(axis=1) / total
    exposure = rng.uniform(-0.5, 0.5, n)
    low = min(short_rate, long_rate)
    factor = rng.normal(0, 0.15, (n, n)) / np.sqrt(n)
    values = {
        "x0": x0,
        "cash": 1.0 - float(x0.sum()),
        "spread": rng.uniform(0.0005, 0.003, n),
        "root": factor,
        "exposure": exposure,
        "aim": float(rng.uniform(0.02, 0.08)) * float(np.sign(rng.normal()) or 1.0),
        "g_short": np.where(short_flat, gain, 0.0),
        "g_long": np.where(short_flat, 0.0, gain),
        "base_short": tax.realized_short / total,
        "base_long": tax.realized_long / total,
        "low": low,
        "extra_short": short_rate - low,
        "extra_long": long_rate - low,
    }
    lot_value = (value / total).reshape(-1)
    return Case(values, tax, prices, held, lot_value)


def solve(form: Sized, case: Case, buy_cap: np.ndarray, lot_cap: np.ndarray) -> float:
    for name, value in case.values.items():
        form.params[name].value = value
    form.params["buy_cap"].value = buy_cap
    form.params["lot_cap"].value = lot_cap
    form.problem.solve(solver=cp.CLARABEL)
    if form.problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        return float("inf")
    return float(form.problem.value)


def by_method(form: Sized, case: Case) -> float:
    """The relaxation, then the directions fixed (advisor/optimize/taxes.py), then a solve;
    and each of the largest round trips of the relaxation solved the other way."""
    n = form.n
    solve(form, case, np.full(n, BIG), case.lot_value)
    trades = np.asarray(form.dx.value, dtype=float)
    sold = np.asarray(form.sold.value, dtype=float)
    tickers = pd.Index(case.prices.index)
    fixed = directions(tickers, case.held, trades, case.tax, case.prices, sold)
    best = solve(form, case, *caps(tickers, fixed.sell_only, fixed.no_loss, case))
    forced: dict[str, int] = {}
    for ticker, way in round_trips(tickers, trades, case.tax, sold):
        trial = directions(
            tickers, case.held, trades, case.tax, case.prices, sold, {**forced, ticker: way}
        )
        value = solve(form, case, *caps(tickers, trial.sell_only, trial.no_loss, case))
        if value < best:
            forced[ticker], best = way, value
    return best


def caps(
    tickers: pd.Index, sell_only: frozenset[str], no_loss: frozenset[str], case: Case
) -> tuple[np.ndarray, np.ndarray]:
    sells = np.isin(tickers.astype(str), list(sell_only))
    buy_cap = np.where(sells, 0.0, BIG)
    lot_cap = case.lot_value * np.repeat(sells, LOTS)  # buy-only assets sell no lot
    loss = case.values["g_short"] + case.values["g_long"] < 0
    lot_cap[loss & np.repeat(np.isin(tickers.astype(str), list(no_loss)), LOTS)] = 0.0
    return buy_cap, lot_cap


def by_enumeration(form: Sized, case: Case) -> float:
    tickers = pd.Index(case.prices.index)
    best = float("inf")
    for pattern in itertools.product((False, True), repeat=form.n):
        sell_only = frozenset(str(t) for t, s in zip(tickers, pattern, strict=True) if s)
        best = min(best, solve(form, case, *caps(tickers, sell_only, frozenset(), case)))
    return best


def measure(problems: int, seed: int, sizes: range = range(2, 9)) -> tuple[float, float, int]:
    """(share solved to the enumerated optimum, worst relative gap, problems)."""
    rng = np.random.default_rng(seed)
    forms = {n: sized(n) for n in sizes}
    solved, worst = 0, 0.0
    for k in range(problems):
        n = sizes[k % len(sizes)]
        form, case = forms[n], random_case(n, rng)
        mine, best = by_method(form, case), by_enumeration(form, case)
        still = solve(form, case, np.zeros(n), np.zeros(n * LOTS))  # no trade
        scale = max(still - best, NOISE)
        gap = max(mine - best, 0.0) / scale
        solved += gap <= REL_TOL
        worst = max(worst, gap)
    return solved / problems, worst, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    share, worst, count = measure(args.problems, args.seed)
    took = time.perf_counter() - start
    print(f"{count} problems, 2-8 assets, {LOTS} lots each ({took:.0f} s)")
    print(f"solved to the enumerated optimum (within {REL_TOL:g} of the objective's scale): "
          f"{share:.1%}")  # fmt: skip
    print(f"worst gap: {worst:.2%} of the objective's scale")


if __name__ == "__main__":
    main()
