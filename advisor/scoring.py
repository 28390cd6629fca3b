"""The `score` use case: portfolio file + market model -> positions and exposures."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from advisor.concentration import largest
from advisor.errors import InputError
from advisor.exposures import RISK_KEYS, Exposures, portfolio_exposures
from advisor.market import MarketModel, SizeScheme, cached_model, resolve_model_folder
from advisor.market.former import FormerTickers
from advisor.market.holdings import with_portfolio_funds
from advisor.portfolio.loading import (
    LoadedPortfolio,
    check_tax,
    load_portfolio,
    prices_file,
    resolve_tickers,
)
from advisor.prices import (
    PriceBook,
    PriceOptions,
    Quote,
    file_day,
    price_book,
    read_quotes,
    stale_warning,
)
from advisor.prices import stale as stale_prices
from advisor.writing import significant

POSITION_COLUMNS = ["ticker", "name", "type", "shares", "price", "price_source", "price_date"]


@dataclass(frozen=True)
class Scored:
    loaded: LoadedPortfolio
    model: MarketModel
    # by ticker: shares, price, price_source, price_date (ISO, "" unknown), value, type, name
    positions: pd.DataFrame
    exposures: Exposures
    scheme: SizeScheme
    prices: PriceOptions = dataclasses.field(default_factory=PriceOptions)
    book: PriceBook = dataclasses.field(default_factory=PriceBook)

    def quotes(self, tickers: Iterable[str]) -> dict[str, Quote]:
        """The price each of `tickers` is valued or traded at: a holding's (see positions),
        else the quotes files', else the model's; NaN and no source for one the model lacks."""
        wanted = list(dict.fromkeys(tickers))
        securities = self.model.securities
        known = securities.loc[securities.index.intersection(wanted), _PRICE]
        found = {t: Quote(float("nan"), "", None) for t in wanted}
        for ticker, price, source, day in known.itertuples():
            found[ticker] = Quote(float(price), f"model: {source}", _day(day))
        for ticker in wanted:
            quote = self.book.quote(ticker)
            if quote is not None:
                found[ticker] = quote
        held = self.positions[self.positions.index.isin(wanted)]
        for ticker, price, source, day in held[_PRICE].itertuples():
            found[ticker] = Quote(float(price), str(source), _day(day))
        return found

    def warnings(self, traded: Iterable[str] = ()) -> list[str]:
        """The quotes files' unknown tickers, and the stale prices among the holdings' and
        those of `traded`."""
        quotes = self.quotes([*self.positions.index, *traded])
        used = [(ticker, quote.day_text) for ticker, quote in quotes.items()]
        line = stale_warning(stale_prices(used, self.prices), self.prices.max_age_days)
        taxes = check_tax(self.loaded, self.prices.day)
        return [*self.book.warnings(), *([line] if line else []), *taxes]


_PRICE = ["price", "price_source", "price_date"]


def _day(text: object) -> date | None:
    """An ISO date from a table cell; None where it is empty or missing."""
    return date.fromisoformat(text) if isinstance(text, str) and text else None


def load_inputs(
    path: Path, model_override: str | None = None
) -> tuple[LoadedPortfolio, MarketModel]:
    loaded = load_portfolio(path)
    name = model_override or loaded.portfolio.model
    model = cached_model(resolve_model_folder(name, relative_to=path.parent))
    return loaded, with_portfolio_funds(loaded, model)


def load_book(loaded: LoadedPortfolio, model: MarketModel, options: PriceOptions) -> PriceBook:
    """The quotes of --prices and of the portfolio file's prices:, by the model's tickers."""
    given = (
        None
        if options.file is None
        else read_quotes(options.file, f"quotes {options.file} (--prices)")
    )
    listed_path = prices_file(loaded)
    listed = (
        None if listed_path is None else read_quotes(listed_path, f"quotes {listed_path} (prices:)")
    )
    return price_book(given, listed, model.tickers)


def former_tickers(model: MarketModel) -> FormerTickers:
    """The model's tickers of earlier years, to explain a ticker it lacks."""

    def listed() -> dict[str, str]:
        stocks = model.stocks
        names: dict[str, str] = stocks.loc[stocks["listed"], "name"].astype(str).to_dict()
        return names

    return FormerTickers(model.folder, listed)


def positions(
    loaded: LoadedPortfolio, model: MarketModel, book: PriceBook | None = None
) -> pd.DataFrame:
    """Shares, price (see advisor/prices.py for which one), its source and date, and value of
    each holding."""
    book = book or PriceBook()
    tickers = resolve_tickers(loaded, model.tickers, model.name, former_tickers(model).advice)
    columns = ["name", "type", "price", "price_source", "price_date"]
    holdings = loaded.portfolio.holdings
    order = [tickers[i] for i in range(len(holdings))]
    found = model.securities.loc[order, columns].to_dict("records")  # one lookup, not 50
    edited = file_day(loaded.path) if any(h.price is not None for h in holdings) else None
    rows = []
    for i, holding in enumerate(holdings):
        ticker, security = order[i], found[i]
        own = None if holding.price is None else Quote(holding.price, "portfolio file", edited)
        quote = book.quote(ticker, own)
        if quote is None:
            day = _day(security["price_date"])
            price, source = float(security["price"]), f"model: {security['price_source']}"
            day_text = day.isoformat() if day else ""
        else:
            price, source, day_text = quote.price, quote.source, quote.day_text
        if not price == price or price <= 0:  # NaN: a fund whose file gave no NAV
            raise InputError(
                loaded.where(f"holdings[{i}].price"),
                "is needed",
                value=None if holding.price is None else holding.price,
                fix=f"model {model.name} has no price for {ticker}; add price: to this holding "
                "or give it in a prices file",
            )
        rows.append(
            {
                "ticker": ticker,
                "name": security["name"],
                "type": security["type"],
                "shares": holding.quantity,
                "price": price,
                "price_source": source,
                "price_date": day_text,
                "value": holding.quantity * price,
            }
        )
    frame = pd.DataFrame(rows, columns=[*POSITION_COLUMNS, "value"])
    return frame.set_index("ticker", drop=False).rename_axis(None)


def score(
    path: Path,
    scheme: SizeScheme = SizeScheme.cumulative,
    model_override: str | None = None,
    prices: PriceOptions | None = None,
) -> Scored:
    prices = prices or PriceOptions()
    loaded, model = load_inputs(path, model_override)
    book = load_book(loaded, model, prices)
    held = positions(loaded, model, book)
    check_tax(loaded, prices.day)  # its warnings are the Scored's
    exposures = portfolio_exposures(held["value"], loaded.portfolio.cash, model.exposures(scheme))
    values = held.groupby(level=0, sort=False)["value"].sum()
    exposures = dataclasses.replace(exposures, companies=largest(model, values, exposures.value))
    return Scored(loaded, model, held, exposures, scheme, prices, book)


def exposures_dict(exposures: Exposures) -> dict[str, Any]:
    """The measures as `advisor score --json` prints them (also `before`/`after` in proposals)."""
    out: dict[str, Any] = {
        "value": exposures.value,
        "cash": exposures.cash,
        "equity_value": exposures.equity_value,
        "bands": exposures.bands,
        "small_cap_share": exposures.small_cap_share,
        "size_score": exposures.size_score,
        "geometric_mean_market_cap": exposures.geometric_mean_cap
        if exposures.equity_value > 0
        else None,
    }
    for measure, key in RISK_KEYS.items():
        out[key] = exposures.risk(measure)
    out["sectors"] = exposures.sectors
    out["estimated_share"] = exposures.estimated_share
    out["largest_companies"] = dict(exposures.companies)
    rounded: dict[str, Any] = _rounded(out)
    return rounded


def score_dict(scored: Scored) -> dict[str, Any]:
    out = exposures_dict(scored.exposures)
    out["size_scheme"] = scored.scheme.value
    out["positions"] = [
        {
            "ticker": row.ticker,
            "type": row.type,
            "shares": row.shares,
            "price": row.price,
            "price_source": row.price_source,
            "price_date": row.price_date,
            "value": row.value,
            "weight": row.value / scored.exposures.value if scored.exposures.value else 0.0,
        }
        for row in scored.positions.itertuples()
    ]
    out["funds"] = fund_baskets(scored)
    out["model"] = {"name": scored.model.name, "as_of": scored.model.as_of}
    out["portfolio"] = {"file": str(scored.loaded.path), "sha256": scored.loaded.sha256}
    out["run_date"] = scored.prices.day.isoformat()
    out["warnings"] = scored.warnings()
    rounded: dict[str, Any] = _rounded(out)
    return rounded


def basket_tickers(scored: Scored) -> list[str]:
    """The funds held, then those the portfolio file gives holdings for."""
    held = scored.positions.index[scored.positions["type"] == "fund"]
    return list(dict.fromkeys([*held, *(scored.model.meta.get("added_funds") or {})]))


def fund_baskets(scored: Scored) -> list[dict[str, Any]]:
    """What stands in for each fund's holdings where it is not the fund's own current basket
    (`score --json`), unmatched holdings of a portfolio's own funds listed with their weight."""
    found = (scored.model.fund_basket(t) for t in basket_tickers(scored))
    return [basket for basket in found if basket is not None]


def _rounded(value: Any) -> Any:
    """Floats at 8 significant digits, as in a proposal: byte-identical output."""
    if isinstance(value, float):
        return significant(value)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value
