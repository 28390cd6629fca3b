"""Constraints: each a small object that owns its cvxpy parameters, binds one account's numbers
to them, and returns its cvxpy constraints on x (post-trade values as a share of today's value
V) and dx = x - x0 (the trade).

A measure that is a ratio to equity value, m = e'x / 1'x, is capped linearly: e'x <= L 1'x.
Each limit takes an optional nonnegative `slack` (in units of V) so the diagnosis can ask how
far it must move, and reports its `level` at a numpy solution in the user's units; `limit` is
the number bound for the account (the rule, less any margin the repair aims inside by).
"""

from __future__ import annotations

from typing import Any, Final, Protocol

import cvxpy as cp
import numpy as np
from scipy import sparse

from advisor.enums import Sense
from advisor.optimize.inputs import BIG, Inputs, Part

EQUITY_KEPT: Final = 0.5  # a rebalance keeps at least this share of today's equity invested


class Limit(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def limit(self) -> float: ...

    @property
    def sense(self) -> Sense: ...

    def bind(self, inputs: Inputs) -> None: ...

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]: ...

    def level(self, x: np.ndarray, dx: np.ndarray) -> float: ...


def _ratio(exposure: np.ndarray, x: np.ndarray) -> float:
    equity = float(x.sum())
    return float(exposure[: len(x)] @ x) / equity if equity > 0 else 0.0


def _tight(inputs: Inputs, name: str, rule: float) -> float:
    """The rule less the margin the repair aims inside it by, never below zero."""
    return max(rule - inputs.adjust.margin(name), 0.0)


class RatioMax(Part):
    """A portfolio measure (ratio to equity value) at most `limit`."""

    sense = Sense.MAX

    def __init__(self, name: str, measure: str, n: int) -> None:
        self.name, self.measure = name, measure
        self.exposure = cp.Parameter(n, name=f"{name}_exposure")
        self.cap = cp.Parameter(name=f"{name}_limit")
        self.limit = 0.0

    def bind(self, inputs: Inputs) -> None:
        self.limit = getattr(inputs.limits, self.name) - inputs.adjust.margin(self.name)
        self.exposure.value = inputs.pad(inputs.data.exposure(self.measure))
        self.cap.value = self.limit

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        return [(self.p(self.exposure) - self.p(self.cap)) @ x <= slack]

    def level(self, x: np.ndarray, dx: np.ndarray) -> float:
        return _ratio(np.asarray(self.exposure.value), x)


class Turnover(Part):
    """Sum of |trade| at most `limit` (a share of today's value)."""

    name = "max_turnover"
    sense = Sense.MAX

    def __init__(self) -> None:
        self.cap = cp.Parameter(nonneg=True, name="turnover")
        self.limit = 0.0

    def bind(self, inputs: Inputs) -> None:
        self.limit = _tight(inputs, self.name, inputs.limits.max_turnover)
        self.cap.value = self.limit

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        return [cp.sum(cp.abs(dx)) <= self.p(self.cap) + slack]

    def level(self, x: np.ndarray, dx: np.ndarray) -> float:
        return float(np.abs(dx).sum())


class PositionCap(Part):
    """max_position on each company looked through (held directly, in any share class, and
    through funds) and max_fund_position on each fund, of the value after trades (1 - reserve
    of V); a kept company or fund may stay at today's share. See Inputs.caps."""

    name = "max_position"
    sense = Sense.MAX

    def __init__(self, n: int, rows: int) -> None:
        """`rows`: the company rows of a compiled problem (a plain one states them sparse)."""
        self.cap = cp.Parameter(n, name="position_cap")
        self.rows = cp.Parameter((rows, n), name="company_rows") if rows else None
        self.row_cap = cp.Parameter(rows, name="company_cap") if rows else None
        self.limit, self.room = 0.0, 1.0
        self.matrix: Any = sparse.csr_matrix((0, n))  # plain: the rows as a sparse constant
        self.plain_caps = np.zeros(0)
        self.through: Any = np.zeros((0, 0))

    def bind(self, inputs: Inputs) -> None:
        self.limit = _tight(inputs, self.name, inputs.limits.max_position)
        self.room = 1.0 - inputs.adjust.reserve
        caps = inputs.caps(self.limit, self.room)
        self.cap.value = inputs.pad(caps.names, BIG)
        self.through = inputs.data.through.matrix
        if self.rows is not None and self.row_cap is not None:  # compiled: padded, dense
            rows = np.zeros(self.rows.shape)
            rows[: caps.rows.shape[0], : inputs.data.n] = caps.rows.toarray()
            self.rows.value = rows
            row_cap = np.full(self.row_cap.shape, BIG)
            row_cap[: len(caps.row_caps)] = caps.row_caps
            self.row_cap.value = row_cap
        else:
            self.matrix = sparse.csr_matrix(caps.rows)
            self.plain_caps = caps.row_caps

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        out = [x <= self.p(self.cap) + slack]
        if self.rows is not None and self.row_cap is not None:
            out.append(self.p(self.rows) @ x <= self.p(self.row_cap) + slack)
        elif self.matrix.shape[0]:
            out.append(self.matrix @ x <= self.plain_caps + slack)
        return out

    def level(self, x: np.ndarray, dx: np.ndarray) -> float:
        """The largest company's share of the value after trades, kept ones included: a
        max_position above it keeps none."""
        if not self.through.shape[0]:
            return 0.0
        return float((self.through @ x[: self.through.shape[1]]).max()) / self.room


class SectorDrift(Part):
    """Each sector's share of equity within `limit` of today's."""

    name = "sector_drift_max"
    sense = Sense.MAX

    def __init__(self, n: int, sectors: int) -> None:
        # Exposures to each sector less today's shares: one parameter, so that no broadcast
        # atom enters the problem (cvxpy's C++ backend takes none, and solves large ones faster).
        self.relative = cp.Parameter((n, sectors), name="sectors_relative")
        self.band = cp.Parameter(nonneg=True, name="drift_max")
        self.limit = 0.0
        self.table, self.today = np.zeros((0, sectors)), np.zeros(sectors)

    def bind(self, inputs: Inputs) -> None:
        data = inputs.data
        self.table = data.exposures[data.sectors].to_numpy(dtype=float)
        self.today = self.table.T @ inputs.x0 / inputs.equity
        relative = np.zeros(self.relative.shape)
        relative[: data.n] = self.table - self.today
        self.relative.value = relative
        self.limit = _tight(inputs, self.name, inputs.limits.sector_drift_max)
        self.band.value = self.limit

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        drift = self.p(self.relative).T @ x
        band = self.p(self.band) * cp.sum(x) + slack
        return [drift <= band, -drift <= band]

    def level(self, x: np.ndarray, dx: np.ndarray) -> float:
        equity = float(x.sum())
        if equity <= 0:
            return 0.0
        return float(np.abs(self.table[: len(x)].T @ x / equity - self.today).max())


class CashFloor(Part):
    """Cash after trades and reserved costs at least `limit` of the value after them."""

    name = "cash_min"
    sense = Sense.MIN

    def __init__(self) -> None:
        self.cash_after = cp.Parameter(name="cash_after")  # today's cash less the reserve
        self.floor = cp.Parameter(name="cash_floor")  # limit x (1 - reserve)
        self.limit, self.cash, self.reserve = 0.0, 0.0, 0.0

    def bind(self, inputs: Inputs) -> None:
        self.cash = inputs.data.cash / inputs.total
        self.limit = inputs.limits.cash_min + inputs.adjust.margin(self.name)
        self.reserve = inputs.adjust.reserve
        self.cash_after.value = self.cash - self.reserve
        self.floor.value = self.limit * (1 - self.reserve)

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        return [self.p(self.cash_after) - cp.sum(dx) >= self.p(self.floor) - slack]

    def level(self, x: np.ndarray, dx: np.ndarray) -> float:
        return (self.cash - float(dx.sum()) - self.reserve) / (1 - self.reserve)


class CashCeiling(Part):
    """Cash after trades and reserved costs at most `limit` of the value after them: cash is
    not raised to lift a ratio to equity (cash_max; by default today's share)."""

    name = "cash_max"
    sense = Sense.MAX

    def __init__(self) -> None:
        self.cash_after = cp.Parameter(name="ceiling_cash_after")  # today's cash less reserve
        self.ceiling = cp.Parameter(name="cash_ceiling")  # limit x (1 - reserve)
        self.limit, self.cash, self.reserve = 0.0, 0.0, 0.0

    def bind(self, inputs: Inputs) -> None:
        self.cash = inputs.data.cash / inputs.total
        # Aimed inside by the repair, never below the floor (halfway to it at most).
        limits = inputs.limits
        room = max(limits.cash_max - limits.cash_min, 0.0) / 2
        self.limit = limits.cash_max - min(inputs.adjust.margin(self.name), room)
        self.reserve = inputs.adjust.reserve
        self.cash_after.value = self.cash - self.reserve
        self.ceiling.value = self.limit * (1 - self.reserve)

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        return [self.p(self.cash_after) - cp.sum(dx) <= self.p(self.ceiling) + slack]

    def level(self, x: np.ndarray, dx: np.ndarray) -> float:
        return (self.cash - float(dx.sum()) - self.reserve) / (1 - self.reserve)


class TargetBand(Part):
    """The target measure within `band` of its value: |(e - value)' x| <= band 1'x."""

    name = "target"

    def __init__(self, n: int) -> None:
        self.gap = cp.Parameter(n, name="band_gap")
        self.band = cp.Parameter(nonneg=True, name="band")

    def bind(self, inputs: Inputs) -> None:
        self.gap.value = inputs.pad(inputs.target_gap)
        self.band.value = inputs.target_band

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        miss = self.p(self.gap) @ x
        room = self.p(self.band) * cp.sum(x) + slack
        return [miss <= room, -miss <= room]


class EquityFloor(Part):
    """Equity after trades at least `least` (share of V). A rebalance rotates, it does not
    liquidate: at zero equity every ratio limit and the target band would hold vacuously."""

    name = "equity_kept"

    def __init__(self) -> None:
        self.least = cp.Parameter(name="equity_least")

    def bind(self, inputs: Inputs) -> None:
        floor = equity_floor(inputs.equity, inputs.limits.cash_min, inputs.adjust.reserve)
        self.least.value = floor + inputs.adjust.margin(self.name)

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        return [cp.sum(x) >= self.p(self.least)]


def equity_floor(equity: float, cash_min: float, reserve: float) -> float:
    """The least equity (share of V) a rebalance keeps: EQUITY_KEPT of today's, lowered where
    the cash floor itself demands more cash than that leaves."""
    return min(EQUITY_KEPT * equity, 0.9 * (1 - cash_min) * (1 - reserve))


class TradeBounds(Part):
    """lower <= dx <= upper: no shorting, no_buy / no_sell / buy_from, order-size caps, the
    repair's frozen and minimum trades, the names max_names excludes, and the padding."""

    name = "trade_bounds"

    def __init__(self, n: int) -> None:
        self.lower = cp.Parameter(n, name="lower")
        self.upper = cp.Parameter(n, name="upper")
        self.x0 = cp.Parameter(n, name="x0")

    def bind(self, inputs: Inputs) -> None:
        lower, upper = trade_bounds(inputs)
        self.lower.value, self.upper.value = inputs.pad(lower), inputs.pad(upper)
        self.x0.value = inputs.pad(inputs.x0)

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        tie = [x == self.x0 + dx] if isinstance(dx, cp.Variable) else []  # a compiled problem's
        return [*tie, dx >= self.p(self.lower), dx <= self.p(self.upper)]


def trade_bounds(inputs: Inputs) -> tuple[np.ndarray, np.ndarray]:
    """The least and most each name may trade (share of V), unpadded."""
    data, adjust = inputs.data, inputs.adjust
    x0 = inputs.x0
    # A whole holding may be sold (rounding sells it all); a part of it, under the volume cap
    # by half a share, so that rounding stays under it.
    adv_cap = inputs.adv_cap
    part = np.maximum(adv_cap - inputs.half_share, 0.0)
    can_sell = data.can_sell.to_numpy(dtype=bool)
    lower = np.where(can_sell, -np.where(x0 <= adv_cap, x0, part), 0.0)
    upper = inputs.buy_room.copy()
    upper[inputs.kept_names] = 0.0  # a kept company may stay, not grow: none of its own bought
    frozen = inputs.mask(adjust.frozen)
    lower[frozen] = 0.0
    upper[frozen] = 0.0
    for ticker, least in adjust.at_least.items():
        if ticker not in data.tickers:
            continue  # left out of this problem (max_names keeps others): it trades nothing
        i = data.tickers.get_loc(ticker)
        if least > 0:
            lower[i] = min(max(lower[i], least), upper[i])
        else:
            upper[i] = max(min(upper[i], least), lower[i])
    out = inputs.mask(adjust.excluded)
    upper[out] = lower[out] = -x0[out]
    return lower, upper
