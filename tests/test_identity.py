"""Fundamentals joined by company, not ticker alone; the ranking universe holds common stock only,
one row per company."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest

from advisor.market import MarketModel, universe
from advisor.market.identity import checked_rows, same_company
from advisor.market.ishares import FundHoldings
from advisor.market.screener import company_ids, not_common
from advisor.portfolio.model import Portfolio
from advisor.rebalance import candidates
from tests.conftest import SHARED_DATA, needs_shared_data

# Tickers whose 2016 10-K or 2022 snapshot row describes another company than today's listing.
REUSED = [
    "STI",
    "PX",
    "TEN",
    "LB",
    "BBT",
    "BBBY",
    "RPT",
    "VG",
    "DOC",
    "BTX",
    "CNR",
    "CAMP",
    "NP",
    "SI",
    "TACO",
    "B",
    "MNR",
]


@pytest.mark.parametrize(
    "row, today",
    [
        ("Walgreens Boots Alliance, Inc.", "WALGREEN BOOTS ALLIANCE INC"),
        ("United States Steel Corporation", "US STEEL CORP"),
        ("F.N.B. Corporation", "F.N.B. Corporation Common Stock"),
        ("3M Company", "3M Company Common Stock"),
        ("NOW Inc.", "DNOW Inc. Common Stock"),
        ("MicroStrategy Incorporated", "Strategy Inc Common Stock Class A"),
        ("Hannon Armstrong Sustainable In", "HA Sustainable Infrastructure Capital Inc."),
        ("Bed Bath & Beyond", "BED BATH AND BEYOND INC"),
        ("Grainger (W.W.) Inc.", "W.W. Grainger Inc. Common Stock"),
        ("Lilly (Eli) & Co.", "Eli Lilly and Company Common Stock"),
    ],
)
def test_one_company_spelled_two_ways_is_kept(row: str, today: str) -> None:
    assert same_company(row, today)


@pytest.mark.parametrize(
    "row, today",
    [
        ("SunTrust Banks", "Solidion Technology Inc. Common Stock"),
        ("Praxair Inc.", "P10 Inc. Class A Common Stock"),
        ("Tenneco Inc.", "Tsakos Energy Navigation Ltd Common Shares"),
        ("L Brands Inc.", "LandBridge Company LLC Class A Shares Representing Limited Liability"),
        ("BB&T Corporation", "Beacon Financial Corporation Common stock"),
        ("RPT Realty", "Rithm Property Trust Inc. Common stock"),
        ("Vonage Holdings Corp.", "Venture Global Inc. Class A common stock"),
        ("Del Taco Restaurants, Inc.", "Berto Acquisition Corp. Ordinary Shares"),
        ("Brooklyn ImmunoTherapeutics, In", "BlackRock Technology and Private Equity Term Trust"),
        ("First Horizon Corporation", "First Solar Inc. Common Stock"),
    ],
)
def test_two_companies_are_refused(row: str, today: str) -> None:
    assert not same_company(row, today)


def test_renamed_company_kept_by_shares_and_sector_and_shrunken_one_refused() -> None:
    stocks = pd.DataFrame(
        {
            "key": ["RTX", "TACO", "BIG"],
            "ticker": ["RTX", "TACO", "BIG"],
            "name": ["RTX Corporation Common Stock", "Berto Acquisition Corp.", "Big Co."],
            "market_cap": [200e9, 0.37e9, 1e9],
            "price": [100.0, 10.0, 10.0],
            "sector": ["Industrials", "Financials", "Industrials"],
        }
    )
    rows = pd.DataFrame(
        {
            "name": ["Raytheon Technologies Corporati", "Del Taco Restaurants, Inc.", "Big Co."],
            "shares": [2.1e9, 37e6, 100e6],  # RTX within 20% of today's 2e9 shares
            "sector": ["Industrials", "Consumer Discretionary", "Industrials"],
            "total_revenue": [64e9, 0.5e9, 25e9],  # BIG: revenue 25x today's cap
            "total_debt": [33e9, 0.37e9, 5e9],
        },
        index=["RTX", "TACO", "BIG"],
    )
    kept, notes = checked_rows(stocks, rows, "snapshot (2022)")
    assert list(kept.index) == ["RTX"]
    assert notes.tolist() == [
        "",
        "snapshot (2022) row TACO is Del Taco Restaurants, Inc., not Berto Acquisition Corp.: "
        "estimated",
        "snapshot (2022) row BIG (Big Co.) has revenue 25x today's market cap: estimated",
    ]


def screener_rows(rows: list[tuple[str, str, float, float, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["ticker", "name", "price", "market_cap", "volume", "industry"]
    ).set_index(pd.RangeIndex(len(rows)))


def test_securities_that_are_not_common_stock_are_left_out() -> None:
    # Nasdaq's own figures of 2026-02-10: derivatives priced on their issuer's share count.
    cable, bank, fin = "Cable & Other Pay Television Services", "Major Banks", "Finance Companies"
    frame = screener_rows(
        [
            ("CMCSA", "Comcast Corporation Class A Common Stock", 31.61, 115183505303, 24e6, cable),
            ("CCZ", "Comcast Holdings ZONES", 64.38, 234593928232, 194, cable),
            ("FITB", "Fifth Third Bancorp Common Stock", 54.33, 35912769410, 7.9e6, bank),
            ("FITBI", "Fifth Third Bancorp Depositary Shares", 25.715, 16997917640, 2e4, bank),
            ("FRME", "First Merchants Corporation Common Stock", 38.0, 2.2e9, 3e5, bank),
            (
                "FRMEP",
                "First Merchants Corporation Income Shares",
                25.0,
                2.2e9 / 38 * 25,
                1e3,
                bank,
            ),
            ("MFM", "MFS Municipal Income Trust Common Stock", 5.53, 227767599, 4e4, fin),
            (
                "VAVX",
                "VanEck Avalanche ETF Common Shares of Beneficial Interest",
                18.8,
                3e6,
                7e3,
                "",
            ),
            ("GJS", "Goldman Sachs Group Securities STRATS Trust", 23.81, 7.4e9, 1e4, fin),
            (
                "AMH",
                "American Homes 4 Rent Common Shares of Beneficial Interest",
                31.0,
                1e10,
                2e6,
                "REIT",
            ),
            (
                "TSM",
                "Taiwan Semiconductor Ltd. American Depositary Shares",
                300.0,
                1.5e12,
                1e7,
                "Chips",
            ),
            ("CENT", "Central Garden & Pet Company Common Stock", 37.51, 2335651637, 67771, "Pets"),
            (
                "CENTA",
                "Central Garden & Pet Company Class A Common Stock Nonvoting",
                33.45,
                2082845835,
                265478,
                "Pets",
            ),
        ]
    )
    reason = not_common(frame).set_axis(frame["ticker"])
    out = reason[reason != ""].index.tolist()
    assert out == ["CCZ", "FITBI", "FRMEP", "MFM", "VAVX", "GJS"]
    assert reason["FRMEP"] == "priced on FRME's share count, not its stock"
    assert reason["MFM"].startswith("closed-end fund")


def test_share_classes_on_one_share_count_are_one_company() -> None:
    frame = screener_rows(
        [
            ("RDI", "Reading International Inc Class A Common Stock", 1.04, 23625950, 13811, ""),
            ("RDIB", "Reading International Inc Class B Common Stock", 11.01, 250117033, 37636, ""),
            ("RUSHA", "Rush Enterprises Inc. Common Stock Cl A", 71.04, 5475863366, 431453, ""),
            ("RUSHB", "Rush Enterprises Inc. Class B", 63.99, 4932439426, 18192, ""),
            ("CR", "Crane Company Common Stock", 190.0, 190.0 * 57.5e6, 1e5, ""),
            ("CXT", "Crane NXT Co. Common Stock", 55.0, 55.0 * 57.5e6 * 1.003, 1e5, ""),
        ]
    )
    assert company_ids(frame).tolist() == ["RDI", "RDI", "RUSHA", "RUSHA", "CR", "CXT"]
    # Caps estimated from fund weights are each class's own value: they need not agree.
    held = pd.DataFrame(
        {
            "ticker": ["BFA", "BFB"],
            "name": ["BROWN FORMAN CORP CLASS A", "BROWN FORMAN CORP CLASS B"],
            "market_cap": [1.37e9, 3.65e9],
        }
    )
    assert company_ids(held, caps_per_class=True).tolist() == ["BFA", "BFA"]


def raw_snapshot() -> dict[str, dict[str, str]]:
    with (SHARED_DATA / "russell3000-yahoo-2022-01-04" / "market_data.csv").open() as f:
        return {row["2022-01-04"]: row for row in csv.DictReader(f)}


def raw_tenk_debt() -> dict[str, set[float]]:
    debts: dict[str, set[float]] = {}
    with (SHARED_DATA / "nyse-sp500-fundamentals-2012-2016" / "fundamentals.csv").open() as f:
        for row in csv.DictReader(f):
            total = float(row["Short-TermDebt/CurrentPortionofLong-TermDebt"]) + float(
                row["Long-TermDebt"]
            )
            debts.setdefault(row["TickerSymbol"], set()).add(total)
    return debts


@needs_shared_data
@pytest.mark.parametrize("ticker", REUSED)
def test_reused_tickers_carry_no_other_companys_figures(
    ticker: str, shipped_model: MarketModel
) -> None:
    stocks = shipped_model.securities
    if ticker not in stocks.index:  # left out of the model altogether (BTX is a closed-end fund)
        return
    stock = stocks.loc[ticker]
    snapshot, tenk = raw_snapshot().get(ticker), raw_tenk_debt().get(ticker, set())
    assert snapshot is not None or tenk, "the raw files hold a row for this ticker"
    assert stock["debt_source"] == "estimated"
    for source in ("unprofitable_source", "weak_coverage_source", "beta_source"):
        assert stock[source] == "estimated", source
    if snapshot is not None:
        assert not np.isclose(stock["debt"], float(snapshot["totalDebt"]), rtol=1e-6)
        assert not np.isclose(stock["beta"], float(snapshot["beta"] or "nan"), rtol=1e-6)
    assert not any(np.isclose(stock["debt"], d, rtol=1e-6) for d in tenk)
    assert "estimated" in shipped_model_note(ticker)


def shipped_model_note(ticker: str) -> str:
    from tests.conftest import SHIPPED_MODEL

    notes = pd.read_csv(SHIPPED_MODEL / "securities.csv", keep_default_na=False)
    return str(notes.set_index("ticker").at[ticker, "fundamentals_note"])


NOT_STOCKS = ["CCZ", "GJS", "FITBI", "CDZIP", "WAFDP", "FCNCP", "MNSBP", "HOVNP", "MFM", "GBAB"]


@needs_shared_data
def test_notes_trusts_preferreds_and_funds_are_neither_ranked_nor_buyable(
    shipped_model: MarketModel,
) -> None:
    stocks = shipped_model.securities
    ranked = set(stocks.index[stocks["ranked"].astype(bool)])
    assert not ranked & {*NOT_STOCKS, "VAVX", "TDOG"}
    portfolio = cast(Portfolio, SimpleNamespace(limits=SimpleNamespace(buy_from=["all"])))
    buyable = candidates(portfolio, shipped_model, pd.Index([]), set())
    assert len(buyable) > 3000
    assert not set(buyable) & {*NOT_STOCKS, "VAVX", "TDOG"}


@needs_shared_data
def test_share_classes_are_one_company_in_the_shipped_model(shipped_model: MarketModel) -> None:
    stocks = shipped_model.securities
    for classes in (["RUSHA", "RUSHB"], ["RDI", "RDIB"], ["BFA", "BFB"], ["GOOG", "GOOGL"]):
        rows: Any = stocks.loc[classes]
        assert rows["company"].nunique() == 1, classes
        assert rows["market_cap"].nunique() == 1, classes
        assert rows["ranked"].astype(bool).sum() <= 1, classes
    # Brown-Forman: the funds' two class estimates summed, no longer two micro caps.
    assert stocks.at["BFB", "band"] != "micro"


def test_a_fund_holding_a_left_out_security_still_looks_through(tmp_path: Path) -> None:
    """A closed-end fund left out of the universe but held by a fund stays in the model, not
    listed (so neither ranked nor buyable), so the fund's weights still sum to one."""
    screener = pd.DataFrame(
        {
            "ticker": ["AAA", "MFM"],
            "name": ["Alpha Inc. Common Stock", "MFS Municipal Income Trust Common Stock"],
            "price": [10.0, 5.53],
            "market_cap": [1e9, 227767599.0],
            "country": ["United States"] * 2,
            "volume": [1e5, 4e4],
            "nasdaq_sector": ["Technology", "Finance"],
            "industry": ["Software", "Finance Companies"],
        }
    )
    screener["key"] = screener["ticker"]
    stocks = universe.listed_stocks(screener)
    assert stocks["ticker"].tolist() == ["AAA"]
    holdings = pd.DataFrame(
        {
            "ticker": ["AAA", "MFM"],
            "name": ["ALPHA INC", "MFS MUNICIPAL INCOME TRUST"],
            "sector": ["Information Technology", "Financials"],
            "asset_class": ["Equity", "Equity"],
            "market_value": [900.0, 100.0],
            "price": [10.0, 5.5],
            "location": ["United States"] * 2,
        }
    )
    fund = FundHoldings("Test fund", date(2026, 4, 10), 100.0, holdings, tmp_path / "f.csv")
    held = universe.unlisted_fund_holdings(stocks, {"TST": fund})
    assert held["ticker"].tolist() == ["MFM"]
    assert not held["listed"].any() and not held["ranked"].any()
