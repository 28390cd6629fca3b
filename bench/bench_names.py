"""How far the max_names heuristic is from the best answer with at most k names.

    python bench/bench_names.py [--seeds 10] [--names 12] [--k 5]

Small problems (synthetic universes, every name buyable, a 0.25 small-cap target): the
heuristic's objective against exhaustive search, which solves the problem once for every choice
of k names and keeps the cheapest; for halving the excess names each solve, for keeping k names
at once, and for the better of the two (as shipped). Then the full model universe (`buy_from:
all` on the shipped model): each against the relaxation without the limit, a lower bound on the
best answer, for a few k. Objectives are before rounding to whole shares, in units of the
portfolio's value.
A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.synthetic
from common import holdings_portfolio

from advisor import checks
from advisor.limits import EffectiveLimits, effective_limits
from advisor.optimize import cardinality
from advisor.optimize.data import ProblemData
from advisor.optimize.problem import Adjust
from advisor.optimize.solve import solve
from advisor.portfolio import Limits, Target
from tests.synthetic import universe

TARGET = Target(small_cap_share=0.25, band=0.02)


def exhaustive(data: ProblemData, limits: EffectiveLimits, k: int) -> float:
    """The least objective over every choice of k names (the rest at zero)."""
    names = [str(t) for t in data.tickers]
    best = np.inf
    for kept in itertools.combinations(names, k):
        excluded = frozenset(names) - frozenset(kept)
        found = solve(data, TARGET, limits, adjust=Adjust(excluded=excluded))
        if found.feasible:
            best = min(best, found.objective)
    return float(best)


def small(seeds: int, n: int, k: int) -> None:
    print(
        f"{n} names, at most {k} held, {seeds} seeds; exhaustive search solves C({n},{k}) "
        "problems per seed"
    )
    print(
        f"{'seed':>4} {'relaxed':>10} {'exhaustive':>11} {'halving':>10} {'gap':>8} "
        f"{'at once':>10} {'gap':>8}"
    )
    gaps: dict[bool | None, list[float]] = {True: [], False: []}
    for seed in range(seeds):
        data = universe(n, seed, held=max(2, k - 2))
        limits = effective_limits(Limits(max_names=k), checks.today(data), checks.positions(data))
        relaxed = solve(data, TARGET, limits)
        if cardinality.restrict(data, TARGET, limits, relaxed) is None:
            print(f"{seed:>4} the relaxation already holds at most {k} names")
            continue
        best = exhaustive(data, limits, k)
        line = f"{seed:>4} {relaxed.objective:>10.3e} {best:>11.3e}"
        for halving in (True, False):
            found = cardinality.restrict(data, TARGET, limits, relaxed, halving=halving)
            assert found is not None
            value = found.solution.objective if found.solution.feasible else np.inf
            gaps[halving].append(value / best - 1)
            line += f" {value:>10.3e} {value / best - 1:>8.2%}"
        print(line)
    if gaps[True]:
        gaps[None] = [min(a, b) for a, b in zip(gaps[True], gaps[False], strict=True)]
    names = {True: "halving", False: "at once", None: "shipped (the better of the two)"}
    for halving, found in gaps.items():
        if found:
            print(
                f"{names[halving]}: gap to exhaustive median "
                f"{statistics.median(found):.2%}, worst {max(found):.2%}, exact in "
                f"{sum(g < 1e-6 for g in found)} of {len(found)}"
            )


def full_universe(ks: list[int]) -> None:
    from advisor.rebalance import problem_data
    from advisor.scoring import score

    with tempfile.TemporaryDirectory() as folder:
        path = holdings_portfolio(
            Path(folder) / "direct.yaml",
            50,
            "target: {small_cap_share: 0.25, band: 0.02}\nlimits: {buy_from: [holdings, all]}\n",
        )
        data = problem_data(score(path))
    print(f"\nfull model universe: {data.n} names, 50 held, target small_cap_share 0.25")
    print(
        f"{'k':>4} {'method':>8} {'relaxed names':>13} {'relaxed':>10} {'objective':>10} "
        f"{'bound on gap':>13} {'solves':>6} {'seconds':>8}"
    )
    for k in ks:
        limits = effective_limits(Limits(max_names=k), checks.today(data), checks.positions(data))
        for halving in (True, False, None):
            start = time.perf_counter()
            relaxed = solve(data, TARGET, limits)
            restricted = cardinality.restrict(data, TARGET, limits, relaxed, halving=halving)
            seconds = time.perf_counter() - start
            held = int(cardinality.held_after(data, relaxed, limits).sum())
            method = {True: "halving", False: "at once", None: "shipped"}[halving]
            if restricted is None:
                print(f"{k:>4} {method:>8} {held:>13} the relaxation holds at most {k} names")
                continue
            found = restricted.solution
            value = f"{found.objective:>10.3e}" if found.feasible else f"{found.status:>10}"
            bound = f"{found.objective / relaxed.objective - 1:>13.2%}" if found.feasible else ""
            print(
                f"{k:>4} {method:>8} {held:>13} {relaxed.objective:>10.3e} {value} {bound} "
                f"{restricted.solves + 1:>6} {seconds:>8.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--names", type=int, default=12)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--full", type=int, nargs="*", default=[60, 40, 30])
    args = parser.parse_args()
    small(args.seeds, args.names, args.k)
    if args.full:
        full_universe(args.full)


if __name__ == "__main__":
    main()
