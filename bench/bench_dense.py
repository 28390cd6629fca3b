"""Factor-form risk against a dense covariance: our optimizer and PyPortfolioOpt, Clarabel in both.

    python bench/bench_dense.py [--runs 3] [--sizes 500 3000]

A 50-stock portfolio (target small_cap_share 0.25 +- 0.02, buy_from: [holdings, all]) is scored
with the shipped model. Its problem is solved on the whole model universe in factor form, and at
each size (the holdings plus the first candidates) twice: in factor form (`build` + `run`) and
through PyPortfolioOpt's EfficientFrontier, given the dense n x n covariance B F B' + diag(S) as
its cov matrix, with every other term and constraint of ours added on its weight variable.
Prints per size the median wall time of each (building the problem, and for the dense form the
covariance, included), their ratio, the relative difference of the two optimal values, the
statuses, and the peak RSS of a child process doing one solve, against the bare import and the
problem data ready. A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from importlib.metadata import version
from pathlib import Path
from typing import Any

import cvxpy as cp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import holdings_portfolio

from advisor import checks
from advisor.limits import effective_limits
from advisor.optimize import ProblemData, build
from advisor.optimize.problem import SolveOptions
from advisor.optimize.solve import run
from advisor.portfolio import Target
from advisor.rebalance import problem_data
from advisor.scoring import score

TARGET = """target: {small_cap_share: 0.25, band: 0.02}
limits: {buy_from: [holdings, all]}
"""
SOLVER = "CLARABEL"
OPTIONS = SolveOptions(solvers=(SOLVER,))


def load() -> tuple[ProblemData, Target | None, Any]:
    """The benchmark portfolio's problem on the whole model universe, its target and limits."""
    with tempfile.TemporaryDirectory() as folder:
        scored = score(holdings_portfolio(Path(folder) / "fifty.yaml", 50, TARGET))
    portfolio = scored.loaded.portfolio
    return problem_data(scored), portfolio.target, portfolio.limits


def first_names(data: ProblemData, n: int) -> ProblemData:
    """The holdings plus the first candidates, `n` names in all (the whole universe if n <= 0)."""
    if n <= 0 or n >= data.n:
        return data
    held = data.values.to_numpy(dtype=float) > 0
    first = np.cumsum(~held) <= n - int(held.sum())
    return data.subset(held | (first & ~held))


def factor(data: ProblemData, target: Target | None, user_limits: Any) -> tuple[float, str, float]:
    """(seconds, status, optimal value): our factor form, building the problem included."""
    limits = effective_limits(user_limits, checks.today(data), checks.positions(data))
    start = time.perf_counter()
    form = build(data, target, limits, OPTIONS)
    problem = form.problem()
    status, _, _ = run(problem, form.x, (SOLVER,))
    return time.perf_counter() - start, status, float(problem.value)


def dense(data: ProblemData, target: Target | None, user_limits: Any) -> tuple[float, str, float]:
    """(seconds, status, optimal value): the same problem through PyPortfolioOpt with the dense
    covariance, building the covariance and the problem included."""
    from pypfopt import EfficientFrontier, exceptions, objective_functions

    limits = effective_limits(user_limits, checks.today(data), checks.positions(data))
    start = time.perf_counter()
    loadings = data.loadings.to_numpy(dtype=float)
    sigma = loadings @ data.factor_cov.to_numpy(dtype=float) @ loadings.T
    sigma = (sigma + sigma.T) / 2
    sigma[np.diag_indices_from(sigma)] += data.specific_var.to_numpy(dtype=float)
    form = build(data, target, limits, OPTIONS)
    # Our problem is padded to form.shape.size names (padding holds nothing, cannot trade): the
    # dense covariance is padded alike, with zero rows.
    size = form.shape.size
    padded = np.zeros((size, size))
    padded[: data.n, : data.n] = sigma
    x0 = np.asarray(form.bounds.x0.value)
    # Our x does not sum to one (cash is the rest) and is bounded by the trade bounds, so the
    # weight bounds are those (lower <= w - x0 <= upper) and no sum-to-one constraint is added.
    bounds = (x0 + form.bounds.lower.value, x0 + form.bounds.upper.value)
    frontier = EfficientFrontier(None, padded, weight_bounds=bounds, solver=SOLVER)
    risk = next(term for term in form.terms if term.name == "risk")
    for term in form.terms:
        if term is not risk:
            frontier.add_objective(lambda w, term=term: term(w - x0))
    # Every other constraint of ours, on the optimizer's weight variable.
    w = frontier._w
    rules = [*form.limits, form.floor, *([form.target] if form.target is not None else [])]
    for rule in rules:
        for constraint in rule(w, w - x0):
            frontier.add_constraint(lambda _w, constraint=constraint: constraint)
    with contextlib.suppress(exceptions.OptimizationError):  # the status below says what failed
        frontier.convex_objective(
            lambda w: risk.aversion * objective_functions.portfolio_variance(w - x0, padded),
            weights_sum_to_one=False,
        )
    seconds = time.perf_counter() - start
    problem = frontier._opt
    value = problem.value if problem is not None and problem.value is not None else math.nan
    return seconds, str(problem.status if problem is not None else "error"), float(value)


def peak_mb() -> float:
    """This process's peak RSS in MB (Linux). Not ru_maxrss: after a fork and exec it keeps the
    parent's peak at the time of the fork, so a child of a large process reports at least that."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def child(kind: str, n: int) -> None:
    """One solve in this process; prints {"ready": MB, "peak": MB} (peak RSS before and after)."""
    if kind == "import":
        print(json.dumps({"ready": peak_mb(), "peak": peak_mb()}))
        return
    data, target, user_limits = load()
    data = first_names(data, n)
    ready = peak_mb()
    (factor if kind == "factor" else dense)(data, target, user_limits)
    print(json.dumps({"ready": ready, "peak": peak_mb()}))


def measure(kind: str, n: int = 0) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", kind, "--names", str(n)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 3000])
    parser.add_argument("--child", choices=["import", "factor", "dense"], help=argparse.SUPPRESS)
    parser.add_argument("--names", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if importlib.util.find_spec("pypfopt") is None:
        print("bench_dense.py needs PyPortfolioOpt: pip install -e '.[bench]'", file=sys.stderr)
        sys.exit(2)
    if args.child:
        child(args.child, args.names)
        return
    data, target, user_limits = load()
    print(
        f"solver {SOLVER} in both; cvxpy {cp.__version__}, clarabel {version('clarabel')}, "
        f"PyPortfolioOpt {version('PyPortfolioOpt')}; median of {args.runs} runs"
    )
    bare, full = measure("import"), measure("factor")
    print(
        f"peak RSS of a child process: bare import (advisor + cvxpy) {bare['peak']:.0f} MB; "
        f"problem data ready {full['ready']:.0f} MB"
    )
    print(
        f"{'names':>10} {'factor s':>9} {'dense s':>9} {'dense/factor':>12} {'obj rel diff':>12} "
        f"{'factor MB':>9} {'dense MB':>9}  statuses (factor; dense)"
    )
    for n in [*sorted(set(args.sizes)), 0]:
        part = first_names(data, n)
        statuses: dict[str, Counter[str]] = {"factor": Counter(), "dense": Counter()}
        times: dict[str, list[float]] = {"factor": [], "dense": []}
        diffs = []
        for _ in range(args.runs):
            seconds, status, ours = factor(part, target, user_limits)
            times["factor"].append(seconds)
            statuses["factor"][status] += 1
            if n <= 0:
                continue
            seconds, status, theirs = dense(part, target, user_limits)
            times["dense"].append(seconds)
            statuses["dense"][status] += 1
            diffs.append(abs(theirs - ours) / abs(ours))
        fast = statistics.median(times["factor"])
        mb = {"factor": full if n <= 0 else measure("factor", n)}
        if n <= 0:
            slow, ratio, diff, dense_mb = "-", "-", "-", "-"
        else:
            mb["dense"] = measure("dense", n)
            median = statistics.median(times["dense"])
            slow, ratio = f"{median:.3f}", f"{median / fast:.1f}x"
            diff, dense_mb = f"{max(diffs):.1e}", f"{mb['dense']['peak']:.0f}"
        label = f"{part.n}" + (" (all)" if n <= 0 else "")
        print(
            f"{label:>10} {fast:>9.3f} {slow:>9} {ratio:>12} {diff:>12} "
            f"{mb['factor']['peak']:>9.0f} {dense_mb:>9}  "
            f"{dict(statuses['factor'])}; {dict(statuses['dense']) or '-'}"
        )


if __name__ == "__main__":
    main()
