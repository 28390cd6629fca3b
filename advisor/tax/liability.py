"""The tax of a year's realized gains, with short- and long-term netting as US rules do.

Net short-term gains and net long-term gains are each summed; a net loss of one term offsets a
net gain of the other; what is left is taxed at its term's rate, and a net loss overall owes
nothing (the carry-forward and the $3,000 deduction against income are left out). The
optimizer uses a convex form of it (advisor/optimize/taxes.py); the figures reported are these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.tax.lots import TaxData


@dataclass(frozen=True)
class Realized:
    short_term: float
    long_term: float

    @property
    def net(self) -> float:
        return self.short_term + self.long_term


def year_tax(short: float, long: float, short_rate: float, long_rate: float) -> float:
    """The tax of a year with these net short- and long-term gains (losses negative)."""
    if short >= 0 and long >= 0:
        return short_rate * short + long_rate * long
    if short >= 0:  # a long-term loss offsets short-term gains
        return short_rate * max(short + long, 0.0)
    if long >= 0:  # a short-term loss offsets long-term gains
        return long_rate * max(short + long, 0.0)
    return 0.0


def realized(tax: TaxData, sold: np.ndarray, prices: pd.Series) -> Realized:
    """Net gains of the shares sold from each lot, by term."""
    gains = tax.gain_per_share(prices) * sold
    short = tax.lots["short"].to_numpy(dtype=bool)
    return Realized(float(gains[short].sum()), float(gains[~short].sum()))


def year_realized(tax: TaxData, by_proposal: Realized) -> Realized:
    return Realized(
        tax.realized_short + by_proposal.short_term, tax.realized_long + by_proposal.long_term
    )


def estimated_tax(tax: TaxData, by_proposal: Realized) -> float:
    """The tax the proposal adds to the year: the year's tax with it less the year's without."""
    rates = (tax.short_rate, tax.long_rate)
    year = year_realized(tax, by_proposal)
    return year_tax(year.short_term, year.long_term, *rates) - year_tax(
        tax.realized_short, tax.realized_long, *rates
    )
