"""The wash-sale rule as the portfolio file gives it (IRC section 1091, IRS Publication 550).

A loss on a sale is disallowed when substantially identical securities are bought within 30
days before or after the sale: a window of 61 days, the sale's own day in the middle. Counted in
calendar days, a day exactly 30 days away is inside the window (a buy on the 30th day after a
loss sale is a wash sale; on the 31st it is not). So, at the run date:

- a security sold at a loss 0 to 30 days ago (`tax.recent_sales`) must not be bought, nor one
  substantially identical to it;
- a security with a lot acquired 0 to 30 days ago must not be sold at a loss (that purchase
  falls within 30 days before the sale), nor one substantially identical to it.

Substantially identical: the same company's share classes (securities.csv `company`) and the
funds tracking the same index (the model's `same_index` groups). A deferred or exempt account
has no losses to disallow: no rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from advisor.market import MarketModel
from advisor.portfolio.loading import WASH_DAYS  # either side of a loss sale
from advisor.portfolio.model import Account, Portfolio


@dataclass(frozen=True)
class WashRules:
    """What the wash-sale rule forbids today, by the model's ticker, with the reason."""

    no_buy: dict[str, str]  # buying it would wash a recent loss sale
    no_loss_sale: dict[str, str]  # selling it at a loss would be washed by a recent purchase


def in_window(event: date, run_date: date) -> bool:
    """Whether `event` (a loss sale, or a purchase) is 0 to 30 days before `run_date`."""
    return timedelta(0) <= run_date - event <= timedelta(days=WASH_DAYS)


def identical(model: MarketModel, ticker: str) -> set[str]:
    """The securities substantially identical to `ticker`, itself included."""
    return set(model.same_index(ticker)) | set(model.share_classes(ticker))


def wash_rules(portfolio: Portfolio, model: MarketModel, run_date: date) -> WashRules:
    """The tickers not to buy and not to sell at a loss at `run_date`, from the file's
    `tax.recent_sales` and its lots' `acquired` dates. Tickers the model lacks are skipped
    (the portfolio's validation refuses them)."""
    if portfolio.tax.account != Account.taxable:
        return WashRules({}, {})
    no_buy: dict[str, str] = {}
    # The latest sale first: its window ends last, so its reason is the one that holds longest.
    for sale in sorted(portfolio.tax.recent_sales, key=lambda s: s.date, reverse=True):
        ticker = model.tickers.resolve(sale.ticker)
        if ticker is None or not in_window(sale.date, run_date):
            continue
        group = sorted(identical(model, ticker))
        until = sale.date + timedelta(days=WASH_DAYS + 1)
        reason = (
            f"{ticker} sold at a loss on {sale.date.isoformat()} (recent_sales): buying "
            f"{_either(group)} before {until.isoformat()} would be a wash sale"
        )
        for member in group:
            no_buy.setdefault(member, reason)
    no_loss_sale: dict[str, str] = {}
    bought = [
        (lot.acquired, ticker)
        for holding in portfolio.holdings
        if (ticker := model.tickers.resolve(holding.ticker)) is not None
        for lot in holding.lots or []
        if lot.acquired is not None and in_window(lot.acquired, run_date)
    ]
    for acquired, ticker in sorted(bought, reverse=True):
        group = sorted(identical(model, ticker))
        until = acquired + timedelta(days=WASH_DAYS + 1)
        reason = (
            f"{ticker} lot acquired on {acquired.isoformat()}: selling {_either(group)} at a "
            f"loss before {until.isoformat()} would be a wash sale"
        )
        for member in group:
            no_loss_sale.setdefault(member, reason)
    return WashRules(no_buy, no_loss_sale)


def _either(tickers: list[str]) -> str:
    return tickers[0] if len(tickers) == 1 else f"{', '.join(tickers[:-1])} or {tickers[-1]}"
