"""Company fundamentals snapshots: what each reports, keyed by the spelling-free ticker key.

- Russell 3000 snapshot (Yahoo quote summaries): total debt, cash, revenue, operating margin, beta.
- S&P 500 annual 10-K fundamentals: EBIT, interest expense, short-term and long-term debt,
  revenue; each company's name from the securities list beside it.
- S&P 500 constituent list: GICS sector.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from advisor.portfolio.tickers import ticker_key

GICS_SECTORS = (
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
)
# iShares shortens one GICS name.
_ISHARES_SECTOR = {"Communication": "Communication Services"}
# Nasdaq's own sector scheme, mapped to the nearest GICS sector (used only where no GICS is known).
NASDAQ_TO_GICS = {
    "Technology": "Information Technology",
    "Finance": "Financials",
    "Health Care": "Health Care",
    "Consumer Discretionary": "Consumer Discretionary",
    "Industrials": "Industrials",
    "Real Estate": "Real Estate",
    "Energy": "Energy",
    "Utilities": "Utilities",
    "Consumer Staples": "Consumer Staples",
    "Basic Materials": "Materials",
    "Telecommunications": "Communication Services",
    "Miscellaneous": "Industrials",
}
# Yahoo's (Morningstar's) sectors and the pre-2018 GICS telecom sector, as today's GICS sectors.
OTHER_TO_GICS = {
    "Technology": "Information Technology",
    "Healthcare": "Health Care",
    "Financial Services": "Financials",
    "Consumer Cyclical": "Consumer Discretionary",
    "Consumer Defensive": "Consumer Staples",
    "Basic Materials": "Materials",
    "Telecommunications Services": "Communication Services",
}


def gics_sector(name: str) -> str | None:
    sector = _ISHARES_SECTOR.get(name, name)
    return sector if sector in GICS_SECTORS else None


def read_russell3000_snapshot(path: Path) -> tuple[pd.DataFrame, str]:
    """Name, debt, cash, revenue, operating margin and beta per company, and the snapshot's date."""
    raw = pd.read_csv(path, dtype={0: str})
    as_of = str(raw.columns[0])  # the first header cell is the data date
    frame = pd.DataFrame(
        {
            "key": raw.iloc[:, 0].astype(str).map(ticker_key),
            "name": raw["shortName"].astype(str).str.strip(),
            "sector": raw["sector"].map(lambda v: OTHER_TO_GICS.get(v, v)),
            "shares": pd.to_numeric(raw["sharesOutstanding"], errors="coerce"),
            "total_debt": pd.to_numeric(raw["totalDebt"], errors="coerce"),
            "total_cash": pd.to_numeric(raw["totalCash"], errors="coerce"),
            "total_revenue": pd.to_numeric(raw["totalRevenue"], errors="coerce"),
            "operating_margin": pd.to_numeric(raw["operatingMargins"], errors="coerce"),
            "beta": pd.to_numeric(raw["beta"], errors="coerce"),
        }
    )
    return frame.drop_duplicates("key").set_index("key").sort_index(), as_of


def read_sp500_fundamentals(path: Path) -> pd.DataFrame:
    """The latest fiscal year per company: EBIT, interest expense, short- and long-term debt."""
    raw = pd.read_csv(path)
    raw = raw.sort_values(["TickerSymbol", "PeriodEnding"]).drop_duplicates(
        "TickerSymbol", keep="last"
    )
    frame = pd.DataFrame(
        {
            "key": raw["TickerSymbol"].astype(str).map(ticker_key),
            "period_ending": raw["PeriodEnding"].astype(str),
            "ebit": raw["EarningsBeforeInterestandTax"].astype(float),
            "interest_expense": raw["InterestExpense"].astype(float).abs(),
            "short_term_debt": raw["Short-TermDebt/CurrentPortionofLong-TermDebt"].astype(float),
            "long_term_debt": raw["Long-TermDebt"].astype(float),
            "total_revenue": raw["TotalRevenue"].astype(float),
            "shares": raw["EstimatedSharesOutstanding"].astype(float),
        }
    )
    return frame.drop_duplicates("key").set_index("key").sort_index()


def read_sp500_names(path: Path) -> pd.DataFrame:
    """Company name and GICS sector per ticker key, from the securities list beside the 10-K
    file."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    names = pd.DataFrame(
        {
            "name": raw["Security"].str.strip().values,
            "sector": raw["GICS Sector"].map(lambda v: OTHER_TO_GICS.get(v, v)).values,
        },
        index=raw["Ticker symbol"].map(ticker_key),
    )
    return names[~names.index.duplicated()].sort_index()


def read_sp500_sectors(path: Path) -> pd.Series:
    """GICS sector per company key, from the S&P 500 constituent list."""
    raw = pd.read_csv(path, dtype=str)
    sectors = pd.Series(raw["GICS Sector"].values, index=raw["Symbol"].map(ticker_key))
    return sectors[~sectors.index.duplicated()].sort_index()
