"""The `score` use case: portfolio file + market model -> positions and exposures."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from advisor.concentration import largest
from advisor.errors import InputError
from advisor.exposures import RISK_KEYS, Exposures, portfolio_exposures
from advisor.market import MarketModel, SizeScheme, cached_model, resolve_model_folder
from advisor.market.holdings import with_portfolio_funds
from advisor.portfolio.loading import LoadedPortfolio, load_portfolio, resolve_tickers
from advisor.writing import significant


@dataclass(frozen=True)
class Scored:
    loaded: LoadedPortfolio
    model: MarketModel
    positions: pd.DataFrame  # by ticker: shares, price, price_source, value, type, name
    exposures: Exposures
    scheme: SizeScheme


def load_inputs(
    path: Path, model_override: str | None = None
) -> tuple[LoadedPortfolio, MarketModel]:
    loaded = load_portfolio(path)
    name = model_override or loaded.portfolio.model
    model = cached_model(resolve_model_folder(name, relative_to=path.parent))
    return loaded, with_portfolio_funds(loaded, model)


def positions(loaded: LoadedPortfolio, model: MarketModel) -> pd.DataFrame:
    """Shares, price (the file's override, else the model's) and value of each holding."""
    tickers = resolve_tickers(loaded, model.tickers, model.name)
    columns = ["name", "type", "price", "price_source"]
    holdings = loaded.portfolio.holdings
    order = [tickers[i] for i in range(len(holdings))]
    found = model.securities.loc[order, columns].to_dict("records")  # one lookup, not 50
    rows = []
    for i, holding in enumerate(holdings):
        ticker, security = order[i], found[i]
        if holding.price is not None:
            price, source = holding.price, "portfolio file"
        else:
            price, source = float(security["price"]), str(security["price_source"])
        if not price == price or price <= 0:  # NaN: a fund whose file gave no NAV
            raise InputError(
                loaded.where(f"holdings[{i}].price"),
                "is needed",
                value=None if holding.price is None else holding.price,
                fix=f"model {model.name} has no price for {ticker}; add price: to this holding",
            )
        rows.append(
            {
                "ticker": ticker,
                "name": security["name"],
                "type": security["type"],
                "shares": holding.quantity,
                "price": price,
                "price_source": source,
                "value": holding.quantity * price,
            }
        )
    frame = pd.DataFrame(
        rows, columns=["ticker", "name", "type", "shares", "price", "price_source", "value"]
    )
    return frame.set_index("ticker", drop=False).rename_axis(None)


def score(
    path: Path, scheme: SizeScheme = SizeScheme.cumulative, model_override: str | None = None
) -> Scored:
    loaded, model = load_inputs(path, model_override)
    held = positions(loaded, model)
    exposures = portfolio_exposures(held["value"], loaded.portfolio.cash, model.exposures(scheme))
    values = held.groupby(level=0, sort=False)["value"].sum()
    exposures = dataclasses.replace(exposures, companies=largest(model, values, exposures.value))
    return Scored(loaded, model, held, exposures, scheme)


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
            "value": row.value,
            "weight": row.value / scored.exposures.value if scored.exposures.value else 0.0,
        }
        for row in scored.positions.itertuples()
    ]
    out["funds"] = fund_baskets(scored)
    out["model"] = {"name": scored.model.name, "as_of": scored.model.as_of}
    out["portfolio"] = {"file": str(scored.loaded.path), "sha256": scored.loaded.sha256}
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
