"""The portfolio file as pydantic models; loading and located errors live in loading.py."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

Ticker = Annotated[str, Field(min_length=1, max_length=12, pattern=r"^[A-Za-z0-9./\- ]+$")]


class _Strict(BaseModel):
    # Unknown keys are errors: a typo must never silently drop a limit.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


class Lot(_Strict):
    shares: Annotated[float, Field(gt=0)]
    cost_basis: Annotated[float, Field(ge=0)] | None = None
    acquired: date | None = None

    _finite_fields = field_validator("shares", "cost_basis")(_finite)


class Holding(_Strict):
    ticker: Ticker
    shares: Annotated[float, Field(ge=0)] | None = None
    price: Annotated[float, Field(gt=0)] | None = None
    lots: list[Lot] | None = None

    _finite_fields = field_validator("shares", "price")(_finite)

    @model_validator(mode="after")
    def _shares_or_lots(self) -> Holding:
        if self.lots is None and self.shares is None:
            raise ValueError("needs shares or lots")
        if self.lots is not None:
            if not self.lots:
                raise ValueError("lots must not be empty")
            total = sum(lot.shares for lot in self.lots)
            if self.shares is not None and not math.isclose(self.shares, total, rel_tol=1e-9):
                raise ValueError(f"shares {self.shares:g} differ from the sum of lots {total:g}")
        return self

    @property
    def quantity(self) -> float:
        """Shares held: the sum of the lots when lots are given."""
        if self.lots is not None:
            return sum(lot.shares for lot in self.lots)
        assert self.shares is not None  # the validator guarantees it
        return self.shares


Share = Annotated[float, Field(ge=0, le=1)]


class Target(_Strict):
    small_cap_share: Share | None = None
    size_score: Annotated[float, Field(ge=-3, le=3)] | None = None
    band: Annotated[float, Field(ge=0, le=1)] = 0.02

    _finite_fields = field_validator("small_cap_share", "size_score", "band")(_finite)

    @model_validator(mode="after")
    def _exactly_one(self) -> Target:
        chosen = [n for n in ("small_cap_share", "size_score") if getattr(self, n) is not None]
        if len(chosen) != 1:
            raise ValueError("give exactly one of small_cap_share or size_score")
        return self

    @property
    def measure(self) -> Literal["small_cap_share", "size_score"]:
        return "small_cap_share" if self.small_cap_share is not None else "size_score"

    @property
    def value(self) -> float:
        value = self.small_cap_share if self.small_cap_share is not None else self.size_score
        assert value is not None
        return value


BuySource = Literal["holdings", "funds", "all"]


class Limits(_Strict):
    """Every limit is optional; None means the documented default (see limits.py)."""

    refinancing_max: Annotated[float, Field(ge=0)] | None = None
    floating_debt_max: Annotated[float, Field(ge=0)] | None = None
    weak_coverage_max: Share | None = None
    unprofitable_max: Share | None = None
    economic_sensitivity_max: Annotated[float, Field(ge=0)] | None = None
    max_turnover: Annotated[float, Field(ge=0, le=2)] | None = None
    max_position: Annotated[float, Field(gt=0, le=1)] | None = None  # a company, looked through
    max_fund_position: Annotated[float, Field(gt=0, le=1)] | None = None  # one fund; no default
    sector_drift_max: Share | None = None
    cash_min: Share | None = None
    cash_max: Share | None = None
    min_trade_value: Annotated[float, Field(ge=0)] | None = None
    min_trade_share: Share | None = None
    min_position: Share | None = None
    whole_shares: bool = True
    # At most this many holdings after trading (stocks and funds; cash does not count).
    max_names: Annotated[StrictInt, Field(ge=1)] | None = None
    no_sell: list[Ticker] = []
    no_buy: list[Ticker] = []
    buy_from: list[str] = ["holdings"]

    _finite_fields = field_validator(
        "refinancing_max",
        "floating_debt_max",
        "weak_coverage_max",
        "unprofitable_max",
        "economic_sensitivity_max",
        "max_turnover",
        "max_position",
        "max_fund_position",
        "sector_drift_max",
        "cash_min",
        "cash_max",
        "min_trade_value",
        "min_trade_share",
        "min_position",
    )(_finite)

    @model_validator(mode="after")
    def _cash_range(self) -> Limits:
        low, high = self.cash_min, self.cash_max
        if low is not None and high is not None and high < low:
            raise ValueError(f"cash_max {high:g} is below cash_min {low:g}")
        return self


class Portfolio(_Strict):
    account: str = ""
    model: str = "us-equity"
    cash: Annotated[float, Field(ge=0)] = 0.0
    holdings: list[Holding] = []
    target: Target | None = None
    limits: Limits = Limits()

    _finite_fields = field_validator("cash")(_finite)
