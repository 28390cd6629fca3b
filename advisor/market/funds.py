"""Funds the model knows by the index they track: which basket looks through for each, and which
funds track the same index (the wash-sale rule's "substantially identical").

A fund tracking the same index as a fund whose holdings the model has is looked through to that
basket: SPY's holdings are IVV's, up to cash and rounding. A close stand-in (another total-market
index, or a basket years old) is looked through the same way and marked approximate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Fund:
    ticker: str
    name: str
    issuer: str
    index: str  # the index the fund tracks, as its issuer names it
    basket: str  # the fund whose holdings stand in (itself where the model has its own)
    approximate: bool  # the basket follows another index, or is stale
    why: str = ""  # what makes an approximate basket approximate


S_P_500 = "S&P 500"
S_P_600 = "S&P SmallCap 600"
R1000, R2000, R3000 = "Russell 1000", "Russell 2000", "Russell 3000"
TOTAL = "total market: another index, close to the Russell 3000"
STALE = "the S&P 600 basket is IJR's 2021 holdings"

# One row per fund: the shipped baskets first, then the funds looked through to them.
FUNDS = (
    Fund("IVV", "iShares Core S&P 500 ETF", "iShares", S_P_500, "IVV", False),
    Fund("IWB", "iShares Russell 1000 ETF", "iShares", R1000, "IWB", False),
    Fund("IWM", "iShares Russell 2000 ETF", "iShares", R2000, "IWM", False),
    Fund("IWV", "iShares Russell 3000 ETF", "iShares", R3000, "IWV", False),
    Fund("IJR", "iShares Core S&P Small-Cap ETF", "iShares", S_P_600, "IJR", True, STALE),
    Fund("SPY", "SPDR S&P 500 ETF Trust", "State Street", S_P_500, "IVV", False),
    Fund("VOO", "Vanguard S&P 500 ETF", "Vanguard", S_P_500, "IVV", False),
    Fund("SPLG", "SPDR Portfolio S&P 500 ETF", "State Street", S_P_500, "IVV", False),
    Fund("VONE", "Vanguard Russell 1000 ETF", "Vanguard", R1000, "IWB", False),
    Fund("VTWO", "Vanguard Russell 2000 ETF", "Vanguard", R2000, "IWM", False),
    Fund("VTHR", "Vanguard Russell 3000 ETF", "Vanguard", R3000, "IWV", False),
    Fund(
        "VTI",
        "Vanguard Total Stock Market ETF",
        "Vanguard",
        "CRSP US Total Market",
        "IWV",
        True,
        TOTAL,
    ),
    Fund(
        "ITOT",
        "iShares Core S&P Total U.S. Stock Market ETF",
        "iShares",
        "S&P Total Market",
        "IWV",
        True,
        TOTAL,
    ),
    Fund(
        "SCHB",
        "Schwab U.S. Broad Market ETF",
        "Schwab",
        "Dow Jones U.S. Broad Stock Market",
        "IWV",
        True,
        TOTAL,
    ),
    Fund(
        "SPSM", "SPDR Portfolio S&P 600 Small Cap ETF", "State Street", S_P_600, "IJR", True, STALE
    ),
    Fund("VIOO", "Vanguard S&P Small-Cap 600 ETF", "Vanguard", S_P_600, "IJR", True, STALE),
)
BY_TICKER = {fund.ticker: fund for fund in FUNDS}


def is_stale(ticker: str) -> bool:
    """A fund whose own basket is approximate: years old, so used for its weights alone."""
    fund = BY_TICKER.get(ticker)
    return fund is not None and fund.basket == fund.ticker and fund.approximate


def stand_ins(baskets: set[str]) -> list[Fund]:
    """The funds looked through to another's basket, for the baskets a model has."""
    return [f for f in FUNDS if f.basket != f.ticker and f.basket in baskets]


def same_index_groups(tickers: set[str]) -> dict[str, list[str]]:
    """Funds among `tickers` grouped by the index they track (a group of two or more).

    Funds tracking one index hold the same stocks in the same weights: the wash-sale rule treats
    them as substantially identical. Funds tracking different indexes are not, however close
    (VTI, ITOT and SCHB each follow a different total-market index).
    """
    groups: dict[str, list[str]] = {}
    for fund in FUNDS:
        if fund.ticker in tickers:
            groups.setdefault(fund.index, []).append(fund.ticker)
    return {index: sorted(members) for index, members in groups.items() if len(members) > 1}


def stand_in_record(fund: Fund, basket_source: str) -> dict[str, Any]:
    """model.yaml's entry for a fund looked through to another's basket."""
    reason = f"{fund.basket}'s holdings ({basket_source}) stand in: " + (
        f"approximate, {fund.why}" if fund.approximate else f"both track the {fund.index}"
    )
    return {
        "name": fund.name,
        "issuer": fund.issuer,
        "index": fund.index,
        "basket": fund.basket,
        "approximate": fund.approximate,
        "reason": reason,
    }


@dataclass(frozen=True)
class AddedFund:
    """A fund from a holdings file, matched to a model's stocks (`MarketModel.with_funds`)."""

    ticker: str
    name: str
    weights: pd.Series  # over the model's stocks, summing to 1
    unmatched: pd.DataFrame  # ticker, name, weight (share of the fund), largest first
    source: str  # the holdings file
    layout: str
    as_of: str  # ISO date, or "" where the file states none
    nav: float | None

    @property
    def unmatched_share(self) -> float:
        return float(self.unmatched["weight"].sum())


def fund_row(fund: AddedFund, adv: float, price: tuple[float, str] | None = None) -> dict[str, Any]:
    """A securities row for a fund from a holdings file: its NAV where the file gives one (or
    `price`, with its date), else none; `adv` stands in for its unknown trading volume."""
    nav = fund.nav if fund.nav is not None and fund.nav > 0 else float("nan")
    source = f"NAV from {fund.source} {fund.as_of}"
    day = fund.as_of
    if price is not None:
        nav, day = price
        source = f"given to add-fund {day}"
    return {
        "ticker": fund.ticker,
        "name": fund.name,
        "type": "fund",
        "company": fund.ticker,
        "sector": "",
        "country": "United States",
        "listed": True,
        "ranked": False,
        "price": nav,
        "price_source": source if nav == nav else "none: give price in the portfolio file",
        "price_date": day if nav == nav else "",
        "adv": adv,
    }
