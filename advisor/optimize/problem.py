"""The rebalancing problem: the sum of the terms, subject to the list of constraints.

Variable: x, post-trade values as a share of today's value V; dx = x - x0 is the trade and cash
after is c0 - sum(dx) - costs. Costs enter the objective exactly; in the cash floor and the
position caps they enter as a reserve (a constant) that the rounding step sets to the realised
costs when it matters, which keeps the problem a QP (HiGHS can take it when Clarabel cannot).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cvxpy as cp
import numpy as np

from advisor.limits import RISK_LIMITS, EffectiveLimits
from advisor.optimize import constraints as con
from advisor.optimize import terms as trm
from advisor.optimize.data import ProblemData
from advisor.portfolio import Target


@dataclass(frozen=True)
class SolveOptions:
    """How the problem is weighed and solved (defaults documented in README)."""

    risk_aversion: float = 1.0  # x the variance of the trade (annual), against costs in V
    centre_weight: float = 0.1  # x ((measure - target) x equity share) ** 2
    cash_drift: float = 0.02  # x the cash raised above max(today's cash, cash_min), share of V
    max_order_share: float = 0.25  # no buy above this share of V (pre-trade check)
    max_adv_share: float = 0.05  # no order above this share of the security's ADV
    solvers: tuple[str, ...] = ("CLARABEL", "HIGHS")


@dataclass(frozen=True)
class Adjust:
    """What rounding and repair change between solves; the default changes nothing.

    reserve: costs set aside in the cash floor and position caps (share of V).
    margins: constraint name -> how much tighter than the rule to aim (in the rule's units).
    frozen: tickers that must not trade. at_least: ticker -> a signed minimum trade (share of V).
    soft_target: when > 0, the target band is a penalty of this weight, not a constraint.
    excluded: tickers that must end at zero (sold out, or not bought), for max_names.
    """

    reserve: float = 0.0
    margins: Mapping[str, float] = field(default_factory=dict)
    frozen: frozenset[str] = frozenset()
    at_least: Mapping[str, float] = field(default_factory=dict)
    soft_target: float = 0.0
    excluded: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Formulation:
    """The built problem: its variable, terms and constraints, ready to solve or to relax."""

    data: ProblemData
    x0: np.ndarray
    x: cp.Variable
    terms: tuple[trm.Term, ...]
    limits: tuple[con.Limit, ...]
    bounds: con.TradeBounds
    floor: con.EquityFloor
    target: con.TargetBand | None

    @property
    def dx(self) -> Any:
        return self.x - self.x0

    def objective(self) -> Any:
        return trm.objective(list(self.terms), self.dx)

    def constraints(
        self, slacks: Mapping[str, Any] | None = None, *, with_target: bool = True
    ) -> list[Any]:
        slacks = slacks or {}
        out = self.bounds(self.x, self.dx) + self.floor(self.x, self.dx)
        if with_target and self.target is not None:
            out += self.target(self.x, self.dx)
        for limit in self.limits:
            out += limit(self.x, self.dx, slacks.get(limit.name, 0.0))
        return out

    def problem(self) -> cp.Problem:
        return cp.Problem(cp.Minimize(self.objective()), self.constraints())


def build(
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    options: SolveOptions | None = None,
    adjust: Adjust | None = None,
) -> Formulation:
    """The problem for `data` under `target` and `limits`, tightened by `adjust`."""
    options = options or SolveOptions()
    adjust = adjust or Adjust()
    total = data.total_value
    x0 = data.values.to_numpy(dtype=float) / total
    margin = adjust.margins
    terms: list[trm.Term] = [
        trm.SpreadCost(data.half_spread.to_numpy(dtype=float)),
        trm.ImpactCost.of(data),
        trm.RiskChange.of(data, options.risk_aversion),
        trm.CashDrift(
            data.cash / total, max(data.cash / total, limits.cash_min), options.cash_drift
        ),
    ]
    band = None
    if target is not None:
        exposure = data.exposure(target.measure)
        gap = exposure - target.value
        tight = max(target.band - margin.get("target", 0.0), 0.0)
        if adjust.soft_target > 0:
            terms.append(trm.TargetMiss(gap, x0, tight, adjust.soft_target))
        else:
            band = con.TargetBand(exposure, target.value, tight)
        terms.append(trm.TargetPull(gap, x0, options.centre_weight))
    return Formulation(
        data=data,
        x0=x0,
        x=cp.Variable(data.n, name="x"),
        terms=tuple(terms),
        limits=tuple(_limits(data, limits, x0, adjust)),
        bounds=_bounds(data, limits, options, adjust, x0),
        floor=con.EquityFloor(
            equity_floor(float(x0.sum()), limits.cash_min, adjust.reserve)
            + margin.get("equity_kept", 0.0)
        ),
        target=band,
    )


EQUITY_KEPT = 0.5  # a rebalance keeps at least this share of today's equity invested


def equity_floor(equity: float, cash_min: float, reserve: float) -> float:
    """The least equity (share of V) a rebalance keeps: EQUITY_KEPT of today's, lowered where
    the cash floor itself demands more cash than that leaves."""
    return min(EQUITY_KEPT * equity, 0.9 * (1 - cash_min) * (1 - reserve))


def _limits(
    data: ProblemData, limits: EffectiveLimits, x0: np.ndarray, adjust: Adjust
) -> list[con.Limit]:
    margin = adjust.margins
    out: list[con.Limit] = []
    for name, measure in RISK_LIMITS.items():
        level = getattr(limits, name) - margin.get(name, 0.0)
        out.append(con.RatioMax(name, data.exposure(measure), level))
    out.append(con.Turnover(max(limits.max_turnover - margin.get("max_turnover", 0.0), 0.0)))
    room = 1.0 - adjust.reserve
    capped = ~data.tickers.isin(list(limits.position_held))
    cap = max(limits.max_position - margin.get("max_position", 0.0), 0.0)
    out.append(con.PositionCap(cap, np.asarray(capped), room))
    equity = float(x0.sum())
    if data.sectors and equity > 0:
        sectors = data.exposures[data.sectors].to_numpy(dtype=float)
        drift = max(limits.sector_drift_max - margin.get("sector_drift_max", 0.0), 0.0)
        out.append(con.SectorDrift(sectors, sectors.T @ x0 / equity, drift))
    floor = limits.cash_min + margin.get("cash_min", 0.0)
    out.append(con.CashFloor(data.cash / data.total_value, floor, adjust.reserve))
    return out


def _bounds(
    data: ProblemData,
    limits: EffectiveLimits,
    options: SolveOptions,
    adjust: Adjust,
    x0: np.ndarray,
) -> con.TradeBounds:
    adv_cap = options.max_adv_share * data.adv.to_numpy(dtype=float) / data.total_value
    can_sell = data.can_sell.to_numpy(dtype=bool)
    can_buy = data.can_buy.to_numpy(dtype=bool, copy=True)
    can_buy &= ~np.asarray(data.tickers.isin(list(limits.position_held)))
    lower = np.where(can_sell, -np.minimum(x0, adv_cap), 0.0)
    upper = np.where(can_buy, np.minimum(options.max_order_share, adv_cap), 0.0)
    frozen = np.asarray(data.tickers.isin(list(adjust.frozen)))
    lower[frozen] = 0.0
    upper[frozen] = 0.0
    for ticker, least in adjust.at_least.items():
        i = data.tickers.get_loc(ticker)
        if least > 0:
            lower[i] = min(max(lower[i], least), upper[i])
        else:
            upper[i] = max(min(upper[i], least), lower[i])
    out = np.asarray(data.tickers.isin(list(adjust.excluded)))
    upper[out] = lower[out] = -x0[out]
    return con.TradeBounds(lower, upper)
