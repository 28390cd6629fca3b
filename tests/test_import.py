"""`advisor import`: each broker's positions export (fixtures written to the layouts the brokers
publish, with their quirks) imported to a portfolio file that validates and scores, with the
right shares, cash, costs and lots, and every row not imported listed with its reason."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from advisor.amounts import parse_amount
from advisor.cli import app
from advisor.portfolio.loading import load_portfolio
from advisor.portfolio.model import Portfolio
from tests.conftest import DATA

BROKERS = DATA / "brokers"
FIDELITY = BROKERS / "fidelity" / "Portfolio_Positions_Nov-27-2026.csv"
SCHWAB = BROKERS / "schwab" / "All-Accounts-Positions-2026-11-27-160512.csv"
VANGUARD = BROKERS / "vanguard" / "OfxDownload.csv"
IBKR = BROKERS / "ibkr" / "U7654321_20261127.csv"
FLEX = BROKERS / "ibkr" / "positions_flex.csv"
PLAIN = BROKERS / "plain" / "holdings.csv"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def imported(tmp_path: Path, export: Path, *options: str) -> tuple[Portfolio, Path, str]:
    """Import `export` into tmp_path; the portfolio read back, its path and the messages."""
    out = tmp_path / "portfolio.yaml"
    code, _, err = invoke("import", str(export), "--out", str(out), *options)
    assert code == 0, err
    return load_portfolio(out).portfolio, out, err


def shares(portfolio: Portfolio) -> dict[str, float]:
    return {h.ticker: h.quantity for h in portfolio.holdings}


def lots(portfolio: Portfolio, ticker: str) -> list[tuple[float, float | None, date | None]]:
    [holding] = [h for h in portfolio.holdings if h.ticker == ticker]
    return [(lot.shares, lot.cost_basis, lot.acquired) for lot in holding.lots or []]


def quotes(out: Path) -> dict[str, tuple[float, str]]:
    with open(out.with_name("portfolio-prices.csv"), newline="") as file:
        return {row["ticker"]: (float(row["price"]), row["date"]) for row in csv.DictReader(file)}


def validates_and_scores(out: Path) -> None:
    for command in ("validate", "score"):
        code, _, err = invoke(command, str(out))
        assert code == 0, f"{command}: {err}"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$1,234.50", 1234.5),
        ("(12.50)", -12.5),
        ("($1,250.00)", -1250.0),
        ("-$3.10", -3.1),
        ("+$0.16", 0.16),
        ("$-7", -7.0),
        ("1,250.5", 1250.5),
        ("205.2935", 205.2935),
        ("--", None),
        ("", None),
        ("n/a", None),
    ],
)
def test_broker_numbers(text: str, value: float | None) -> None:
    assert parse_amount(text) == value


@pytest.mark.parametrize("text", ["12,5", "abc", "12.5%", "$", "1,23,4", "nan", "inf"])
def test_text_that_is_not_a_number_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        parse_amount(text)


def test_fidelity(tmp_path: Path) -> None:
    portfolio, out, err = imported(tmp_path, FIDELITY, "--account", "Individual")
    assert shares(portfolio) == {"NVDA": 120, "AAPL": 60, "BRK.B": 15, "VOO": 20}
    # SPAXX** (the core position, value only) and FDRXX (a money-market fund); the pending
    # activity (-$150.00) is not cash yet.
    assert portfolio.cash == pytest.approx(3000.00 + 1250.50)
    assert lots(portfolio, "NVDA") == [(120, pytest.approx(4920 / 120), None)]
    # AAPL is listed twice (Cash and Margin): one holding, a lot at each row's average cost.
    assert lots(portfolio, "AAPL") == [(50, 190.0, None), (10, 240.0, None)]
    assert lots(portfolio, "VOO") == []  # cost basis `--`: shares only
    assert quotes(out)["NVDA"] == (180.25, "2026-11-27")  # "Date downloaded Nov-27-2026"
    assert portfolio.prices == "portfolio-prices.csv"
    text = out.read_text()
    for line in (
        "line 9: FXAIX: not in model us-equity (worth 2,150.00): kept out; a fund",
        "line 10: -NVDA261218C200: an option",
        "line 11: Pending Activity: not a position",
        "lines 15-17: disclaimers",
        "acquired date unknown (add `acquired:` for tax-aware trading): NVDA, AAPL, BRK.B",
        "no cost basis in the export (shares only): VOO",
    ):
        assert line in err
        assert any(line in row for row in text.splitlines() if row.startswith("# ")), line
    assert "wrote" in err
    validates_and_scores(out)


def test_fidelity_values_reconcile_with_the_export(tmp_path: Path) -> None:
    """Everything the account holds is imported, cash, or listed as left out: the imported
    shares at the export's prices, the cash and the rows left out add up to the sum of the
    Current Value column (pending activity aside), worked out here from the file itself."""
    portfolio, out, _ = imported(tmp_path, FIDELITY, "--account", "Z12345678")
    with open(FIDELITY, newline="", encoding="utf-8-sig") as file:
        rows = [r for r in csv.DictReader(file) if r["Account Number"] == "Z12345678"]
    total = sum(parse_amount(r["Current Value"]) or 0.0 for r in rows if r["Quantity"] != "")
    total += sum(parse_amount(r["Current Value"]) or 0.0 for r in rows if r["Symbol"] == "SPAXX**")
    prices = quotes(out)
    held = sum(n * prices[t][0] for t, n in shares(portfolio).items())
    left_out = 2150.00 - 1250.00  # FXAIX, and the short call
    assert held + portfolio.cash + left_out == pytest.approx(total)


def test_fidelity_second_account(tmp_path: Path) -> None:
    portfolio, out, _ = imported(tmp_path, FIDELITY, "--account", "roth")
    assert shares(portfolio) == {"IWM": 30}
    assert portfolio.cash == 500.00
    assert lots(portfolio, "IWM") == [(30, 200.0, None)]
    validates_and_scores(out)


def test_schwab(tmp_path: Path) -> None:
    portfolio, out, err = imported(tmp_path, SCHWAB, "--account", "...123")
    assert shares(portfolio) == {"MSFT": 40, "BRK.B": 8, "SCHB": 1200}  # BRK/B is BRK.B
    # "Cash & Cash Investments" and the SWVXX money-market row.
    assert portfolio.cash == pytest.approx(1234.56 + 2500.00)
    assert lots(portfolio, "MSFT") == [(40, 260.0, None)]
    assert lots(portfolio, "SCHB") == [(1200, 20.0, None)]
    assert quotes(out)["MSFT"] == (480.10, "2026-11-27")  # "as of 04:05 PM ET, 2026/11/27"
    assert "line 11: Account Total: a total" in err
    assert "line 9: AAPL 12/18/2026 300.00 C: an option" in err
    validates_and_scores(out)
    # The Account Total row reconciles: holdings at the export's prices, cash, and the option.
    with open(SCHWAB, newline="") as file:
        [total_row] = [r for r in csv.reader(file) if r and r[0] == "Account Total"][:1]
    prices = quotes(out)
    held = sum(n * prices[t][0] for t, n in shares(portfolio).items())
    assert held + portfolio.cash + 620.00 == pytest.approx(parse_amount(total_row[6]))


def test_schwab_second_account(tmp_path: Path) -> None:
    portfolio, out, _ = imported(tmp_path, SCHWAB, "--account", "Roth IRA")
    assert shares(portfolio) == {"AMZN": 25}
    assert portfolio.cash == 500.00
    assert lots(portfolio, "AMZN") == [(25, 200.0, None)]
    validates_and_scores(out)


def test_vanguard(tmp_path: Path) -> None:
    portfolio, out, err = imported(tmp_path, VANGUARD, "--account", "12345678")
    assert shares(portfolio) == {"VTI": 85.5, "NVDA": 40}
    assert portfolio.cash == pytest.approx(4210.37)  # VMFXX, the settlement fund
    assert lots(portfolio, "VTI") == []  # the download gives no cost basis
    assert "line 4: VFIAX: not in model us-equity (worth 6,915.92): kept out; a fund" in err
    assert "lines 13-17: transactions section: not positions" in err
    assert "(the file's date)" in out.read_text()  # the download states no date
    validates_and_scores(out)


def test_vanguard_second_account_prices_a_fund_the_model_cannot(tmp_path: Path) -> None:
    """VOO has no price in the model: the export's price, written to the quotes file the
    portfolio names, is what lets it validate and score."""
    portfolio, out, _ = imported(tmp_path, VANGUARD, "--account", "87654321")
    assert shares(portfolio) == {"VOO": 10}
    assert portfolio.cash == 100.00
    assert quotes(out)["VOO"][0] == 560.00
    validates_and_scores(out)


def test_interactive_brokers_activity_statement(tmp_path: Path) -> None:
    portfolio, out, err = imported(tmp_path, IBKR)
    assert shares(portfolio) == {"BRK.B": 12, "IWM": 45.5, "NVDA": 100}  # "BRK B"
    # The USD Ending Cash, not the base-currency summary (which counts the CAD cash too).
    assert portfolio.cash == pytest.approx(15432.10)
    assert lots(portfolio, "NVDA") == [
        (60, 45.5, date(2023, 3, 15)),
        (40, 83.0, date(2026, 10, 1)),
    ]
    assert lots(portfolio, "IWM") == [(45.5, 210.0, date(2025, 12, 1))]
    assert quotes(out)["NVDA"] == (180.25, "2026-11-27")  # the statement's period
    for line in (
        "line 17: XEQT: priced in CAD, not USD",
        "line 19: Open Positions Total: a total",
        "line 28: NVDA 18DEC26 200 C: asset class Equity and Index Options",
        "lines 31-39: Cash Report section: not positions",
    ):
        assert line in err
    assert "acquired date unknown" not in err  # every lot is dated
    validates_and_scores(out)


def test_interactive_brokers_flex_query(tmp_path: Path) -> None:
    portfolio, out, err = imported(tmp_path, FLEX, "--account", "Taxable")
    assert shares(portfolio) == {"MSFT": 30, "AAPL": 15}
    assert lots(portfolio, "MSFT") == [
        (20, 250.0, date(2019, 5, 2)),
        (10, 400.0, date(2025, 11, 3)),
    ]
    assert portfolio.cash == 0
    assert "carries no cash" in err
    assert "line 10: AAPL  261218C00300000: asset class OPT" in err
    assert "line 11: SAP: priced in EUR, not USD" in err
    validates_and_scores(out)


def test_plain_csv(tmp_path: Path) -> None:
    portfolio, out, err = imported(tmp_path, PLAIN)
    assert shares(portfolio) == {"NVDA": 400, "BRK.B": 20, "IWM": 50}
    assert lots(portfolio, "NVDA") == [
        (300, 4.10, date(2016, 3, 1)),
        (100, 120.0, date(2024, 6, 14)),
    ]
    assert lots(portfolio, "IWM") == []
    assert "line 6: ZZZZQ: not in model us-equity: kept out" in err
    assert portfolio.prices is None  # no prices in the file: the model's are used
    validates_and_scores(out)


def test_the_layout_is_told_by_content_not_by_name(tmp_path: Path) -> None:
    renamed = tmp_path / "schwab-positions.csv"
    shutil.copy(FIDELITY, renamed)
    _, out, _ = imported(tmp_path, renamed, "--account", "Z12345678")
    assert "(Fidelity)" in out.read_text()


def test_several_accounts_need_account(tmp_path: Path) -> None:
    code, _, err = invoke("import", str(SCHWAB), "--out", str(tmp_path / "p.yaml"))
    assert code == 2
    assert "--account is needed: the export holds 2 accounts" in err
    assert "Individual ...123" in err and "Roth IRA ...456" in err
    code, _, err = invoke("import", str(SCHWAB), "--out", str(tmp_path / "p.yaml"),
                          "--account", "Joint")  # fmt: skip
    assert code == 2 and "matches no account" in err
    assert not (tmp_path / "p.yaml").exists()


def test_a_garbled_export_gives_a_located_error(tmp_path: Path) -> None:
    garbled = tmp_path / "positions.csv"
    text = FIDELITY.read_text(encoding="utf-8-sig").replace(",120,$180.25,", ",12O,$180.25,")
    garbled.write_text(text)
    code, _, err = invoke("import", str(garbled), "--out", str(tmp_path / "p.yaml"))
    assert code == 2
    assert f"{garbled}:3: Quantity '12O' is not a number" in err
    assert "Traceback" not in err


def test_a_file_of_no_known_layout_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "notes.csv"
    other.write_text("Date,Amount\n2026-11-01,12.50\n")
    code, _, err = invoke("import", str(other), "--out", str(tmp_path / "p.yaml"))
    assert code == 2
    assert "is not a positions export of a known layout" in err


def test_existing_files_are_kept_unless_force_and_never_the_export(tmp_path: Path) -> None:
    out = tmp_path / "portfolio.yaml"
    out.write_text("kept\n")
    code, _, err = invoke("import", str(PLAIN), "--out", str(out))
    assert code == 2 and "exists" in err and "--force" in err
    assert out.read_text() == "kept\n"
    code, _, err = invoke("import", str(PLAIN), "--out", str(out), "--force")
    assert code == 0, err
    assert load_portfolio(out).portfolio.holdings
    export = tmp_path / "holdings.csv"
    shutil.copy(PLAIN, export)
    code, _, err = invoke("import", str(export), "--out", str(export), "--force")
    assert code == 2 and "never overwrites an input" in err
    assert export.read_bytes() == PLAIN.read_bytes()


def test_prices_out_is_named_relative_to_the_portfolio(tmp_path: Path) -> None:
    (tmp_path / "quotes").mkdir()
    out = tmp_path / "portfolio.yaml"
    prices = tmp_path / "quotes" / "today.csv"
    code, _, err = invoke("import", str(IBKR), "--out", str(out), "--prices-out", str(prices))
    assert code == 0, err
    assert load_portfolio(out).portfolio.prices == "quotes/today.csv"
    assert prices.read_text().startswith("ticker,price,date\n")
    validates_and_scores(out)


def test_disclaimers_without_a_blank_line_are_notes_not_an_account(tmp_path: Path) -> None:
    export = tmp_path / "Portfolio_Positions.csv"
    lines = FIDELITY.read_text(encoding="utf-8-sig").splitlines()
    export.write_text("\n".join(line for line in lines if line.strip()) + "\n")
    portfolio, _, err = imported(tmp_path, export, "--account", "Z12345678")
    assert shares(portfolio) == {"NVDA": 120, "AAPL": 60, "BRK.B": 15, "VOO": 20}
    assert "lines 14-16: disclaimers" in err


def test_statement_without_cash_report_takes_the_net_asset_value_cash(tmp_path: Path) -> None:
    export = tmp_path / "statement.csv"
    rows = IBKR.read_text(encoding="utf-8-sig").splitlines()
    export.write_text("\n".join(r for r in rows if not r.startswith("Cash Report")) + "\n")
    portfolio, _, err = imported(tmp_path, export)
    assert portfolio.cash == pytest.approx(15432.10)  # Net Asset Value, Cash, Current Total
    assert "line 13 Net Asset Value Cash 15,432.10" in err


def test_flex_query_with_section_codes(tmp_path: Path) -> None:
    """A Flex Query run with "section code and line descriptor" on: HEADER/DATA before each
    row."""
    export = tmp_path / "flex.csv"
    export.write_text(
        '"HEADER","POST","ClientAccountID","AccountAlias","CurrencyPrimary","AssetClass",'
        '"Symbol","Quantity","MarkPrice","CostBasisMoney","ReportDate"\n'
        '"DATA","POST","U1","","USD","STK","NVDA","10","180.25","410","2026-11-27"\n'
    )
    portfolio, out, _ = imported(tmp_path, export)
    assert shares(portfolio) == {"NVDA": 10}
    assert lots(portfolio, "NVDA") == [(10, 41.0, None)]
    assert quotes(out)["NVDA"] == (180.25, "2026-11-27")


def test_plain_csv_with_a_date_column(tmp_path: Path) -> None:
    export = tmp_path / "mine.csv"
    export.write_text("symbol,quantity,avg_cost,date\nAAPL,10,$150.00,2023-06-15\n")
    portfolio, _, _ = imported(tmp_path, export)
    assert lots(portfolio, "AAPL") == [(10, 150.0, date(2023, 6, 15))]


def test_a_fund_priced_neither_by_the_export_nor_the_model_is_refused(tmp_path: Path) -> None:
    export = tmp_path / "holdings.csv"
    export.write_text("ticker,shares\nVOO,10\n")  # the model has no price for VOO
    code, _, err = invoke("import", str(export), "--out", str(tmp_path / "p.yaml"))
    assert code == 2
    assert f"{export}:2: price is missing for VOO, and model us-equity has no price" in err
    assert not (tmp_path / "p.yaml").exists()


def test_a_negative_cost_basis_is_refused_where_it_sits(tmp_path: Path) -> None:
    export = tmp_path / "holdings.csv"
    export.write_text("ticker,shares,cost_basis\nAAPL,10,-5\n")
    code, _, err = invoke("import", str(export), "--out", str(tmp_path / "p.yaml"))
    assert code == 2
    assert f"{export}:2: cost_basis '-5' is below zero" in err


def test_schwab_single_account_export(tmp_path: Path) -> None:
    """One account's export: the account named in the title, which may follow a blank line,
    and dated month first."""
    lines = SCHWAB.read_text().splitlines()
    start = lines.index('"Roth IRA ...456"')
    export = tmp_path / "Roth_IRA-Positions-2026-11-27.csv"
    title = '"Positions for account Roth IRA ...456 as of 04:05 PM ET, 11/27/2026","",""'
    export.write_text("\n".join(["", title, '"",""', *lines[start + 1 :]]) + "\n")
    portfolio, out, _ = imported(tmp_path, export)
    assert shares(portfolio) == {"AMZN": 25}
    assert portfolio.cash == 500.00
    assert portfolio.account == "Roth IRA ...456"
    assert quotes(out)["AMZN"] == (230.40, "2026-11-27")


JUNK = ("", "abc", "--", "$", "(", '"', ",,,,", "1e400", "-5", "NaN", "Account Total",
        "Pending Activity", "9" * 30, "2026-13-45", "SPAXX**", "BRK B", "\u202e")  # fmt: skip


@pytest.mark.parametrize("seed", range(60))
def test_a_mutated_export_imports_or_is_refused_never_crashes(tmp_path: Path, seed: int) -> None:
    """Lines deleted, duplicated, swapped or cut, cells replaced by junk: the import ends with
    exit 0 (and the file validates) or 2, never a traceback."""
    rng = np.random.default_rng(seed)
    exports = sorted(BROKERS.rglob("*.csv"))
    lines = exports[seed % len(exports)].read_text(encoding="utf-8-sig").splitlines()
    for _ in range(int(rng.integers(1, 4))):
        at = int(rng.integers(len(lines)))
        action = int(rng.integers(4))
        if action == 0:
            del lines[at]
        elif action == 1:
            lines.insert(at, lines[at])
        elif action == 2:
            lines = lines[:at]
        else:
            cells = lines[at].split(",")
            cells[int(rng.integers(len(cells)))] = str(rng.choice(JUNK))
            lines[at] = ",".join(cells)
        if not lines:
            break
    export = tmp_path / "export.csv"
    export.write_text("\n".join(lines) + "\n")
    out = tmp_path / "p.yaml"
    account = {FIDELITY.name: "Z12345678", SCHWAB.name: "123", VANGUARD.name: "12345678",
               FLEX.name: "Taxable"}.get(exports[seed % len(exports)].name)  # fmt: skip
    options = ["--account", account] if account else []
    code, _, err = invoke("import", str(export), "--out", str(out), *options)
    assert code in (0, 2), err
    assert "internal error" not in err
    if code == 0:
        assert invoke("validate", str(out))[0] == 0


def test_an_older_fidelity_layout_and_a_plain_total_cost_basis(tmp_path: Path) -> None:
    """Fidelity's older download names the account in one `Account Name/Number` column and
    its cost in `Cost Basis`; a plain file's `Cost Basis` holding totals is read as totals."""
    export = tmp_path / "Portfolio_Positions_Nov-27-2026.csv"
    export.write_text(
        "Account Name/Number,Symbol,Description,Quantity,Last Price,Current Value,"
        "Cost Basis,Cost Basis Per Share,Type\n"
        "BROKERAGE X99999999,SPAXX**,HELD IN MONEY MARKET,,,$12345.67,,,Cash\n"
        'BROKERAGE X99999999,MSFT,MICROSOFT CORP,35,$413.60,"$14,476.00","$9,500.00",$271.43,Cash\n'
        'BROKERAGE X99999999,Pending Activity,,,,"$250.00",,,\n'
        "\n"
        '"Date downloaded 11/27/2026 4:05 PM ET"\n'
    )
    out = tmp_path / "f.yaml"
    result = runner.invoke(app, ["import", str(export), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    portfolio = load_portfolio(out).portfolio
    assert portfolio.cash == 12345.67 and portfolio.account == "BROKERAGE X99999999"
    [msft] = portfolio.holdings
    assert (
        msft.quantity == 35
        and msft.lots
        and msft.lots[0].cost_basis == pytest.approx(271.43, abs=0.01)
    )
    plain = tmp_path / "plain.csv"
    plain.write_text(
        "Symbol,Quantity,Last Price,Cost Basis\nMSFT,35,413.60,9500\nXOM,120,151.21,100.5\n"
    )
    out = tmp_path / "p.yaml"
    result = runner.invoke(app, ["import", str(plain), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    bases = {
        h.ticker: h.lots[0].cost_basis for h in load_portfolio(out).portfolio.holdings if h.lots
    }
    assert bases == {"MSFT": pytest.approx(9500 / 35), "XOM": 100.5}
