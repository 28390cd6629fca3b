"""The wash-sale rules that come from the portfolio file (a minimal form; see README "Taxes").

A sale at a loss in the last 30 days (tax.recent_sales) blocks buying that security and any
substantially identical one; a lot acquired in the last 30 days blocks selling its security at
a loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from advisor.market import MarketModel
from advisor.portfolio import Portfolio
from advisor.tax.groups import identical

WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class WashRules:
    no_buy: dict[str, str] = field(default_factory=dict)  # ticker -> reason
    no_loss_sale: dict[str, str] = field(default_factory=dict)  # ticker -> reason


def wash_rules(portfolio: Portfolio, model: MarketModel, run_date: date) -> WashRules:
    rules = WashRules()
    for sale in portfolio.tax.recent_sales:
        if not run_date - WINDOW <= sale.date <= run_date:
            continue
        ticker = model.tickers.resolve(sale.ticker) or sale.ticker
        for other in sorted(identical(model, ticker)):
            why = f"sold {ticker} at a loss on {sale.date.isoformat()} (recent_sales)"
            rules.no_buy.setdefault(other, why)
    for holding in portfolio.holdings:
        ticker = model.tickers.resolve(holding.ticker) or holding.ticker
        for lot in holding.lots or []:
            if lot.acquired is not None and run_date - WINDOW <= lot.acquired <= run_date:
                why = f"a lot bought {lot.acquired.isoformat()}, within 30 days"
                rules.no_loss_sale.setdefault(ticker, why)
    return rules
