"""Substantially identical securities, for the wash-sale rule: the share classes of one company
(securities.csv `company`) and the funds tracking one index (the model's `same_index`)."""

from __future__ import annotations

from advisor.market import MarketModel


def identical(model: MarketModel, ticker: str) -> set[str]:
    """`ticker` and the securities substantially identical to it."""
    found = set(model.same_index(ticker))
    securities = model.securities
    if ticker in securities.index:
        company = securities.at[ticker, "company"]
        if isinstance(company, str) and company:
            found |= set(securities.index[securities["company"] == company].astype(str))
    return found
