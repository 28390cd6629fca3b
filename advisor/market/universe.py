"""The model's securities: stocks from the screener, stale fund holdings, funds; sectors; size.

Ranking universe: US-domiciled common stocks in the screener, one row per company (preferreds,
notes, funds and trusts left out by `screener.not_common`). Foreign
listings (mostly ADRs) are left out of the ranking because their market caps measure companies
whose home market is elsewhere (TSM, ASML); they are still in the model, banded against the
breakpoints the US ranking sets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.market.fundamentals import NASDAQ_TO_GICS, gics_sector
from advisor.market.ishares import FundHoldings
from advisor.market.screener import company_ids, not_common
from advisor.measures import BANDS
from advisor.portfolio.tickers import display_ticker, ticker_key

# Upper edges of cumulative market-cap share for each band (Morningstar's scheme).
BAND_EDGES = (0.40, 0.70, 0.90, 0.97, 1.00)
WINSOR = 3.0


def listed_stocks(screener: pd.DataFrame) -> pd.DataFrame:
    """Common equity from the screener, with company ids and the ranking flag."""
    stocks = screener[not_common(screener) == ""].copy()
    stocks["company"] = company_ids(stocks)
    stocks["adv"] = stocks["volume"] * stocks["price"]
    # The most traded class stands for its company in the ranking and lends it its market cap.
    primary = stocks.sort_values(["adv", "ticker"], ascending=[False, True]).drop_duplicates(
        "company"
    )
    stocks["market_cap"] = stocks["company"].map(primary.set_index("company")["market_cap"])
    stocks["ranked"] = stocks["ticker"].isin(primary["ticker"]) & (
        stocks["country"] == "United States"
    )
    stocks["listed"] = True
    stocks["market_cap_source"] = "reported"
    stocks["price_source"] = "Nasdaq screener last sale"
    return stocks


def unlisted_fund_holdings(stocks: pd.DataFrame, funds: dict[str, FundHoldings]) -> pd.DataFrame:
    """Fund holdings the screener lacks (delisted or renamed since the fund's date).

    They stay in the model so look-through is exact. Their market cap is estimated from the fund
    weight: in a cap-weighted fund, cap / holding value is about the same for every holding, so
    it is taken as the median of that ratio over the fund's listed holdings.
    """
    known = set(stocks["key"])
    caps = stocks.set_index("key")["market_cap"]
    rows = []
    for fund in sorted(funds, key=lambda t: funds[t].as_of, reverse=True):
        equity = funds[fund].equity.assign(key=lambda f: f["ticker"].map(ticker_key))
        matched = equity[equity["key"].isin(caps.index)]
        ratio = float(np.median(matched["key"].map(caps) / matched["market_value"]))
        for line in equity[~equity["key"].isin(known)].itertuples():
            if line.key in known:  # a second line of the same security
                continue
            known.add(line.key)
            rows.append(
                {
                    "ticker": display_ticker(line.ticker),
                    "key": line.key,
                    "name": line.name,
                    "price": line.price,
                    "market_cap": ratio * line.market_value,
                    "country": line.location,
                    "volume": 0.0,
                    "adv": 0.0,
                    "nasdaq_sector": "",
                    "industry": "",
                    "company": display_ticker(line.ticker),
                    "ranked": False,
                    "listed": False,
                    "market_cap_source": f"estimated from {fund} weight",
                    "price_source": f"{fund} holdings file",
                    "price_date": funds[fund].as_of.isoformat(),
                }
            )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    # Share classes held by funds (BFA and BFB) are one company; each class's estimate is that
    # class's value alone, so the company's cap is their sum.
    frame["company"] = company_ids(frame, caps_per_class=True)
    frame["market_cap"] = frame.groupby("company")["market_cap"].transform("sum")
    return frame


def sectors(
    stocks: pd.DataFrame, funds: dict[str, FundHoldings], sp500_sectors: pd.Series
) -> pd.DataFrame:
    """GICS sector per stock: iShares files (newest first), the S&P 500 list, else Nasdaq's."""
    sector = pd.Series(pd.NA, index=stocks["key"], dtype=object)
    source = pd.Series("", index=stocks["key"], dtype=object)
    for fund in sorted(funds, key=lambda t: funds[t].as_of, reverse=True):
        equity = funds[fund].equity
        found = pd.Series(
            equity["sector"].map(gics_sector).values, index=equity["ticker"].map(ticker_key)
        )
        found = found[~found.index.duplicated()].dropna()
        fill = sector.isna() & sector.index.isin(found.index)
        sector[fill] = found.reindex(sector.index)[fill]
        source[fill] = f"GICS ({fund} holdings)"
    fill = sector.isna() & sector.index.isin(sp500_sectors.index)
    sector[fill] = sp500_sectors.reindex(sector.index)[fill]
    source[fill] = "GICS (S&P 500 list)"
    mapped = stocks.set_index("key")["nasdaq_sector"].map(NASDAQ_TO_GICS)
    fill = sector.isna() & mapped.notna()
    sector[fill] = mapped[fill]
    source[fill] = "mapped from Nasdaq sector"
    source[sector.isna()] = "unknown"
    return pd.DataFrame(
        {"sector": sector.fillna("Unknown").values, "sector_source": source.values},
        index=stocks.index,
    )


def size(stocks: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Band, rank and size score per stock, and the universe's breakpoints and moments."""
    ranked = stocks[stocks["ranked"]].sort_values(["market_cap", "ticker"], ascending=[False, True])
    caps = ranked["market_cap"].to_numpy()
    cumulative = np.cumsum(caps) / caps.sum()
    # A company's band is set by where its cap starts in the cumulative ranking.
    start = cumulative - caps / caps.sum()
    floors = {}
    for band, (low, high) in zip(
        BANDS, zip((0.0, *BAND_EDGES[:-1]), BAND_EDGES, strict=True), strict=True
    ):
        inside = caps[(start >= low) & (start < high)]
        floors[band] = float(inside.min()) if len(inside) else float("nan")
    log_caps = np.log(caps)
    mean = float(np.sum(caps * log_caps) / caps.sum())
    std = float(np.std(log_caps, ddof=1))

    cap = stocks["market_cap"].to_numpy()
    bands = np.full(len(stocks), BANDS[-1], dtype=object)
    for name in reversed(BANDS[:-1]):
        bands[cap >= floors[name]] = name
    rank = 1 + np.searchsorted(-caps, -cap, side="left")
    score = np.clip((np.log(cap) - mean) / std, -WINSOR, WINSOR)
    frame = pd.DataFrame(
        {"band": bands, "size_rank": rank, "size_score": score}, index=stocks.index
    )
    universe = {
        "companies": len(ranked),
        "total_market_cap": float(caps.sum()),
        "log_cap_mean_cap_weighted": mean,
        "log_cap_std_equal_weighted": std,
        **{f"{band}_floor": floors[band] for band in BANDS},
    }
    return frame, universe
