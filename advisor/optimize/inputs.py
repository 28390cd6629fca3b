"""The numbers of one account that the terms and constraints bind to their parameters.

Vectors of a problem that is compiled are padded to `size` names (a multiple of PAD): padding
names hold nothing and may not trade, so they change no answer, and accounts of similar size
share one compiled formulation. A larger problem, stated afresh at each solve, is not padded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

import cvxpy as cp
import numpy as np

from advisor.limits import EffectiveLimits
from advisor.optimize.data import ProblemData
from advisor.portfolio import Target

PAD: Final = 32
COMPILED_SIZE: Final = 128  # names; beyond it the solver's own time dominates (problem.py)
LOT_PAD: Final = 4  # lot slots per name of a compiled problem are padded to a multiple of this
ROW_PAD: Final = 8  # company rows of a compiled problem are padded to a multiple of this
BIG: Final = 2.0  # a position cap that never binds: no holding is worth more than V


class Part:
    """A term or constraint of the problem. A compiled problem states it with its parameters;
    a plain one with the numbers bound to them (`constant`), which cvxpy's C++ backend takes
    as they are, sparing a pass that turns every parameter into a constant before each solve."""

    constant = False

    def p(self, param: cp.Parameter) -> Any:
        return param.value if self.constant else param

    def coef(self, param: cp.Parameter, dx: Any, axis: int = 0) -> Any:
        """`param` as the coefficient of `dx`: as stated for the problem's own dx, else its
        numbers cut to dx's length (padding names trade nothing)."""
        full = param.ndim == 0 or dx.shape[0] == param.shape[axis]
        if isinstance(dx, cp.Expression) and full:
            return self.p(param)
        values = np.asarray(param.value)
        if values.ndim == 0:
            return float(values)
        n = dx.shape[0]
        return values[:n] if axis == 0 else values[:, :n]


@dataclass(frozen=True)
class SolveOptions:
    """How the problem is weighed and solved (defaults documented in README)."""

    risk_aversion: float = 1.0  # x the variance of the trade (annual), against costs in V
    centre_weight: float = 0.1  # x ((measure - target) x equity share) ** 2
    cash_drift: float = 0.02  # x the cash moved from today's share (kept within its limits)
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
    companies: companies capped by a row of the look-through (the solver adds those it finds
    above max_position; see Solver.solve).
    """

    reserve: float = 0.0
    margins: Mapping[str, float] = field(default_factory=dict)
    frozen: frozenset[str] = frozenset()
    at_least: Mapping[str, float] = field(default_factory=dict)
    soft_target: float = 0.0
    excluded: frozenset[str] = frozenset()
    companies: frozenset[str] = frozenset()  # held through several names, found at their cap
    # Taxes (advisor/optimize/taxes.py): the buy-or-sell direction of each asset, fixed from
    # the relaxed answer (`directed`), loss lots the wash-sale rule keeps, and why.
    directed: bool = False
    sell_only: frozenset[str] = frozenset()
    buy_only: frozenset[str] = frozenset()
    no_loss: frozenset[str] = frozenset()
    wash_blocked: tuple[str, ...] = ()

    def margin(self, name: str) -> float:
        return self.margins.get(name, 0.0)


def padded(n: int, pad: int = PAD) -> int:
    return -(-n // pad) * pad


@dataclass(frozen=True)
class CompanyCaps:
    """max_position on companies looked through, and max_fund_position on funds, as bounds on
    x (shares of today's value V, before the room left for costs):

    - `names`: a cap on each name alone (a company held through one name only; a fund);
    - `rows` x <= `row_caps`: companies held through several names (share classes, a stock and
      a fund holding it) that the solver found at their cap (Adjust.companies), as rows of the
      look-through. Most companies held through a fund never come near the cap, and a row for
      each would slow every solve.
    """

    names: np.ndarray
    rows: Any  # scipy sparse, companies x names
    row_caps: np.ndarray


@dataclass(frozen=True)
class Inputs:
    """One account's problem: its data, target, limits and the adjustment of this solve."""

    data: ProblemData
    target: Target | None
    limits: EffectiveLimits
    options: SolveOptions
    adjust: Adjust

    @property
    def size(self) -> int:
        size = padded(self.data.n)
        return size if size <= COMPILED_SIZE else self.data.n

    @property
    def total(self) -> float:
        return self.data.total_value

    @cached_property
    def x0(self) -> np.ndarray:
        """Today's values as a share of V, unpadded."""
        return np.asarray(self.data.values.to_numpy(dtype=float) / self.total)

    @cached_property
    def equity(self) -> float:
        return float(self.x0.sum())

    @cached_property
    def target_gap(self) -> np.ndarray:
        """How far each name's target measure is from the target value (unpadded)."""
        assert self.target is not None
        return self.data.exposure(self.target.measure) - self.target.value

    @property
    def target_band(self) -> float:
        """The target band less the margin the repair aims inside it by."""
        assert self.target is not None
        return max(self.target.band - self.adjust.margin("target"), 0.0)

    @cached_property
    def buy_room(self) -> np.ndarray:
        """The most each name may buy (share of V) under the order caps, less half a share so
        that rounding to whole shares stays under them; 0 where it may not."""
        data, options = self.data, self.options
        room = np.minimum(options.max_order_share, self.adv_cap) - self.half_share
        return np.asarray(np.where(data.can_buy.to_numpy(dtype=bool), np.maximum(room, 0.0), 0.0))

    @cached_property
    def adv_cap(self) -> np.ndarray:
        """The largest order in each name by its daily volume (share of V)."""
        adv = self.data.adv.to_numpy(dtype=float)
        return np.asarray(self.options.max_adv_share * adv / self.total)

    @cached_property
    def half_share(self) -> np.ndarray:
        """Half a share of each name (share of V) where trades are in whole shares, else 0."""
        if not self.limits.whole_shares:
            return np.zeros(self.data.n)
        return np.asarray(0.5 * self.data.prices.to_numpy(dtype=float) / self.total)

    @cached_property
    def kept_names(self) -> np.ndarray:
        """The stocks of kept companies (any share class) and the kept funds: not bought."""
        through, kept = self.data.through, self.limits.kept
        if not kept:
            return np.zeros(self.data.n, dtype=bool)
        rows = np.flatnonzero(through.companies.isin(list(kept)))
        own = np.asarray((through.matrix[rows] >= 1.0 - 1e-12).sum(axis=0)).ravel() > 0
        fund = self.data.is_fund.to_numpy(dtype=bool)
        return np.asarray((own & ~fund) | (fund & self.mask(kept)))

    def company_cap(self, tight: float, room: float = 1.0) -> np.ndarray:
        """Each company's cap (share of V): `tight` (max_position less any margin) x `room`,
        or the share a kept company may stay at (not less: it is not to be sold down)."""
        through, kept = self.data.through, self.limits.kept
        caps = np.full(len(through.companies), tight * room)
        for company, held in kept.items():
            i = through.companies.get_indexer([company])[0]
            if i >= 0:
                caps[i] = max(held.cap, caps[i])
        return caps

    @cached_property
    def _companies(self) -> tuple[np.ndarray, np.ndarray]:
        """Companies held through several names and given a row (Adjust.companies), and those
        held through one name only (bounds on that name)."""
        through = self.data.through
        count = np.diff(through.matrix.tocsr().indptr)
        rows = through.companies.isin(list(self.adjust.companies)) & (count >= 2)
        return np.flatnonzero(rows), np.flatnonzero(count == 1)

    @property
    def company_rows(self) -> int:
        """Company rows of the problem: padded when compiled (the shape's), else as many."""
        rows = len(self._companies[0])
        return padded(rows, ROW_PAD) if self.size <= COMPILED_SIZE else rows

    def caps(self, tight: float, room: float) -> CompanyCaps:
        """The caps with max_position at `tight`, and `room` (1 - reserve) of V after costs."""
        data, kept = self.data, self.limits.kept
        company = self.company_cap(tight, room)
        matrix = data.through.matrix
        names = np.full(data.n, BIG)
        multi, single = self._companies
        if len(single):
            part = matrix[single].tocoo()
            np.minimum.at(names, part.col, company[single][part.row] / part.data)
        fund_cap = self.limits.max_fund_position
        if fund_cap is not None:
            fund_cap = max(fund_cap - self.adjust.margin("max_fund_position"), 0.0)
            fund = data.is_fund.to_numpy(dtype=bool)
            for i in np.flatnonzero(fund):
                ticker = str(data.tickers[i])
                cap = max(kept[ticker].cap, fund_cap * room) if ticker in kept else fund_cap * room
                names[i] = min(names[i], cap)
        return CompanyCaps(names, matrix[multi], company[multi])

    @property
    def with_sectors(self) -> bool:
        return bool(self.data.sectors) and self.equity > 0

    def pad(self, values: Any, fill: float = 0.0) -> np.ndarray:
        """`values` (one per ticker) padded to `size` with `fill`."""
        out = np.full(self.size, fill)
        out[: self.data.n] = np.asarray(values, dtype=float)
        return out

    def mask(self, tickers: Any) -> np.ndarray:
        """Which of the tickers are in `tickers` (unpadded)."""
        return np.asarray(self.data.tickers.isin(list(tickers)))
