"""Look-through concentration: each company's share of a portfolio, held directly (any share
class) and through funds. A fund is not a position: its holdings are, weighted by the fund.

The look-through is a sparse matrix, companies x tickers, of the dollars of each company per
dollar of each ticker: a stock puts 1 on its company, a fund its weights (classes summed).
Multiplying it by the tickers' values gives every company's value at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from scipy import sparse

    from advisor.market import MarketModel

LARGEST = 5  # companies shown by score and the reports


@dataclass(frozen=True)
class LookThrough:
    """Companies (rows) by tickers (columns): $ of each company per $ of each ticker."""

    companies: pd.Index
    tickers: pd.Index
    matrix: sparse.csr_array

    def values(self, ticker_values: np.ndarray) -> np.ndarray:
        """Each company's value, from the tickers' values (in the order of `tickers`)."""
        out: np.ndarray = self.matrix @ np.asarray(ticker_values, dtype=float)
        return out

    def subset(self, keep: np.ndarray) -> LookThrough:
        """The same companies over the tickers `keep` (a boolean mask) marks."""
        return LookThrough(self.companies, self.tickers[keep], self.matrix[:, np.flatnonzero(keep)])


def look_through(model: MarketModel, tickers: pd.Index) -> LookThrough:
    """The look-through of `tickers` (stocks and funds of `model`)."""
    from scipy import sparse  # here: `advisor score` never needs scipy (see largest)

    company = model.securities["company"]
    funds = [(i, t) for i, t in enumerate(tickers) if t in model.fund_weights]
    stock = ~np.isin(np.arange(len(tickers)), [i for i, _ in funds])
    names = [company.loc[tickers[stock]].to_numpy(dtype=object)]
    columns = [np.flatnonzero(stock)]
    weights = [np.ones(int(stock.sum()))]
    for column, fund in funds:
        held = model.fund_weights[fund]
        names.append(company.loc[held.index].to_numpy(dtype=object))
        columns.append(np.full(len(held), column))
        weights.append(held.to_numpy(dtype=float))
    codes, companies = pd.factorize(np.concatenate(names), sort=True)
    matrix = sparse.csr_array(
        (np.concatenate(weights), (codes, np.concatenate(columns))),
        shape=(len(companies), len(tickers)),
    )
    matrix.sum_duplicates()  # a fund holding two classes of one company
    return LookThrough(pd.Index(companies, name="company"), tickers, matrix)


def own_companies(tickers: pd.Index) -> LookThrough:
    """Each ticker a company of its own (a problem built without a market model)."""
    from scipy import sparse

    n = len(tickers)
    return LookThrough(pd.Index(tickers, name="company"), tickers, sparse.csr_array(sparse.eye(n)))


def largest(model: MarketModel, values: pd.Series, total: float) -> dict[str, float]:
    """The LARGEST companies' look-through shares of `total` (for score and the reports),
    summed with pandas from the model's fund weights by company: `advisor score` starts
    faster without scipy, and the optimizer's sparse look-through is checked against it."""
    company = model.securities["company"]
    direct: dict[str, float] = {}
    summed = pd.Series(dtype=float)
    for ticker, value in values[values > 0].items():
        held = model.fund_companies(str(ticker))
        if held is None:
            name = str(company.at[ticker])
            direct[name] = direct.get(name, 0.0) + float(value)
        else:
            summed = summed.add(held * float(value), fill_value=0.0)
    if total <= 0 or (summed.empty and not direct):
        return {}
    summed = summed.add(pd.Series(direct, dtype=float), fill_value=0.0) / total
    top = summed.sort_values(ascending=False, kind="stable").head(LARGEST)
    return {str(k): float(v) for k, v in top.items()}
