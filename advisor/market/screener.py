"""The Nasdaq stock screener export: every US-listed security with market cap, price and volume.

The screener lists preferreds, notes, warrants, rights and SPAC units beside common stock, often
carrying the parent company's market cap, and lists each share class of a company (GOOG and GOOGL)
with the company's whole market cap. Both would count a company twice in a size ranking, so this
module keeps common equity only and groups share classes into one company.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from advisor.market.ishares import number
from advisor.portfolio.tickers import display_ticker, ticker_key

# Securities that are not a company's common equity.
_NOT_COMMON = re.compile(
    r"%|\bwarrants?\b|\brights?\b|\bpreferred\b|\bnotes?\b|\bdebentures?\b|"
    r"depositary shares (each )?rep|\bperpetual\b|\bsubordinated\b",
    re.IGNORECASE,
)
_SPAC_UNIT = re.compile(r"\bunits?\b", re.IGNORECASE)
_PARTNERSHIP_UNIT = re.compile(r"common units|limited partner|\bL\.?P\.?\b", re.IGNORECASE)
_CLOSED_END_FUND = re.compile(r"\bfund\b", re.IGNORECASE)
# Words that name a share class rather than the company.
_CLASS_WORDS = re.compile(
    r"\b(class [a-z]|series [a-z]|common stock|capital stock|ordinary shares?|common shares?|"
    r"subordinate voting shares|voting|non-voting|inc|corp|corporation|co|company|ltd|plc|"
    r"holdings?|the)\b|[^a-z0-9 ]",
    re.IGNORECASE,
)


def read_screener(path: Path) -> pd.DataFrame:
    """All rows with a positive market cap, typed, one row per listed ticker."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = pd.DataFrame(
        {
            "ticker": raw["Symbol"].str.strip().map(display_ticker),
            "name": raw["Name"].str.strip(),
            "price": raw["Last Sale"].map(number),
            "market_cap": raw["Market Cap"].map(number),
            "country": raw["Country"].str.strip(),
            "volume": raw["Volume"].map(number),
            "nasdaq_sector": raw["Sector"].str.strip(),
            "industry": raw["Industry"].str.strip(),
        }
    )
    frame = frame[(frame["market_cap"] > 0) & (frame["price"] > 0) & (frame["ticker"] != "")]
    frame = frame[~frame["ticker"].str.contains("^", regex=False)]
    frame["key"] = frame["ticker"].map(ticker_key)
    # A key shared by two listings (ABC.A and ABCA) keeps the larger one; both are rare.
    frame = frame.sort_values("market_cap", ascending=False).drop_duplicates("key")
    return frame.sort_values("ticker").reset_index(drop=True)


def is_common_equity(name: str) -> bool:
    if _NOT_COMMON.search(name):
        return False
    if _SPAC_UNIT.search(name) and not _PARTNERSHIP_UNIT.search(name):
        return False
    return not _CLOSED_END_FUND.search(name)


def company_ids(frame: pd.DataFrame) -> pd.Series:
    """One id per company: share classes (GOOG and GOOGL, FOX and FOXA) share an id.

    Two listings are classes of one company when their names agree once class words are
    removed, their tickers agree but for the last letter or a suffix, and their market caps
    are within a factor of two (Nasdaq prices each class's cap at that class's price).
    """
    stem = frame["name"].str.lower().str.replace(_CLASS_WORDS, " ", regex=True)
    stem = stem.str.split().str.join(" ")
    ids = frame["ticker"].copy()
    for _, group in frame.groupby(stem, sort=False):
        if len(group) < 2:
            continue
        keys = group["ticker"].map(ticker_key)
        caps = group["market_cap"]
        prefix = _common_prefix(list(keys))
        if len(prefix) >= min(map(len, keys)) - 1 and caps.max() <= 2 * caps.min():
            ids.loc[group.index] = group.sort_values("ticker")["ticker"].iloc[0]
    return ids


def _common_prefix(words: list[str]) -> str:
    first, last = min(words), max(words)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]
