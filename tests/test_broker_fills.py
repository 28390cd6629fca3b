"""`advisor apply` with fills in the brokers' own export layouts and the basket's columns."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from advisor.brokers.table import parse_date
from advisor.fill_files import broker_number
from advisor.portfolio.loading import load_portfolio
from tests import test_fills
from tests.conftest import ROOT
from tests.test_fills import invoke, snapshot

rotation_proposal = test_fills.rotation_proposal  # the fixtures, shared
setup = test_fills.setup

FIXTURES = ROOT / "tests" / "data" / "fills"
HELD = {"NVDA": 300, "MSFT": 150, "AMZN": 200, "GOOGL": 150, "JPM": 80, "XOM": 120, "IWM": 60}
HELD |= {"SFM": 150, "AAPL": 250}

# Each export: (layout named on stderr, the fills it holds as (ticker, signed shares, price),
# text of the rows it skips). Written out by hand from the fixture, not read by the code.
EXPORTS: dict[str, tuple[str, list[tuple[str, int, float]], list[str]]] = {
    "fidelity_accounts_history.csv": (
        "Fidelity account history",
        [
            ("NVDA", -30, 190.11),
            ("NVDA", -25, 190.08),
            ("MSFT", -26, 413.50),
            ("AMZN", -60, 208.80),
            ("GOOGL", -33, 324.20),
            ("JPM", -48, 322.30),
            ("XOM", -105, 151.19),
            ("IWM", 277, 261.50),
            ("SFM", 101, 65.90),
        ],
        [
            "line 13: not a buy or sell of shares (action 'DIVIDEND RECEIVED",
            "line 14: not a buy or sell of shares (action 'REINVESTMENT",
            "line 15: not a buy or sell of shares (action 'INTEREST EARNED",
            "line 16: AAPL: dated 2026-11-20, before the proposal's run date 2026-11-28",
            "line 17: not a buy or sell of shares (action 'Electronic Funds Transfer",
            "line 21: not a row of the table: 'The data and information",
            "line 23: not a row of the table: 'Date downloaded",
        ],
    ),
    "schwab_transactions.csv": (
        "Schwab transactions",
        [
            ("SFM", 101, 65.88),
            ("IWM", 277, 261.45),
            ("XOM", -105, 151.25),
            ("JPM", -48, 322.15),
            ("GOOGL", -33, 324.40),
            ("AMZN", -60, 208.65),
            ("MSFT", -26, 413.70),
            ("NVDA", -55, 190.10),
        ],
        [
            "line 10: not a buy or sell of shares (action 'Qualified Dividend'): JPM",
            "line 11: not a buy or sell of shares (action 'Reinvest Shares'): SWVXX",
            "line 12: not a buy or sell of shares (action 'Bank Interest')",
            "line 13: not a buy or sell of shares (action 'MoneyLink Transfer')",
            "line 14: AAPL: dated 2026-11-24, before the proposal's run date 2026-11-28",
            "line 15: not a buy or sell of shares (no action)",
        ],
    ),
    "vanguard_transactions.csv": (
        "Vanguard transactions",
        [("NVDA", -55, 190.05), ("IWM", 150, 261.30)],
        [
            "line 11: not a buy or sell of shares (transaction type 'Sweep in'): VMFXX",
            "line 12: not a buy or sell of shares (transaction type 'Dividend'): XOM",
            "line 13: not a buy or sell of shares (transaction type 'Reinvestment'): VMFXX",
        ],
    ),
    "ibkr_flex_trades.csv": (
        "Interactive Brokers Flex trades",
        [("XOM", -105, 151.30), ("IWM", 100, 261.52), ("IWM", 50, 261.55)],
        [
            "line 5: TSLA: not a trade of the proposal",
            "line 6: SPY   261218C00600000: not a trade of the proposal",
        ],
    ),
}


def run_on(proposal: Path, day: str) -> None:
    """Date the proposal as if made with --date DAY (the exports are dated 2026-11-28)."""
    data = json.loads(proposal.read_text())
    data["inputs"]["run_date"] = day
    proposal.write_text(json.dumps(data, indent=2) + "\n")


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_a_brokers_export_applies_its_fills_and_lists_what_it_skips(
    name: str, setup: Callable[..., tuple[Path, Path]]
) -> None:
    layout, fills, skipped = EXPORTS[name]
    portfolio, proposal = setup()
    run_on(proposal, "2026-11-28")
    code, out, err = invoke("apply", proposal, "--fills", FIXTURES / name)
    assert code == 0, err
    assert f"read {FIXTURES / name} as {layout}" in err
    for line in skipped:
        assert f"  skipped {line}" in err, (line, err)
    assert err.count("skipped line") == len(skipped) + (name.startswith("fidelity"))  # +line 22
    assert f"with {len(fills)} fill(s)" in out
    held = {h.ticker: h.shares for h in load_portfolio(portfolio).portfolio.holdings}
    expected = dict(HELD)
    for ticker, shares, _ in fills:
        expected[ticker] += shares
    assert held == expected
    cash = 40000 - math.fsum(shares * price for _, shares, price in fills)
    assert load_portfolio(portfolio).portfolio.cash == pytest.approx(round(cash, 2), abs=0.005)


def test_the_basket_as_written_is_read_as_fills_at_its_reference_prices(
    setup: Callable[..., tuple[Path, Path]], rotation_proposal: dict[str, Any], tmp_path: Path
) -> None:
    portfolio, proposal = setup()
    basket = tmp_path / "basket.csv"
    assert invoke("rebalance", portfolio, "--basket", basket)[0] == 0
    code, out, err = invoke("apply", proposal, "--fills", basket)
    assert code == 0, err
    assert f"read {basket} as order columns" in err
    assert f"with {len(rotation_proposal['trades'])} fill(s)" in out
    cash = 40000 - math.fsum(
        (1 if t["side"] == "BUY" else -1) * t["shares"] * t["price"]
        for t in rotation_proposal["trades"]
    )
    assert load_portfolio(portfolio).portfolio.cash == pytest.approx(round(cash, 2), abs=0.005)


BAD = {  # name: (export text, the error after the file name)
    "wrong side": (
        '"Date","Action","Symbol","Description","Quantity","Price","Fees & Comm","Amount"\n'
        '"11/28/2026","Buy","NVDA","NVIDIA CORP","5","$190.10","","-$950.50"\n',
        ":2: Action 'Buy' is not the proposal's side (SELL NVDA)",
    ),
    "price far off": (
        "Run Date,Action,Symbol,Description,Type,Quantity,Price ($),Amount ($)\n"
        "11/28/2026,YOU SOLD NVIDIA CORP (NVDA) (Cash),NVDA,NVIDIA,Cash,-5,$1901.00,9505.00\n",
        ":2: Price ($) '$1901.00' is +900.3% from the proposal's price 190.04",
    ),
    "too many shares": (
        "Symbol,Buy/Sell,Quantity,TradePrice,TradeDate\nXOM,SELL,-106,151.30,20261128\n",
        ":2: Quantity '-106' fills 106 XOM in all, more than the 105 proposed",
    ),
    "bad date": (
        "Symbol,Buy/Sell,Quantity,TradePrice,TradeDate\nXOM,SELL,-10,151.30,last week\n",
        ":2: TradeDate 'last week' is not a date",
    ),
    "no trades": (
        "Trade Date,Transaction Type,Symbol,Shares,Share Price\n"
        "2026-11-27,Dividend,XOM,0,0\n2026-11-27,Sweep in,VMFXX,100,1.00\n",
        ": file has no fills (2 row(s) skipped)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_trade_of_a_proposal_ticker_that_cannot_be_matched_is_an_error(
    case: str, setup: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    text, message = BAD[case]
    _, proposal = setup()
    fills = tmp_path / "export.csv"
    fills.write_text(text)
    before = snapshot(tmp_path)
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 2, err
    assert err.startswith(f"error: {fills}{message}"), err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$1,234.50", 1234.5),
        ("(12.50)", -12.5),
        ("($12.50)", -12.5),
        ("+$12", 12.0),
        ("-$6,653.88", -6653.88),
        ("-55.00000", -55.0),
        ("--", None),
        ("", None),
        ("1e5", None),
        ("nan", None),
        ("12,5", None),  # a comma that does not group thousands is no number (12.5? 125?)
    ],
)
def test_broker_numbers(text: str, value: float | None) -> None:
    assert broker_number(text) == value


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-11-28", "2026-11-28"),
        ("11/28/2026", "2026-11-28"),
        ("11/28/2026 as of 11/27/2026", "2026-11-28"),
        ("20261128", "2026-11-28"),
        ("20261128;094512", "2026-11-28"),
        ("2026-11-28, 09:45:12", "2026-11-28"),
        ("soon", None),
    ],
)
def test_broker_dates(text: str, day: str | None) -> None:
    parsed = parse_date(text)
    assert (parsed.isoformat() if parsed else None) == day


def test_the_plain_layout_keeps_its_strict_numbers(
    setup: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    _, proposal = setup()
    fills = tmp_path / "fills.csv"
    fills.write_text('ticker,side,shares,price\nNVDA,SELL,5,"1,190"\n')
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 2
    assert "price '1,190' is not a positive number" in err and "no $" in err


def test_other_order_column_names_are_read_with_the_brokers_numbers(
    setup: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    portfolio, proposal = setup()
    fills = tmp_path / "orders.csv"
    fills.write_text('Ticker,Action,Qty,Avg Price\nNVDA,Sell,55,"$190.00"\nXOM,SLD,5,151.00\n')
    code, out, err = invoke("apply", proposal, "--fills", fills)
    assert code == 0, err
    assert f"read {fills} as order columns" in err and "with 2 fill(s)" in out
    held = {h.ticker: h.shares for h in load_portfolio(portfolio).portfolio.holdings}
    assert (held["NVDA"], held["XOM"]) == (245, 115)
    cash = load_portfolio(portfolio).portfolio.cash
    assert cash == pytest.approx(40000 + 55 * 190 + 5 * 151, abs=0.005)


SCHWAB_HEADER = '"Date","Action","Symbol","Description","Quantity","Price","Fees & Comm","Amount"\n'


def test_a_history_passes_over_trades_before_the_proposals_run_date(
    setup: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    """An earlier purchase of a ticker the proposal now sells is no fill of it."""
    portfolio, proposal = setup()
    run_on(proposal, "2026-11-28")
    fills = tmp_path / "history.csv"
    fills.write_text(
        SCHWAB_HEADER
        + '"11/28/2026","Sell","NVDA","NVIDIA CORP","55","$190.10","$0.02","$10,455.48"\n'
        + '"11/20/2026","Buy","NVDA","NVIDIA CORP","20","$180.00","","-$3,600.00"\n'
    )
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 0, err
    assert (
        "skipped line 3: NVDA: dated 2026-11-20, before the proposal's run date 2026-11-28" in err
    )
    held = {h.ticker: h.shares for h in load_portfolio(portfolio).portfolio.holdings}
    assert held["NVDA"] == 245


def test_when_no_trade_is_dated_from_the_run_date_on_every_row_is_taken(
    setup: Callable[..., tuple[Path, Path]],
) -> None:
    """A run date given with --date after the trades does not empty the export."""
    _, proposal = setup()
    run_on(proposal, "2026-12-05")
    name = "schwab_transactions.csv"
    code, out, err = invoke("apply", proposal, "--fills", FIXTURES / name)
    assert code == 0, err
    assert "line 14: AAPL: not a trade of the proposal" in err and "run date" not in err
    assert f"with {len(EXPORTS[name][1])} fill(s)" in out
