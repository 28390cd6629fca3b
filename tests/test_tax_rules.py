"""The portfolio file's `tax:` section: located errors and warnings, and the wash-sale rules it
gives (recent loss sales, lots bought in the last 30 days, substantially identical securities)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import InputError
from advisor.market import MarketModel
from advisor.portfolio.loading import check_tax, load_portfolio, resolve_tickers
from advisor.portfolio.model import Portfolio
from advisor.portfolio.tickers import TickerIndex
from advisor.tax.wash import WASH_DAYS, identical, wash_rules

RUN = date(2026, 11, 28)
runner = CliRunner()

TAXED = """\
cash: 1000
holdings:
  - ticker: GOOGL
    lots:
      - {shares: 10, cost_basis: 120.00, acquired: 2024-03-01}
      - {shares: 5, cost_basis: 310.00, acquired: 2026-11-20}
  - {ticker: IWB, shares: 40}
tax:
  account: taxable
  short_term_rate: 0.35
  long_term_rate: 0.15
  realized_this_year: {short_term: 1200, long_term: 0}
  gains_budget: 25000
  recent_sales:
    - {ticker: IWB, date: 2026-11-03, shares: 25, loss: 640}
"""


def write(tmp_path: Path, text: str, name: str = "taxed.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def located(line: int, field: str, value: str = "") -> str:
    """`/.../taxed.yaml:line: field 'value'`, as a regex to search for."""
    return re.escape(f"taxed.yaml:{line}: {field}" + (f" {value}" if value else ""))


# Validation


def test_a_good_tax_section_loads_with_no_warning(tmp_path: Path) -> None:
    loaded = load_portfolio(write(tmp_path, TAXED))
    tax = loaded.portfolio.tax
    assert (tax.short_term_rate, tax.long_term_rate, tax.gains_budget) == (0.35, 0.15, 25000)
    assert tax.realized_this_year.short_term == 1200
    assert check_tax(loaded, RUN) == []


def test_defaults_without_a_tax_section(tmp_path: Path) -> None:
    tax = load_portfolio(write(tmp_path, "cash: 1\n")).portfolio.tax
    assert (tax.account, tax.short_term_rate, tax.long_term_rate) == ("taxable", 0.35, 0.15)
    assert (tax.gains_budget, tax.tax_weight, tax.recent_sales) == (None, 1.0, [])


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "value", "problem"),
    [
        ("short_term_rate: 0.35", "short_term_rate: 35", 10, "tax.short_term_rate", "35",
         "is out of range; must be <= 1"),
        ("long_term_rate: 0.15", "long_term_rate: -0.1", 11, "tax.long_term_rate", "-0.1",
         "is out of range; must be >= 0"),
        ("account: taxable", "account: roth", 9, "tax.account", "'roth'",
         "is not an account kind; write taxable, deferred (IRA, 401k) or exempt (Roth)"),
        ("gains_budget: 25000", "gains_budget: lots", 13, "tax.gains_budget", "'lots'",
         "is not a number"),
        ("shares: 25, loss: 640", "shares: 25, loss: -640", 15, "tax.recent_sales[0].loss",
         "-640", "is out of range; must be >= 0"),
        ("date: 2026-11-03", "date: 2026-11-31", 15, "tax.recent_sales[0].date", "'2026-11-31'",
         "is not a valid date"),
        ("realized_this_year: {short_term: 1200", "realized_this_year: {short: 1200", 12,
         "tax.realized_this_year.short", "", "is an unknown key; did you mean 'short_term'?"),
    ],
)  # fmt: skip
def test_each_bad_value_is_located(
    tmp_path: Path, old: str, new: str, line: int, field: str, value: str, problem: str
) -> None:
    assert old in TAXED
    with pytest.raises(InputError) as caught:
        load_portfolio(write(tmp_path, TAXED.replace(old, new)))
    message = str(caught.value)
    assert re.search(located(line, field, value), message), message
    assert problem in message


def test_a_recent_sale_of_a_ticker_not_in_the_model_is_refused(tmp_path: Path) -> None:
    loaded = load_portfolio(
        write(tmp_path, TAXED.replace("{ticker: IWB, date", "{ticker: IWBB, date"))
    )
    index = TickerIndex(["GOOGL", "IWB"])
    with pytest.raises(
        InputError, match=located(15, "tax.recent_sales[0].ticker", "'IWBB'")
    ) as caught:
        resolve_tickers(loaded, index, "us-equity")
    assert str(caught.value).endswith("is not in model us-equity (2 tickers); did you mean 'IWB'?")


def test_recent_sale_tickers_resolve_like_holdings(tmp_path: Path) -> None:
    text = TAXED.replace("{ticker: IWB, date", "{ticker: brk/b, date")
    index = TickerIndex(["GOOGL", "IWB", "BRK.B"])
    assert resolve_tickers(load_portfolio(write(tmp_path, text)), index, "us-equity")


def test_dates_after_the_run_date_are_refused(tmp_path: Path) -> None:
    loaded = load_portfolio(write(tmp_path, TAXED))
    with pytest.raises(InputError) as caught:
        check_tax(loaded, date(2026, 11, 10))
    lines = str(caught.value).splitlines()
    assert len(lines) == 1  # the sale on 2026-11-03 is before; the lot of 2026-11-20 is not
    assert re.search(located(6, "holdings[0].lots[1].acquired", "2026-11-20"), lines[0])
    assert "is after the run date 2026-11-10" in lines[0]
    assert lines[0].endswith("check the date, or give --date YYYY-MM-DD")
    with pytest.raises(InputError) as caught:
        check_tax(loaded, date(2026, 11, 2))
    second = str(caught.value).splitlines()[1]
    assert re.search(located(15, "tax.recent_sales[0].date", "2026-11-03"), second)
    check_tax(loaded, date(2026, 11, 20))  # the day itself is fine


def test_a_sale_past_the_window_is_a_warning(tmp_path: Path) -> None:
    loaded = load_portfolio(write(tmp_path, TAXED))
    assert check_tax(loaded, date(2026, 12, 3)) == []  # 30 days after 2026-11-03
    (warning,) = check_tax(loaded, date(2026, 12, 4))
    assert re.search(
        "^warning: .*" + located(15, "tax.recent_sales[0].date", "2026-11-03"), warning
    )
    assert "is 31 days before the run date 2026-12-04, past the 30-day wash-sale window" in warning


@pytest.mark.parametrize("account", ["deferred", "exempt"])
def test_a_budget_or_sales_in_an_untaxed_account_are_warned_of(
    tmp_path: Path, account: str
) -> None:
    loaded = load_portfolio(
        write(tmp_path, TAXED.replace("account: taxable", f"account: {account}"))
    )
    budget, sales = check_tax(loaded, RUN)
    assert re.search("^warning: .*" + located(13, "tax.gains_budget"), budget)
    assert re.search("^warning: .*" + located(14, "tax.recent_sales"), sales)
    kind = "an exempt" if account == "exempt" else "a deferred"
    assert f"does not apply to {kind} account" in budget
    assert sales.endswith("remove it, or set tax.account: taxable")


def test_validate_shows_errors_and_warnings(tmp_path: Path) -> None:
    path = write(tmp_path, TAXED)
    result = runner.invoke(app, ["validate", str(path), "--date", "2026-11-28"])
    assert result.exit_code == 0, result.stderr
    assert "tax." not in result.stderr
    result = runner.invoke(app, ["validate", str(path), "--date", "2027-01-05"])
    assert result.exit_code == 0
    assert "warning: " in result.stderr and "tax.recent_sales[0].date" in result.stderr
    result = runner.invoke(app, ["validate", str(path), "--date", "2026-11-19"])
    assert result.exit_code == 2
    assert (
        "holdings[0].lots[1].acquired 2026-11-20 is after the run date 2026-11-19" in result.stderr
    )


def test_score_refuses_a_lot_bought_after_the_run_date(tmp_path: Path) -> None:
    path = write(tmp_path, TAXED)
    result = runner.invoke(app, ["score", str(path), "--date", "2026-11-19"])
    assert result.exit_code == 2
    assert "is after the run date 2026-11-19" in result.stderr


# Wash-sale rules


def portfolio(
    sales: list[tuple[str, date]] = (), lots: list[tuple[str, date]] = (), account: str = "taxable"
) -> Portfolio:
    return Portfolio.model_validate(
        {
            "cash": 1.0,
            "holdings": [
                {"ticker": t, "lots": [{"shares": 1, "cost_basis": 100.0, "acquired": d}]}
                for t, d in lots
            ],
            "tax": {
                "account": account,
                "recent_sales": [
                    {"ticker": t, "date": d, "shares": 1, "loss": 10.0} for t, d in sales
                ],
            },
        }
    )


def test_identical_groups_of_the_shipped_model(shipped_model: MarketModel) -> None:
    assert identical(shipped_model, "IWB") == {"IWB", "VONE"}  # Russell 1000, not the S&P 500
    assert identical(shipped_model, "SPY") == {"SPY", "IVV", "VOO", "SPLG"}
    assert identical(shipped_model, "GOOG") == {"GOOG", "GOOGL"}
    assert identical(shipped_model, "BRK.B") == {"BRK.A", "BRK.B"}
    assert identical(shipped_model, "AAPL") == {"AAPL"}
    for ticker in ("IWM", "GOOGL", "VOO", "NVDA"):  # a symmetric relation: groups, not lists
        assert all(identical(shipped_model, other) == identical(shipped_model, ticker)
                   for other in identical(shipped_model, ticker))  # fmt: skip


def test_a_recent_fund_sale_blocks_buying_funds_on_its_index(shipped_model: MarketModel) -> None:
    rules = wash_rules(portfolio([("SPY", date(2026, 11, 3))]), shipped_model, RUN)
    assert set(rules.no_buy) == {"SPY", "IVV", "VOO", "SPLG"}
    assert rules.no_buy["VOO"] == (
        "SPY sold at a loss on 2026-11-03 (recent_sales): buying IVV, SPLG, SPY or VOO before "
        "2026-12-04 would be a wash sale"
    )
    assert rules.no_loss_sale == {}
    rules = wash_rules(portfolio([("iwb", date(2026, 11, 3))]), shipped_model, RUN)
    assert set(rules.no_buy) == {"IWB", "VONE"}


def test_a_recent_purchase_blocks_loss_sales_of_every_class(shipped_model: MarketModel) -> None:
    rules = wash_rules(portfolio(lots=[("GOOGL", date(2026, 11, 20))]), shipped_model, RUN)
    assert set(rules.no_loss_sale) == {"GOOG", "GOOGL"}
    assert rules.no_loss_sale["GOOG"] == (
        "GOOGL lot acquired on 2026-11-20: selling GOOG or GOOGL at a loss before 2026-12-21 "
        "would be a wash sale"
    )
    assert rules.no_buy == {}


@pytest.mark.parametrize(("days", "inside"), [(0, True), (29, True), (30, True), (31, False)])
def test_the_30_day_boundary(shipped_model: MarketModel, days: int, inside: bool) -> None:
    """IRC 1091: a buy within 30 days before or after a loss sale. Counted in calendar days,
    the 30th day is inside the window and the 31st is not."""
    assert WASH_DAYS == 30
    when = RUN - timedelta(days=days)
    rules = wash_rules(portfolio([("VOO", when)], [("NVDA", when)]), shipped_model, RUN)
    assert ("IVV" in rules.no_buy) is inside
    assert ("NVDA" in rules.no_loss_sale) is inside
    if inside:  # the last day a buy is a wash sale is the sale's day + 30
        until = (when + timedelta(days=31)).isoformat()
        assert rules.no_buy["IVV"].endswith(f"before {until} would be a wash sale")


def test_lots_without_a_date_and_future_events_set_no_rule(shipped_model: MarketModel) -> None:
    undated = Portfolio.model_validate(
        {"cash": 1.0, "holdings": [{"ticker": "NVDA", "lots": [{"shares": 1}]}]}
    )
    assert wash_rules(undated, shipped_model, RUN).no_loss_sale == {}
    later = RUN + timedelta(days=1)
    rules = wash_rules(portfolio([("SPY", later)], [("NVDA", later)]), shipped_model, RUN)
    assert (rules.no_buy, rules.no_loss_sale) == ({}, {})


@pytest.mark.parametrize("account", ["deferred", "exempt"])
def test_untaxed_accounts_have_no_wash_rules(shipped_model: MarketModel, account: str) -> None:
    day = RUN - timedelta(days=3)
    rules = wash_rules(portfolio([("SPY", day)], [("NVDA", day)], account), shipped_model, RUN)
    assert (rules.no_buy, rules.no_loss_sale) == ({}, {})


def test_the_latest_sale_gives_the_reason(shipped_model: MarketModel) -> None:
    sales = [("SPY", date(2026, 11, 1)), ("VOO", date(2026, 11, 20))]
    rules = wash_rules(portfolio(sales), shipped_model, RUN)
    assert rules.no_buy["SPY"].startswith("VOO sold at a loss on 2026-11-20")


def test_a_share_class_sold_at_a_loss_blocks_the_other_class(shipped_model: MarketModel) -> None:
    rules = wash_rules(portfolio([("GOOG", date(2026, 11, 27))]), shipped_model, RUN)
    assert set(rules.no_buy) == {"GOOG", "GOOGL"}
    assert "buying GOOG or GOOGL before 2026-12-28" in rules.no_buy["GOOGL"]
