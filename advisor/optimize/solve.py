"""Solving: Clarabel first, HiGHS as the fallback for the QP form; every status told honestly.

'optimal' is accepted. 'optimal_inaccurate' is returned marked inaccurate (after trying the
fallback for an accurate answer); the caller accepts it only once the independent checks pass on
the final trades. 'infeasible' goes to the diagnosis. Anything else raises SolverError with the
status, keeping the solver's own exception as the cause.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import pandas as pd

from advisor.errors import SolverError
from advisor.limits import EffectiveLimits
from advisor.optimize.data import ProblemData
from advisor.optimize.inputs import Adjust, Inputs, SolveOptions
from advisor.optimize.problem import Formulation, Shape
from advisor.optimize.taxes import TaxTerm, directions, round_trips
from advisor.portfolio import Target

OPTIMAL = cp.OPTIMAL
INACCURATE = cp.OPTIMAL_INACCURATE
INFEASIBLE = cp.INFEASIBLE
# cvxpy's backend for parameterized problems: compiles 50-100 names in 20 ms (SCIPY's: 80-150)
BACKEND = "COO"
COMPANY_ROUNDS = 4  # solves adding rows for the companies found above max_position
REMEMBERED = 8  # problems whose company rows a solver keeps
ABOVE = 1e-9  # of V: a company this far above its cap gets a row


@dataclass(frozen=True)
class Solution:
    """A solved problem: post-trade and trade dollars per ticker, status, figures."""

    status: str  # 'optimal', 'optimal_inaccurate' or 'infeasible'
    solver: str
    values: pd.Series  # $ per ticker after trades (today's values when infeasible)
    trades: pd.Series  # $ per ticker, + buy / - sell
    objective: float  # share of V
    terms: dict[str, float]  # each objective term, share of V
    # A taxable account's: the value sold from each lot (share of V), and the adjustment the
    # solve ended with (the directions it fixed), for the solves that follow to keep.
    lot_sold: np.ndarray | None = None
    adjust: Adjust | None = None

    @property
    def feasible(self) -> bool:
        return self.status in (OPTIMAL, INACCURATE)

    @property
    def accurate(self) -> bool:
        return bool(self.status == OPTIMAL)


class Solver:
    """Solves the rebalancing problems of one run, or of a batch: a formulation per shape,
    bound afresh to each account's numbers (and each repair's), never rebuilt.

    A small formulation is compiled once and re-solved by substituting numbers; a large one is
    solved plainly (see problem.py). Which path a problem takes depends on its shape alone, so
    an account's answer is the same whether it is solved alone or in a batch.
    """

    def __init__(self, options: SolveOptions | None = None) -> None:
        self.options = options or SolveOptions()
        self._forms: dict[Shape, Formulation] = {}
        # The companies found above max_position, by the problem's data (the few last ones),
        # so that repairs and searches of one account start with their rows.
        self._rows: dict[int, tuple[ProblemData, frozenset[str]]] = {}

    def formulation(self, inputs: Inputs) -> Formulation:
        shape = Shape.of(inputs)
        form = self._forms.get(shape)
        if form is None:
            form = self._forms[shape] = Formulation(shape, self.options)
        return form.bind(inputs)

    def solve(
        self,
        data: ProblemData,
        target: Target | None,
        limits: EffectiveLimits,
        adjust: Adjust | None = None,
    ) -> Solution:
        """Lowest cost and risk change that meets the target band and every limit.

        max_position on a company held through several names (a stock and a fund holding it)
        is a row of the look-through, added only for the companies a solve finds above it,
        then solved again (COMPANY_ROUNDS at most): most never come near it."""
        adjust = self.known(data, adjust)
        if data.tax is not None and not adjust.directed:
            # The buy-or-sell choice: relaxed, then solved with the directions fixed.
            relaxed = self._solve(data, target, limits, adjust)
            if not relaxed.feasible:
                return relaxed
            base = relaxed.adjust or adjust
            adjust = directed(data, relaxed, base)
            found = self._solve(data, target, limits, adjust)
            # Where the relaxation sold lots and bought them back, the direction its net trade
            # gives is in doubt: each such asset the other way, kept where it scores better.
            forced: dict[str, int] = {}
            trips = round_trips(
                data.tickers, relaxed.trades.to_numpy(dtype=float) / data.total_value,
                data.tax, _sold(data, relaxed),
            )  # fmt: skip
            for ticker, way in trips:
                trial = directed(data, relaxed, base, {**forced, ticker: way})
                other = self._solve(data, target, limits, trial)
                if other.feasible and (not found.feasible or other.objective < found.objective):
                    forced[ticker], found = way, other
            return found
        return self._solve(data, target, limits, adjust)

    def _solve(
        self, data: ProblemData, target: Target | None, limits: EffectiveLimits, adjust: Adjust
    ) -> Solution:
        for _ in range(COMPANY_ROUNDS):
            form = self.formulation(Inputs(data, target, limits, self.options, adjust))
            plain = not form.shape.compiled
            status, solver, x = run(form.problem(), form.x, self.options.solvers, plain=plain)
            found = solution(form, status, solver, x)
            over = _above_cap(form, x)
            if not over:
                break
            adjust = dataclasses.replace(adjust, companies=adjust.companies | over)
        self._rows[id(data)] = (data, adjust.companies)
        while len(self._rows) > REMEMBERED:
            del self._rows[next(iter(self._rows))]
        return dataclasses.replace(found, adjust=adjust)

    def known(self, data: ProblemData, adjust: Adjust | None = None) -> Adjust:
        """`adjust` with the rows of the companies found above max_position for `data`."""
        adjust = adjust or Adjust()
        seen = self._rows.get(id(data))
        if seen is None or seen[0] is not data:
            return adjust
        return dataclasses.replace(adjust, companies=adjust.companies | seen[1])


def solve(
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    options: SolveOptions | None = None,
    adjust: Adjust | None = None,
) -> Solution:
    """One problem solved by a solver of its own (see Solver)."""
    return Solver(options).solve(data, target, limits, adjust)


def _sold(data: ProblemData, relaxed: Solution) -> np.ndarray:
    assert data.tax is not None
    return relaxed.lot_sold if relaxed.lot_sold is not None else np.zeros(len(data.tax.lots))


def directed(
    data: ProblemData, relaxed: Solution, adjust: Adjust, forced: dict[str, int] | None = None
) -> Adjust:
    """`adjust` with each asset's direction fixed from the relaxed solution (taxes.py)."""
    assert data.tax is not None
    total = data.total_value
    sold = _sold(data, relaxed)
    fixed = directions(
        data.tickers,
        data.values.to_numpy(dtype=float) > 0,
        relaxed.trades.to_numpy(dtype=float) / total,
        data.tax,
        data.prices,
        sold,
        forced,
    )
    return dataclasses.replace(
        adjust,
        directed=True,
        sell_only=fixed.sell_only,
        buy_only=fixed.buy_only,
        no_loss=fixed.no_loss,
        wash_blocked=fixed.blocked,
    )


def _above_cap(form: Formulation, x: np.ndarray | None) -> frozenset[str]:
    """The companies above their max_position at `x` (a solved formulation's), found by the
    look-through: those held through several names without a row of their own."""
    if x is None:
        return frozenset()
    inputs = form.inputs
    assert inputs is not None
    cap = next(limit for limit in form.limits if limit.name == "max_position")
    through = inputs.data.through
    weights = through.values(np.maximum(x[: inputs.data.n], 0.0))
    caps = inputs.company_cap(cap.limit, getattr(cap, "room", 1.0))
    over = weights > caps + ABOVE
    return frozenset(str(c) for c in through.companies[over])


def solution(form: Formulation, status: str, solver: str, x: np.ndarray | None) -> Solution:
    """A Solution from a solved formulation's x (None when infeasible), padding cut off."""
    data = form.data
    total = data.total_value
    x0 = form.x0
    x = x0 if x is None else np.maximum(x[: data.n], 0.0)
    dx = x - x0
    figures = {term.name: float(term(dx)) for term in form.terms}
    taxed = [t for t in form.terms if isinstance(t, TaxTerm)]
    return Solution(
        lot_sold=taxed[0].lot_values() if taxed and x is not None else None,
        status=status,
        solver=solver,
        values=pd.Series(x * total, index=data.tickers, name="value"),
        trades=pd.Series(dx * total, index=data.tickers, name="trade"),
        objective=sum(figures.values()),
        terms=figures,
    )


def run(
    problem: cp.Problem, x: cp.Variable, solvers: tuple[str, ...], *, plain: bool = True
) -> tuple[str, str, np.ndarray | None]:
    """Solve with each solver in turn until one is sure: (status, solver, x or None).
    `plain`: parameters read as constants; else the problem is compiled once (DPP)."""
    fallback: tuple[str, str, np.ndarray | None] | None = None
    failures: list[str] = []
    cause: Exception | None = None
    for name in solvers:
        if name == cp.HIGHS and not problem.is_qp():
            continue
        try:
            with (
                _quiet_c_stdout() if name == cp.HIGHS else contextlib.nullcontext(),
                warnings.catch_warnings(),
            ):
                # The status says it, and is handled below; cvxpy's warning would only print.
                warnings.filterwarnings("ignore", "Solution may be inaccurate", UserWarning)
                # No warm start: a compiled problem re-solved must give what a fresh one gives.
                # Plain: cvxpy's own choice, its C++ backend (it warns, and falls back to
                # another, only where that does not take a problem).
                warnings.filterwarnings("ignore", "The problem includes expressions", UserWarning)
                backend = None if plain else BACKEND
                problem.solve(
                    solver=name, warm_start=False, ignore_dpp=plain, canon_backend=backend
                )
        except (cp.error.SolverError, ValueError, ArithmeticError) as exc:
            failures.append(f"{name}: {exc}")
            cause = exc
            continue
        status = str(problem.status)
        if status == OPTIMAL and x.value is not None:
            return status, name, np.asarray(x.value, dtype=float).copy()
        if status == INFEASIBLE:
            return status, name, None
        failures.append(f"{name}: {status}")
        if fallback is None and status == INACCURATE and x.value is not None:
            fallback = status, name, np.asarray(x.value, dtype=float).copy()
        elif fallback is None and status == cp.INFEASIBLE_INACCURATE:
            fallback = INFEASIBLE, name, None
    if fallback is not None:
        return fallback
    raise SolverError(
        "the optimizer failed ("
        + "; ".join(failures or ["no solver could take the problem"])
        + "); this is a bug or a numerical breakdown: report it with the portfolio file"
    ) from cause


@contextlib.contextmanager
def _quiet_c_stdout() -> Iterator[None]:
    """Silence what a C library writes to file descriptor 1 (HiGHS prints a banner)."""
    fd = 1  # the C library writes here whatever Python's sys.stdout is
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stdout.flush()
    try:
        saved = os.dup(fd)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            try:
                yield
            finally:
                _flush_c_streams()
                os.dup2(saved, fd)
    finally:
        os.close(saved)


def _flush_c_streams() -> None:
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).fflush(None)
