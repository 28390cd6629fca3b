"""The portfolio file as pydantic models; loading and located errors live in loading.py."""

from __future__ import annotations

import math
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
    model_validator,
)

Ticker = Annotated[str, Field(min_length=1, max_length=12, pattern=r"^[A-Za-z0-9./\- ]+$")]

# Bounds the solver can work within (README, "Limits of a portfolio file"): past them a value is
# a typo, and its squares overflow or swamp every other figure in the optimization.
MAX_SHARES = 1e12
MAX_PRICE = 1e6  # $ per share; Berkshire A is under $1M
MAX_CASH = 1e15
SharesHeld = Annotated[float, Field(ge=0, le=MAX_SHARES)]
Price = Annotated[float, Field(gt=0, le=MAX_PRICE)]


class _Strict(BaseModel):
    # Unknown keys are errors: a typo must never silently drop a limit.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


class Lot(_Strict):
    shares: Annotated[float, Field(gt=0, le=MAX_SHARES)]
    cost_basis: Annotated[float, Field(ge=0, le=MAX_PRICE)] | None = None
    acquired: date | None = None

    _finite_fields = field_validator("shares", "cost_basis")(_finite)


class Holding(_Strict):
    ticker: Ticker
    shares: SharesHeld | None = None
    price: Price | None = None
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
            if total > MAX_SHARES:
                raise ValueError(f"lots add up to {total:g} shares, more than {MAX_SHARES:g}")
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

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    refinancing_max: Annotated[float, Field(ge=0)] | None = None
    """$ of debt due within 24 months per $ of equity owned (default 0.10)."""
    floating_debt_max: Annotated[float, Field(ge=0)] | None = None
    """$ of floating-rate debt per $ of equity owned (default 0.10)."""
    weak_coverage_max: Share | None = None
    """Share of equity in companies with interest coverage below 1.5 (default 0.25)."""
    unprofitable_max: Share | None = None
    """Share of equity in companies with negative earnings (default 0.25)."""
    economic_sensitivity_max: Annotated[float, Field(ge=0)] | None = None
    """Weighted earnings sensitivity to US growth, market = 1 (default 1.40)."""
    max_turnover: Annotated[float, Field(ge=0, le=2)] | None = None
    """Sum of |trade value| / portfolio value (default 1.00)."""
    max_position: Annotated[float, Field(gt=0, le=1)] | None = None
    """Any one company's share of value, held directly and through funds (default 0.20)."""
    max_fund_position: Annotated[float, Field(gt=0, le=1)] | None = None
    """Any one fund's share of value (no default: a fund is not a position)."""
    sector_drift_max: Share | None = None
    """Each sector's share of equity within this of today's (default 0.10)."""
    cash_min: Share | None = None
    """Cash kept after trades, share of value (default 0.01, at most today's)."""
    cash_max: Share | None = None
    """Most cash after trades, share of value; above it cash is invested (default: never raised
    above max(today's share, cash_min))."""
    min_trade_value: Annotated[float, Field(ge=0, le=MAX_CASH)] | None = None
    """Smallest trade in USD (default 100); never waived."""
    min_trade_share: Share | None = None
    """Smallest trade as a share of value (default 0.002); the larger of it and min_trade_value
    applies."""
    min_position: Share | None = None
    """Smallest new position, share of value (default 0.005)."""
    whole_shares: bool = True
    """Trade whole shares only."""
    max_names: Annotated[StrictInt, Field(ge=1)] | None = None
    """At most this many holdings after trading (stocks and funds; cash is none); no default."""
    no_sell: list[Ticker] = []
    """Tickers never to sell."""
    no_buy: list[Ticker] = []
    """Tickers never to buy."""
    buy_from: list[str] = ["holdings"]
    """What may be bought: holdings, funds, all, or tickers (one alone needs no list)."""

    @field_validator("buy_from", mode="before")
    @classmethod
    def _one_source(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value  # `buy_from: all`

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


class FundHoldings(_Strict):
    """A fund the model lacks (or whose holdings the user has newer): its holdings file."""

    holdings: Annotated[str, Field(min_length=1, max_length=4096)]
    """The holdings CSV, relative to the portfolio file: an issuer's export or ticker,weight."""
    name: Annotated[str, Field(max_length=200)] | None = None
    """The fund's name, shown in reports (default: the file's, else the ticker)."""


class Account(StrEnum):
    taxable = "taxable"  # realized gains are taxed this year
    deferred = "deferred"  # IRA, 401(k): no tax on trades inside the account
    exempt = "exempt"  # Roth: no tax on trades inside the account


def _account(value: object) -> object:
    # Read from its text (a strict model takes only the enum itself otherwise).
    if isinstance(value, str):
        try:
            return Account(value)
        except ValueError:
            raise ValueError("must be taxable, deferred or exempt") from None
    return value


Rate = Annotated[float, Field(ge=0, le=1)]
Dollars = Annotated[float, Field(ge=-MAX_CASH, le=MAX_CASH)]


class RealizedGains(_Strict):
    """Net gains (losses negative) realized earlier this tax year, in USD."""

    short_term: Dollars = 0.0
    long_term: Dollars = 0.0

    _finite_fields = field_validator("short_term", "long_term")(_finite)


class RecentSale(_Strict):
    """A sale at a loss within the last 30 days: buying the security back (or one
    substantially identical) would be a wash sale."""

    ticker: Ticker
    date: date
    shares: Annotated[float, Field(gt=0, le=MAX_SHARES)]
    loss: Annotated[float, Field(ge=0, le=MAX_CASH)]

    _finite_fields = field_validator("shares", "loss")(_finite)


class Tax(_Strict):
    """How trades are taxed in this account (README, "Taxes")."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    account: Annotated[Account, BeforeValidator(_account)] = Account.taxable
    """taxable (default), deferred (IRA, 401k) or exempt (Roth)."""
    short_term_rate: Rate = 0.35
    """Rate on gains of lots held one year or less."""
    long_term_rate: Rate = 0.15
    """Rate on gains of lots held longer than one year."""
    realized_this_year: RealizedGains = RealizedGains()
    """Net gains already realized this tax year, counted in the netting and the budget."""
    gains_budget: Dollars | None = None
    """Most net gains (short + long term) realized this year, counting realized_this_year."""
    tax_weight: Annotated[float, Field(ge=0, le=100)] = 1.0
    """A dollar of tax against a dollar of trading cost in the objective."""
    recent_sales: list[RecentSale] = []
    """Sales at a loss in the last 30 days (for wash sales)."""

    _finite_fields = field_validator(
        "short_term_rate", "long_term_rate", "gains_budget", "tax_weight"
    )(_finite)

    @field_validator("account", mode="before")
    @classmethod
    def _account_name(cls, value: object) -> object:
        # YAML gives text, and strict loading takes only an Account: the text is read here.
        if isinstance(value, str):
            try:
                return Account(value)
            except ValueError:
                raise ValueError("is not an account kind") from None
        return value


class Portfolio(_Strict):
    account: str = ""
    model: str = "us-equity"
    cash: Annotated[float, Field(ge=0, le=MAX_CASH)] = 0.0
    # A quotes CSV (ticker, price, optional date), relative to the portfolio file.
    prices: Annotated[str, Field(min_length=1)] | None = None
    holdings: list[Holding] = []
    target: Target | None = None
    limits: Limits = Limits()
    funds: dict[Ticker, FundHoldings] = {}
    tax: Tax = Tax()

    _finite_fields = field_validator("cash")(_finite)

    @field_validator("model", "prices")
    @classmethod
    def _path_text(cls, value: str | None) -> str | None:
        # A name is a folder or a path: it must be text the file system can take.
        if value is None:
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("is not valid text (a lone surrogate)") from None
        return value

    @field_validator("prices")
    @classmethod
    def _prices_path(cls, value: str | None) -> str | None:
        if value is not None and "\0" in value:
            raise ValueError("is not a file path (it has a NUL byte)")
        return value
