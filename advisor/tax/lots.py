"""The lots of a taxable account, and which lots a sell takes.

A lot is short term at the run date when held one year or less (acquired after the run date less
one year); a lot of unknown date counts as short term. A holding without lots is one lot of
unknown basis: no gain is assumed on it, and the outputs name it.

`allocate` turns signed share quantities into shares sold from each lot: a deterministic rule of
the trade list alone, so that the checks and the proposal find the same lots. Lots go in order
of the tax a share of them adds (losses first, short-term losses before long-term ones, then the
smallest taxed gain), never a loss lot the wash-sale rule blocks: one the file forbids selling at
a loss, or one whose security (or a substantially identical one) the same trade list buys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from advisor.portfolio import Portfolio

LOT_TOL = 1e-9  # shares: a lot taken to within this is taken whole


def is_short(acquired: date | None, sold: date) -> bool:
    """Held one year or less when sold on `sold`: the holding period counts from the day after
    the purchase, so a lot sold on its anniversary is short term, and one bought on 29 February
    turns long after 28 February a year on (IRS Publication 550). A lot of unknown date is short
    term, as `apply` records it: a holding period that cannot be shown is not taken to be long
    (the estimate errs toward more tax, not less)."""
    if acquired is None:
        return True
    try:
        anniversary = acquired.replace(year=acquired.year + 1)
    except ValueError:  # bought on 29 February: a year later is 28 February
        anniversary = date(acquired.year + 1, 2, 28)
    return sold <= anniversary


@dataclass(frozen=True)
class TaxData:
    """What the optimizer, the checks and the proposal need of a taxable account's taxes.

    `lots`: one row per lot: ticker, shares, cost_basis (NaN where unknown), acquired (None
    where unknown), short (bool). Money in USD, rates as fractions.
    """

    lots: pd.DataFrame
    short_rate: float
    long_rate: float
    realized_short: float  # this year's net before the proposal
    realized_long: float
    budget: float | None  # most net gains this year, realized_this_year included
    weight: float  # tax_weight
    group: Mapping[str, str]  # ticker -> its substantially identical group
    no_loss_sale: Mapping[str, str] = field(default_factory=dict)  # ticker -> why (the file)
    no_buy: Mapping[str, str] = field(default_factory=dict)  # ticker -> why (the file)
    unknown_basis: tuple[str, ...] = ()

    def gain_per_share(self, prices: pd.Series) -> np.ndarray:
        """Each lot's gain per share sold at `prices` (0 where the basis is unknown)."""
        price = prices.reindex(self.lots["ticker"]).to_numpy(dtype=float)
        basis = self.lots["cost_basis"].to_numpy(dtype=float)
        return np.asarray(np.where(np.isnan(basis), 0.0, price - basis))

    def rate(self) -> np.ndarray:
        """Each lot's tax rate by its term."""
        short = self.lots["short"].to_numpy(dtype=bool)
        return np.asarray(np.where(short, self.short_rate, self.long_rate))

    def group_of(self, ticker: str) -> str:
        return self.group.get(ticker, ticker)

    @cached_property
    def lot_tickers(self) -> np.ndarray:
        return np.asarray(self.lots["ticker"].astype(str).to_numpy())

    @cached_property
    def lot_groups(self) -> np.ndarray:
        return np.asarray([self.group_of(t) for t in self.lot_tickers])


def lot_table(
    portfolio: Portfolio, tickers: Iterable[str], run_date: date
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The lots of every holding (tickers: each holding's resolved ticker, in file order),
    and the holdings without lots (one lot of unknown basis and date each)."""
    rows: list[tuple[str, float, float, date | None, bool, bool]] = []
    unknown: list[str] = []
    for holding, ticker in zip(portfolio.holdings, tickers, strict=True):
        if holding.lots is None:
            unknown.append(ticker)
            rows.append((ticker, holding.quantity, np.nan, None, True, False))
            continue
        for lot in holding.lots:
            basis = np.nan if lot.cost_basis is None else float(lot.cost_basis)
            short = is_short(lot.acquired, run_date)
            rows.append((ticker, float(lot.shares), basis, lot.acquired, short, True))
    # in_file: a lot the file lists (a holding without lots is one lot that is not listed)
    columns = ["ticker", "shares", "cost_basis", "acquired", "short", "in_file"]
    table = pd.DataFrame(rows, columns=columns)
    return table, tuple(dict.fromkeys(unknown))


def blocked_losses(tax: TaxData, quantities: pd.Series, gains: np.ndarray) -> np.ndarray:
    """The loss lots that may not be sold with this trade list: the file forbids selling their
    security at a loss, or the list buys it or a substantially identical security."""
    bought = {tax.group_of(str(t)) for t in quantities.index[quantities.to_numpy() > 0]}
    forbidden = np.isin(tax.lot_tickers, list(tax.no_loss_sale))
    if bought:
        forbidden |= np.isin(tax.lot_groups, list(bought))
    return np.asarray((gains < 0) & forbidden)


def allocate(tax: TaxData, quantities: pd.Series, prices: pd.Series) -> np.ndarray:
    """Shares sold from each lot (rows of tax.lots) for the signed `quantities`. A sell larger
    than the lots it may take is taken up to them (`sellable` bounds it beforehand)."""
    shares = tax.lots["shares"].to_numpy(dtype=float)
    gains = tax.gain_per_share(prices)
    available = np.where(blocked_losses(tax, quantities, gains), 0.0, shares)
    wanted = -quantities.reindex(tax.lot_tickers).fillna(0.0).to_numpy(dtype=float)
    # By ticker; within it, least tax a share first, then the smaller gain (the budget), then
    # file order: each lot takes what the sell still wants after the lots before it.
    order = np.lexsort((np.arange(len(shares)), gains, tax.rate() * gains, tax.lot_tickers))
    ranked = pd.Series(available[order])
    before = ranked.groupby(tax.lot_tickers[order]).cumsum().to_numpy() - ranked.to_numpy()
    take = np.clip(np.maximum(wanted[order], 0.0) - before, 0.0, available[order])
    take[take <= LOT_TOL] = 0.0
    sold = np.zeros(len(shares))
    sold[order] = take
    return sold


def sellable(tax: TaxData, quantities: pd.Series, prices: pd.Series) -> pd.Series:
    """The most shares of each ticker the trade list may sell: its lots less those blocked."""
    gains = tax.gain_per_share(prices)
    open_shares = tax.lots["shares"].where(~blocked_losses(tax, quantities, gains), 0.0)
    return open_shares.groupby(tax.lots["ticker"]).sum()
