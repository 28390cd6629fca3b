"""The rebalancing problem compiled once, with parameters, and re-solved for each account.

cvxpy spends about 20 ms turning a 50-name problem into solver matrices and Clarabel about 3 ms
solving it. Written with parameters (DPP), the problem is compiled once per size and re-solving
only substitutes numbers, so a batch of accounts pays the compile once per process. Sizes are
padded to a multiple of PAD names (padding names: no value, no trade, no exposure) so accounts of
similar size share one compiled problem. A batch turns this on (`reuse`); one account alone is
solved afresh, which is quicker than compiling. Only the usual case is compiled (quadratic
impact, hard target band, up to MAX_NAMES names): the compile grows about with n squared, so a
whole-universe problem is built afresh, as is a soft-target or 3/2-power one.

The numbers bound are read from the plain formulation `build` makes, and the constraints are the
same classes given parameters, so both are one problem; tests/test_compiled.py checks they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import cvxpy as cp
import numpy as np

from advisor.limits import RISK_LIMITS
from advisor.optimize import constraints as con
from advisor.optimize import terms as trm
from advisor.optimize.problem import Formulation, SolveOptions

PAD: Final = 32
MAX_NAMES: Final = 128  # compiling takes 0.24 s at 64 names, 0.56 s at 128, 1.7 s at 256
BACKEND: Final = "SCIPY"  # cvxpy's C++ backend does not take these parameters
BIG: Final = 2.0  # a position cap that never binds: no holding is worth more than V


@dataclass
class Compiled:
    """A parameterized problem and its parameters, by name."""

    problem: cp.Problem
    x: cp.Variable
    params: dict[str, cp.Parameter]


_CACHE: dict[tuple[Any, ...], Compiled] = {}
_reuse = False


def reuse(on: bool = True) -> None:
    """Solve through compiled problems from now on in this process (a batch turns it on: the
    compile costs more than building one problem afresh, and pays from a few accounts on)."""
    global _reuse
    _reuse = on


def fits(form: Formulation) -> bool:
    """Whether reuse is on and `form` has the shape the compiled problem takes."""
    names = {term.name for term in form.terms}
    impact = next(t for t in form.terms if isinstance(t, trm.ImpactCost))
    small = form.data.n <= MAX_NAMES
    return _reuse and small and "target_miss" not in names and impact.power == 2


def solve(form: Formulation, options: SolveOptions) -> tuple[str, str, np.ndarray | None]:
    """Solve `form` through the compiled problem of its size: (status, solver, x or None)."""
    from advisor.optimize.solve import run

    n = -(-form.data.n // PAD) * PAD
    by_name = {limit.name: limit for limit in form.limits}
    sectors = by_name.get("sector_drift_max")
    s = 0 if not isinstance(sectors, con.SectorDrift) else sectors.sectors.shape[1]
    risk = _term(form, trm.RiskChange)
    key = (n, risk.root.shape[0], s, form.target is not None, options)
    compiled = _CACHE.get(key)
    if compiled is None:
        compiled = _CACHE[key] = _compile(n, risk.root.shape[0], s, form.target is not None,
                                          options)  # fmt: skip
    _bind(compiled, form, n)
    status, solver, x = run(compiled.problem, compiled.x, options.solvers, BACKEND)
    return status, solver, None if x is None else x[: form.data.n]


def _term(form: Formulation, kind: type) -> Any:
    return next(term for term in form.terms if isinstance(term, kind))


def _compile(n: int, k: int, s: int, with_target: bool, weights: SolveOptions) -> Compiled:
    """The problem of `build` with every number a parameter but the options' weights; x and dx
    both variables (tied by x == x0 + dx) so that no parameter multiplies another, as DPP
    requires."""
    p: dict[str, cp.Parameter] = {}

    def param(name: str, shape: tuple[int, ...] = (), nonneg: bool = False) -> Any:
        # Any: the term and constraint classes take arrays or cvxpy objects alike.
        p[name] = cp.Parameter(shape, name=name, nonneg=nonneg)
        return p[name]

    x, dx = cp.Variable(n, name="x"), cp.Variable(n, name="dx")
    # The quadratic terms on variables of their own, so the quadratic part holds no parameter
    # and stays a QP's objective (Clarabel solves it as one; parameters inside a square would
    # make cones of it, about four times slower here).
    risk, specific, impact = cp.Variable(k), cp.Variable(n), cp.Variable(n)
    objective = (
        trm.SpreadCost(param("spread", (n,), True))(dx)
        + cp.sum_squares(impact) + cp.sum_squares(risk) + cp.sum_squares(specific)
        + trm.CashDrift(param("cash"), param("ceiling"), weights.cash_drift)(dx)
    )  # fmt: skip
    rules = [
        impact == cp.multiply(param("impact_root", (n,), True), dx),
        risk == param("root", (k, n)) @ dx,
        specific == cp.multiply(param("specific_sd", (n,), True), dx),
        x == param("x0", (n,)) + dx,
        *con.TradeBounds(param("lower", (n,)), param("upper", (n,)))(x, dx),
        *con.EquityFloor(param("least"))(x, dx),
        *con.Turnover(param("turnover"))(x, dx),
        x <= param("cap", (n,)),
        *con.CashFloor(param("cash_after"), param("cash_floor"), 0.0)(x, dx),
    ]
    for name in RISK_LIMITS:
        rules += con.RatioMax(name, param(f"{name}_exposure", (n,)), param(f"{name}_limit"))(x, dx)
    if s:
        table, today = param("sectors", (n, s)), param("today", (s,))
        rules += con.SectorDrift(table, today, param("drift_max"))(x, dx)
    if with_target:
        gap = param("gap", (n,))
        miss = cp.Variable()
        rules.append(miss == gap @ x)
        objective += weights.centre_weight * cp.square(miss)
        rules += con.TargetBand(gap, 0.0, param("band", (), True))(x, dx)
    return Compiled(cp.Problem(cp.Minimize(objective), rules), x, p)


def _bind(compiled: Compiled, form: Formulation, n: int) -> None:
    """Set every parameter from the plain formulation `form`, padded to n names."""
    p = compiled.params
    m = form.data.n

    def vector(values: np.ndarray, fill: float = 0.0) -> np.ndarray:
        out = np.full(n, fill)
        out[:m] = values
        return out

    spread, impact = _term(form, trm.SpreadCost), _term(form, trm.ImpactCost)
    risk, drift = _term(form, trm.RiskChange), _term(form, trm.CashDrift)
    p["spread"].value = vector(spread.half_spread)
    p["impact_root"].value = vector(np.sqrt(impact.coef))
    scale = np.sqrt(risk.aversion)
    root = np.zeros((risk.root.shape[0], n))
    root[:, :m] = scale * risk.root
    p["root"].value = root
    p["specific_sd"].value = vector(scale * risk.specific_sd)
    p["cash"].value, p["ceiling"].value = drift.cash, drift.ceiling
    p["x0"].value = vector(form.x0)
    p["lower"].value, p["upper"].value = vector(form.bounds.lower), vector(form.bounds.upper)
    p["least"].value = form.floor.least
    by_name = {limit.name: limit for limit in form.limits}
    p["turnover"].value = by_name["max_turnover"].limit
    cap = by_name["max_position"]
    assert isinstance(cap, con.PositionCap)
    p["cap"].value = vector(np.where(cap.capped, cap.limit * cap.room, BIG), BIG)
    floor = by_name["cash_min"]
    assert isinstance(floor, con.CashFloor)
    p["cash_after"].value = floor.cash - floor.reserve
    p["cash_floor"].value = floor.limit * (1 - floor.reserve)
    for name in RISK_LIMITS:
        ratio = by_name[name]
        assert isinstance(ratio, con.RatioMax)
        p[f"{name}_exposure"].value = vector(ratio.exposure)
        p[f"{name}_limit"].value = ratio.limit
    sectors = by_name.get("sector_drift_max")
    if isinstance(sectors, con.SectorDrift):
        table = np.zeros((n, sectors.sectors.shape[1]))
        table[:m] = sectors.sectors
        p["sectors"].value, p["today"].value = table, sectors.today
        p["drift_max"].value = sectors.limit
    if form.target is not None:
        p["gap"].value = vector(form.target.exposure - form.target.value)
        p["band"].value = form.target.band
