"""Optimizer speed and accuracy: the 3/2-power impact term against the quadratic form (Clarabel).

    python bench/bench_optimizer.py [--runs 5] [--sizes 500 3000]

For each universe size and impact form: the median wall time of `solve` (building the cvxpy
problem included) and of Clarabel alone over the runs, the statuses seen, Clarabel's
iterations, the worst constraint violation, and, for the quadratic form, how much more its
answer costs when priced by the 3/2-power law than the power form's own answer (the price of
the approximation). A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cvxpy as cp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.synthetic
from advisor import checks
from advisor.limits import effective_limits
from advisor.optimize import ImpactForm, build
from advisor.optimize.problem import SolveOptions
from advisor.optimize.solve import run
from advisor.optimize.terms import objective
from advisor.portfolio import Limits, Target
from tests.synthetic import universe

TARGET = Target(small_cap_share=0.25, band=0.02)


@dataclass(frozen=True)
class Run:
    wall: float  # seconds, building the problem included
    solver: float  # seconds inside Clarabel
    status: str
    iterations: int
    violation: float  # worst constraint violation
    priced_by_power: float  # the answer's objective with impact priced by the 3/2 law


def one(n: int, form: ImpactForm, seed: int) -> Run:
    data = universe(n, seed, held=max(20, n // 5), impact_form=form)
    limits = effective_limits(Limits(), checks.today(data), checks.positions(data))
    start = time.perf_counter()
    options = SolveOptions(solvers=("CLARABEL",))
    built = build(data, TARGET, limits, options)
    problem = built.problem()
    status, _, x = run(problem, built.x, ("CLARABEL",))
    wall = time.perf_counter() - start
    stats = problem.solver_stats
    violation = max(float(np.max(c.violation())) for c in problem.constraints)
    dx = (x[: data.n] if x is not None else built.x0) - built.x0
    by_power = build(dataclasses.replace(data, impact_form=ImpactForm.POWER), TARGET, limits,
                     options)  # fmt: skip
    power = next(t for t in by_power.terms if t.name == "impact")
    others = [t for t in built.terms if t.name != "impact"]
    priced = float(objective([*others, power], dx))
    return Run(wall, stats.solve_time or math.nan, status, stats.num_iters or 0, violation, priced)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 3000])
    args = parser.parse_args()
    print(f"cvxpy {cp.__version__}; median of {args.runs} runs (seeds 0..{args.runs - 1})")
    print(
        f"{'names':>6} {'impact':>9} {'wall s':>8} {'clarabel s':>10} {'iters':>6} "
        f"{'max viol':>9} {'power-priced obj':>17}  statuses"
    )
    for n in args.sizes:
        priced: dict[ImpactForm, list[float]] = {}
        for form in (ImpactForm.POWER, ImpactForm.QUADRATIC):
            runs = [one(n, form, seed) for seed in range(args.runs)]
            priced[form] = [r.priced_by_power for r in runs]
            statuses = dict(Counter(r.status for r in runs))
            print(
                f"{n:>6} {form.value:>9} {statistics.median(r.wall for r in runs):>8.3f} "
                f"{statistics.median(r.solver for r in runs):>10.3f} "
                f"{statistics.median(r.iterations for r in runs):>6.0f} "
                f"{max(r.violation for r in runs):>9.1e} "
                f"{statistics.median(priced[form]):>17.6e}  {statuses}"
            )
        pairs = zip(priced[ImpactForm.QUADRATIC], priced[ImpactForm.POWER], strict=True)
        excess = [q / p - 1 for q, p in pairs]
        print(
            f"{n:>6} the quadratic form's answer, priced by the 3/2 law, costs "
            f"{statistics.median(excess):+.2%} (median) more than the power form's own answer"
        )


if __name__ == "__main__":
    main()
