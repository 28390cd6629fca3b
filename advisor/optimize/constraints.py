"""Constraints: each a small object returning its cvxpy constraints on x (post-trade values as a
share of today's value V) and dx = x - x0 (the trade).

A measure that is a ratio to equity value, m = e'x / 1'x, is capped linearly: e'x <= L 1'x.
Each limit takes an optional nonnegative `slack` (in units of V) so the diagnosis can ask how
far it must move, and reports its `level` at a numpy solution in the user's units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

import cvxpy as cp
import numpy as np

Sense = Literal["max", "min"]


class Limit(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def limit(self) -> float: ...

    @property
    def sense(self) -> Sense: ...

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]: ...

    def level(self, x: np.ndarray, dx: np.ndarray) -> float: ...


def _ratio(exposure: np.ndarray, x: np.ndarray) -> float:
    equity = float(x.sum())
    return float(exposure @ x) / equity if equity > 0 else 0.0


@dataclass(frozen=True)
class RatioMax:
    """A portfolio measure (ratio to equity value) at most `limit`."""

    name: str
    exposure: np.ndarray
    limit: float
    sense: Sense = "max"

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        return [(self.exposure - self.limit) @ x <= slack]

    def level(self, x: np.ndarray, dx: np.ndarray) -> float:
        return _ratio(self.exposure, x)


@dataclass(frozen=True)
class Turnover:
    """Sum of |trade| at most `limit` (a share of today's value)."""

    limit: float
    name: str = "max_turnover"
    sense: Sense = "max"

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        return [cp.sum(cp.abs(dx)) <= self.limit + slack]

    def level(self, x: np.ndarray, dx: np.ndarray) -> float:
        return float(np.abs(dx).sum())


@dataclass(frozen=True)
class PositionCap:
    """Each capped security at most `limit` of the value after trades (1 - reserve of V)."""

    limit: float
    capped: np.ndarray  # bool mask of the securities this applies to
    room: float  # value after trades and reserved costs, as a share of V
    name: str = "max_position"
    sense: Sense = "max"

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        if not self.capped.any():
            return []
        return [x[np.flatnonzero(self.capped)] <= self.limit * self.room + slack]

    def level(self, x: np.ndarray, dx: np.ndarray) -> float:
        return float(x[self.capped].max()) / self.room if self.capped.any() else 0.0


@dataclass(frozen=True)
class SectorDrift:
    """Each sector's share of equity within `limit` of today's (`today`)."""

    sectors: np.ndarray  # n x S exposures to each sector
    today: np.ndarray  # S, today's sector shares
    limit: float
    name: str = "sector_drift_max"
    sense: Sense = "max"

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        drift = (self.sectors - self.today).T @ x
        band = self.limit * cp.sum(x) + slack
        return [drift <= band, -drift <= band]

    def level(self, x: np.ndarray, dx: np.ndarray) -> float:
        equity = float(x.sum())
        if equity <= 0:
            return 0.0
        return float(np.abs(self.sectors.T @ x / equity - self.today).max())


@dataclass(frozen=True)
class CashFloor:
    """Cash after trades and reserved costs at least `limit` of the value after them."""

    cash: float  # today's cash, share of V
    limit: float
    reserve: float  # costs set aside, share of V
    name: str = "cash_min"
    sense: Sense = "min"

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        after = self.cash - cp.sum(dx) - self.reserve
        return [after >= self.limit * (1 - self.reserve) - slack]

    def level(self, x: np.ndarray, dx: np.ndarray) -> float:
        return (self.cash - float(dx.sum()) - self.reserve) / (1 - self.reserve)


@dataclass(frozen=True)
class TargetBand:
    """The target measure within `band` of `value`: |(e - value)' x| <= band 1'x."""

    exposure: np.ndarray
    value: float
    band: float
    name: str = "target"

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        miss = (self.exposure - self.value) @ x
        room = self.band * cp.sum(x) + slack
        return [miss <= room, -miss <= room]

    def level(self, x: np.ndarray, dx: np.ndarray) -> float:
        return _ratio(self.exposure, x)


@dataclass(frozen=True)
class EquityFloor:
    """Equity after trades at least `least` (share of V). A rebalance rotates, it does not
    liquidate: at zero equity every ratio limit and the target band would hold vacuously."""

    least: float
    name: str = "equity_kept"

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        return [cp.sum(x) >= self.least]


@dataclass(frozen=True)
class TradeBounds:
    """lower <= dx <= upper: no shorting, no_buy / no_sell / buy_from, order-size caps."""

    lower: np.ndarray
    upper: np.ndarray
    name: str = "trade_bounds"

    def __call__(self, x: Any, dx: Any, slack: Any = 0.0) -> list[Any]:
        return [dx >= self.lower, dx <= self.upper]
