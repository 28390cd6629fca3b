"""ProblemData: the plain numbers the optimizer, the trade rounding and the checks work from.

The caller (rebalance.py) builds it from the portfolio and the market model; fund look-through is
already done in `exposures`. Every labelled object is indexed by `tickers`, in the same order;
`validate` (run on construction) says which one is not, and how.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from functools import cached_property
from typing import Final

import numpy as np
import pandas as pd

from advisor.concentration import LookThrough, own_companies
from advisor.measures import PROBLEM_COLUMNS
from advisor.tax.lots import TaxData

# Exposure columns every problem needs (sector columns 'sector:<GICS sector>' are extra).
MEASURES: Final = PROBLEM_COLUMNS
SECTOR_PREFIX: Final = "sector:"


class ImpactForm(enum.StrEnum):
    """How market impact grows with a trade's size t (in $) relative to daily volume (adv).

    POWER: impact_coef * |t|**1.5 / sqrt(adv), the square-root law (cost share ~ sqrt(t/adv)).
    QUADRATIC: impact_coef / sqrt(REFERENCE_PARTICIPATION) * t**2 / adv, the same law made
    quadratic so that both agree at a trade of REFERENCE_PARTICIPATION x adv.
    """

    POWER = "power"
    QUADRATIC = "quadratic"


REFERENCE_PARTICIPATION: Final = 0.01


@dataclass(frozen=True)
class ProblemData:
    """Holdings, candidates, exposures, risk model and costs for one rebalancing problem.

    Money is in USD; variances are annual. Shares held may be fractional.
    """

    tickers: pd.Index
    values: pd.Series  # $ held today (0 for candidates)
    shares: pd.Series  # shares held today
    prices: pd.Series  # $ per share, > 0
    cash: float
    exposures: pd.DataFrame  # tickers x (MEASURES + 'sector:...'), per $ of value
    loadings: pd.DataFrame  # tickers x factors
    factor_cov: pd.DataFrame  # factors x factors
    specific_var: pd.Series
    half_spread: pd.Series  # share of trade value
    adv: pd.Series  # average daily $ volume, > 0
    impact_coef: float
    commission: float  # $ per trade
    is_fund: pd.Series
    can_buy: pd.Series
    can_sell: pd.Series
    impact_form: ImpactForm = ImpactForm.QUADRATIC
    # Companies x tickers, funds looked through; None: each ticker is a company of its own.
    lookthrough: LookThrough | None = None
    # A taxable account's lots and rates (advisor/tax/lots.py); None: trades are not taxed
    # (a deferred or exempt account, or the tax-blind comparison). Lots are of holdings,
    # which every subset keeps.
    tax: TaxData | None = None

    def __post_init__(self) -> None:
        self.validate()

    # -- derived figures -------------------------------------------------------------------

    @property
    def n(self) -> int:
        return len(self.tickers)

    @property
    def equity_value(self) -> float:
        return float(self.values.sum())

    @property
    def total_value(self) -> float:
        return self.cash + self.equity_value

    @cached_property
    def sectors(self) -> list[str]:
        """The sector columns of `exposures`, in their order."""
        return [c for c in self.exposures.columns if str(c).startswith(SECTOR_PREFIX)]

    @cached_property
    def through(self) -> LookThrough:
        """The look-through of the tickers to companies (see advisor/concentration.py)."""
        return self.lookthrough if self.lookthrough is not None else own_companies(self.tickers)

    def exposure(self, measure: str) -> np.ndarray:
        return np.asarray(self.exposures[measure].to_numpy(dtype=float))

    def subset(self, keep: np.ndarray) -> ProblemData:
        """The same problem over the tickers `keep` (a boolean mask) marks; every holding must
        be among them, so value, cash and every share of value stay as they are."""
        if (self.values.to_numpy(dtype=float)[~keep] > 0).any():
            raise ValueError("`subset` must keep every holding")
        rows = self.tickers[keep]
        changes = {name: getattr(self, name).loc[rows] for name in (*_SERIES, "exposures")}
        through = None if self.lookthrough is None else self.lookthrough.subset(keep)
        return dataclasses.replace(
            self, tickers=rows, loadings=self.loadings.loc[rows], lookthrough=through, **changes
        )

    # -- validation ------------------------------------------------------------------------

    def validate(self) -> None:
        """Raise ValueError naming the first misaligned or impossible input."""
        # No tickers at all is an account of cash alone with nothing to buy: nothing to solve.
        if not self.tickers.is_unique:
            dupes = sorted(self.tickers[self.tickers.duplicated()].astype(str).unique())
            raise ValueError(f"`tickers` must be unique, got duplicates {dupes[:5]}")
        for name in _SERIES:
            _check_labels(name, getattr(self, name), self.tickers)
        for name in ("exposures", "loadings"):
            frame = getattr(self, name)
            _check_labels(name, frame, self.tickers)
            _check_finite(name, frame.to_numpy(dtype=float))
        if self.lookthrough is not None and not self.lookthrough.tickers.equals(self.tickers):
            raise ValueError("`lookthrough` must have one column per ticker, in `tickers` order")
        missing = [m for m in MEASURES if m not in self.exposures.columns]
        if missing:
            raise ValueError(
                f"`exposures` must have columns {list(MEASURES)} (+ 'sector:...'); "
                f"missing {missing}"
            )
        factors = self.loadings.columns
        k = len(factors)
        cov = self.factor_cov
        if not (cov.index.equals(factors) and cov.columns.equals(factors)):
            raise ValueError(
                f"`factor_cov` must be of shape (k, k) with k={k} and be labelled by "
                f"`loadings.columns`, got {cov.shape}"
            )
        matrix = cov.to_numpy(dtype=float)
        _check_finite("factor_cov", matrix)
        if not np.allclose(matrix, matrix.T, atol=1e-12):
            raise ValueError("`factor_cov` must be symmetric")
        for name in _SERIES:
            _check_finite(name, getattr(self, name).to_numpy(dtype=float))
        self._check_signs()

    def _check_signs(self) -> None:
        for name, low, strict in _SIGNS:
            values = getattr(self, name).to_numpy(dtype=float)
            bad = values <= low if strict else values < low
            if bad.any():
                first = self.tickers[int(np.argmax(bad))]
                sign = ">" if strict else ">="
                raise ValueError(
                    f"`{name}` must be {sign} {low:g} for every ticker; "
                    f"{first!s} has {values[bad][0]:g}"
                )
        for name in ("cash", "impact_coef", "commission"):
            value = float(getattr(self, name))
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"`{name}` must be a finite number >= 0, got {value}")
        implied = self.shares.to_numpy(dtype=float) * self.prices.to_numpy(dtype=float)
        values = self.values.to_numpy(dtype=float)
        off = np.abs(implied - values) > 1e-6 * np.maximum(1.0, np.abs(values))
        if off.any():
            first = self.tickers[int(np.argmax(off))]
            raise ValueError(
                f"`values` must equal shares x prices; {first!s} has {values[off][0]:g}, "
                f"shares x price = {implied[off][0]:g}"
            )
        if self.total_value <= 0:
            raise ValueError("the portfolio has no value (cash and holdings are all zero)")


_SERIES: Final = (
    "values",
    "shares",
    "prices",
    "specific_var",
    "half_spread",
    "adv",
    "is_fund",
    "can_buy",
    "can_sell",
)
# (field, bound, strict): every value must be > bound (strict) or >= bound.
_SIGNS: Final = (
    ("values", 0.0, False),
    ("shares", 0.0, False),
    ("prices", 0.0, True),
    ("specific_var", 0.0, False),
    ("half_spread", 0.0, False),
    ("adv", 0.0, True),
)


def _check_labels(name: str, obj: pd.Series | pd.DataFrame, tickers: pd.Index) -> None:
    if obj.index.equals(tickers):
        return
    n = len(tickers)
    shape = "(n,)" if isinstance(obj, pd.Series) else "(n, k)"
    got = f"({len(obj)},)" if isinstance(obj, pd.Series) else f"{obj.shape}"
    missing = [str(t) for t in tickers.difference(obj.index)[:5]]
    extra = [str(t) for t in obj.index.difference(tickers)[:5]]
    detail = f"; missing {missing}" if missing else ""
    detail += f"; not in tickers {extra}" if extra else ""
    if not detail:
        detail = "; same tickers in another order (reindex it by `tickers`)"
    raise ValueError(
        f"`{name}` must be of shape {shape} with n={n}, indexed by `tickers`, got {got}{detail}"
    )


def _check_finite(name: str, values: np.ndarray) -> None:
    if not np.isfinite(values).all():
        raise ValueError(f"`{name}` must be finite; it holds NaN or inf")
