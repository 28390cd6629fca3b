"""Prices: quotes files, their precedence, dates and sources in every output, stale warnings,
and the limit-price basket refused on stale prices."""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import InputError
from advisor.prices import PriceOptions, parse_price, read_quotes, stale, stale_warning
from advisor.proposal import proposal_schema
from tests.conftest import SHIPPED_MODEL

runner = CliRunner()
RUN = "2026-11-28"  # every run date here is fixed: staleness never depends on the day tests run
FRESH = "2026-11-27"
MODEL_PRICES = {"NVDA": 190.04, "AAPL": 274.62, "MSFT": 413.6, "TSLA": 417.32}  # securities.csv


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def portfolio(folder: Path, body: str) -> Path:
    return write(folder / "p.yaml", f"model: {SHIPPED_MODEL}\n{body}")


def score_json(path: Path, *options: str) -> dict[str, Any]:
    result = runner.invoke(app, ["score", str(path), "--json", "--date", RUN, *options])
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def by_ticker(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["ticker"]: row for row in rows}


def test_quotes_file_revalues_holdings(tmp_path: Path) -> None:
    held = "cash: 1000\nholdings:\n  - {ticker: NVDA, shares: 10}\n  - {ticker: AAPL, shares: 5}\n"
    path = portfolio(tmp_path, held)
    quotes = write(
        tmp_path / "q.csv",
        f'Symbol,Last Price,As Of\nnvda,123.45,{FRESH}\nAAPL,"$1,234.50",{FRESH}\n',
    )
    data = score_json(path, "--prices", str(quotes))
    rows = by_ticker(data["positions"])
    # By hand: 10 x 123.45 = 1,234.50; 5 x 1,234.50 = 6,172.50; with $1,000 cash 8,407.00.
    assert rows["NVDA"]["value"] == pytest.approx(1234.5)
    assert rows["AAPL"]["value"] == pytest.approx(6172.5)
    assert data["value"] == pytest.approx(8407.0)
    for row in rows.values():
        assert row["price_source"] == f"quotes {quotes} (--prices)"
        assert row["price_date"] == FRESH
    assert data["run_date"] == RUN and data["warnings"] == []


def test_precedence(tmp_path: Path) -> None:
    """--prices > a holding's price: > the portfolio file's prices: > the model's."""
    write(tmp_path / "listed.csv", f"ticker,price,date\nNVDA,90,{FRESH}\nAAPL,190,{FRESH}\n"
          f"MSFT,300,{FRESH}\n")  # fmt: skip
    given = write(tmp_path / "given.csv", f"ticker,price,date\nNVDA,80,{FRESH}\n")
    path = portfolio(
        tmp_path,
        "prices: listed.csv\nholdings:\n"
        "  - {ticker: NVDA, shares: 1, price: 100}\n"
        "  - {ticker: AAPL, shares: 1, price: 200}\n"
        "  - {ticker: MSFT, shares: 1}\n"
        "  - {ticker: TSLA, shares: 1}\n",
    )
    edited = datetime(2026, 11, 20, 12).timestamp()
    os.utime(path, (edited, edited))
    rows = by_ticker(score_json(path, "--prices", str(given))["positions"])
    listed = tmp_path / "listed.csv"
    assert (rows["NVDA"]["price"], rows["NVDA"]["price_source"]) == (
        80,
        f"quotes {given} (--prices)",
    )
    assert (rows["AAPL"]["price"], rows["AAPL"]["price_source"]) == (200, "portfolio file")
    assert rows["AAPL"]["price_date"] == "2026-11-20"  # the portfolio file's modification date
    assert (rows["MSFT"]["price"], rows["MSFT"]["price_source"]) == (
        300,
        f"quotes {listed} (prices:)",
    )
    assert rows["TSLA"]["price"] == MODEL_PRICES["TSLA"]
    assert rows["TSLA"]["price_source"] == "model: Nasdaq screener last sale"
    assert rows["TSLA"]["price_date"] == "2026-02-10"


def test_undated_price_is_dated_by_the_file(tmp_path: Path) -> None:
    quotes = write(tmp_path / "q.csv", "TICKER,CLOSE\nNVDA,150\n")
    stamp = datetime(2026, 11, 25, 12).timestamp()
    os.utime(quotes, (stamp, stamp))
    found = read_quotes(quotes, "--prices q.csv")
    quote = found.quotes["NVDA"]
    assert quote.price == 150 and quote.day_text == "2026-11-25"
    assert "undated" in quote.source


def test_unknown_ticker_is_warned_not_dropped(tmp_path: Path) -> None:
    path = portfolio(tmp_path, "holdings:\n  - {ticker: NVDA, shares: 1}\n")
    quotes = write(tmp_path / "q.csv", f"ticker,price,date\nNVDA,1,{FRESH}\nQQQZ,2,{FRESH}\n")
    data = score_json(path, "--prices", str(quotes))
    assert any("QQQZ" in line and "not in the model" in line for line in data["warnings"])


def test_fund_not_held_is_bought_at_the_quoted_price(tmp_path: Path) -> None:
    path, _ = _rotation(tmp_path, fresh=False)
    quotes = write(tmp_path / "iwm.csv", f"ticker,price,date\nIWM,250.00,{FRESH}\n")
    out = tmp_path / "out.json"
    args = ["rebalance", str(path), "--date", RUN, "--prices", str(quotes), "--output", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    trades = by_ticker(json.loads(out.read_text())["trades"])
    iwm = trades["IWM"]
    assert iwm["side"] == "BUY"
    assert iwm["price"] == 250.0 and iwm["price_source"] == f"quotes {quotes} (--prices)"
    assert iwm["price_date"] == FRESH
    assert iwm["value"] == pytest.approx(iwm["shares"] * 250.0)
    # The same through the portfolio file's prices: (relative to it).
    path.write_text(path.read_text() + "prices: iwm.csv\n")
    args = ["rebalance", str(path), "--date", RUN, "--output", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    iwm = by_ticker(json.loads(out.read_text())["trades"])["IWM"]
    assert (
        iwm["price"] == 250.0 and iwm["price_source"] == f"quotes {tmp_path / 'iwm.csv'} (prices:)"
    )


def _rotation(tmp_path: Path, fresh: bool) -> tuple[Path, Path]:
    path = portfolio(
        tmp_path,
        "cash: 20000\ntarget: {small_cap_share: 0.2}\n"
        "limits: {buy_from: [holdings, IWM], sector_drift_max: 1}\n"
        "holdings:\n  - {ticker: NVDA, shares: 300}\n  - {ticker: AAPL, shares: 250}\n",
    )
    rows = "".join(f"{t},{p},{FRESH}\n" for t, p in {**MODEL_PRICES, "IWM": 250}.items())
    return path, write(tmp_path / "q.csv", "ticker,price,date\n" + (rows if fresh else ""))


STALE = "warning: 2 prices are older than 5 days (oldest 2026-02-10, AAPL)"


def test_stale_warning_appears_without_prices_and_not_with_fresh_ones(tmp_path: Path) -> None:
    path, quotes = _rotation(tmp_path, fresh=True)
    result = runner.invoke(app, ["score", str(path), "--date", RUN])
    assert result.exit_code == 0
    assert STALE + "; give --prices FILE with today's quotes" in result.stderr
    assert score_json(path)["warnings"] == [STALE + "; give --prices FILE with today's quotes"]
    result = runner.invoke(app, ["score", str(path), "--date", RUN, "--prices", str(quotes)])
    assert result.exit_code == 0 and "older than" not in result.stderr
    # The age limit is the user's: a year accepts February's prices.
    assert score_json(path, "--max-price-age", "365")["warnings"] == []
    # Measured against --date: on the model's own day nothing is stale.
    result = runner.invoke(app, ["score", str(path), "--date", "2026-02-12"])
    assert "older than" not in result.stderr


def test_stale_warning_in_every_proposal_output(tmp_path: Path) -> None:
    path, _ = _rotation(tmp_path, fresh=False)
    outputs = {suffix: tmp_path / f"p{suffix}" for suffix in (".json", ".html", ".md")}
    for out in outputs.values():
        result = runner.invoke(app, ["rebalance", str(path), "--date", RUN, "--output", str(out)])
        assert result.exit_code == 0, result.stderr
        assert "older than 5 days" in result.stdout  # the terminal, under the summary
    document = json.loads(outputs[".json"].read_text())
    assert document["inputs"]["run_date"] == RUN
    assert any("older than 5 days (oldest 2026-02-10" in w for w in document["warnings"])
    for out in (outputs[".html"], outputs[".md"]):
        text = out.read_text()
        assert "older than 5 days (oldest 2026-02-10" in text
        # each trade's date and source
        assert "2026-02-10" in text and "model: Nasdaq screener last sale" in text
    positions = by_ticker(document["positions"])
    assert positions["NVDA"]["price_date"] == "2026-02-10"
    assert all(t["price_source"] and t["price_date"] for t in document["trades"])


def test_limit_basket_refused_on_stale_prices(tmp_path: Path) -> None:
    path, quotes = _rotation(tmp_path, fresh=True)
    basket, out = tmp_path / "b.csv", tmp_path / "p.json"
    base = ["rebalance", str(path), "--date", RUN, "--basket", str(basket), "--output", str(out)]
    result = runner.invoke(app, [*base, "--limit-band", "25"])
    assert result.exit_code == 4
    assert "--allow-stale-prices" in result.stderr and "older than 5 days" in result.stderr
    assert not basket.exists() and not out.exists()  # nothing written
    result = runner.invoke(app, [*base, "--limit-band", "25", "--allow-stale-prices"])
    assert result.exit_code == 0, result.stderr
    assert basket.exists() and out.exists()
    basket.unlink()
    out.unlink()
    result = runner.invoke(app, [*base])  # market orders only warn
    assert result.exit_code == 0 and basket.exists()
    basket.unlink()
    out.unlink()
    result = runner.invoke(app, [*base, "--limit-band", "25", "--prices", str(quotes)])
    assert result.exit_code == 0, result.stderr  # fresh quotes: limit prices from them
    lines = basket.read_text().splitlines()
    assert lines[0].endswith("Reference Price,Price Date,Price Source")
    assert all(line.endswith(f",{FRESH},quotes {quotes} (--prices)") for line in lines[1:])


def test_proposal_schema_holds_and_old_proposals_review(tmp_path: Path) -> None:
    path, quotes = _rotation(tmp_path, fresh=True)
    out = tmp_path / "p.json"
    args = ["rebalance", str(path), "--date", RUN, "--prices", str(quotes), "--output", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    document = json.loads(out.read_text())
    jsonschema.validate(document, proposal_schema())
    # A proposal saved before prices carried their source and date still reviews.
    for key in ("warnings", "positions"):
        document.pop(key)
    del document["inputs"]["run_date"], document["inputs"]["max_price_age"]
    for trade in document["trades"]:
        del trade["price_source"], trade["price_date"]
    old = write(tmp_path / "old.json", json.dumps(document))
    result = runner.invoke(app, ["review", str(old)])
    assert result.exit_code == 0, result.stderr
    for suffix in (".html", ".md"):
        result = runner.invoke(app, ["review", str(old), "--output", str(tmp_path / f"r{suffix}")])
        assert result.exit_code == 0, result.stderr


def test_portfolio_schema_has_prices() -> None:
    result = runner.invoke(app, ["schema"])
    assert "prices" in json.loads(result.stdout)["properties"]


@pytest.mark.parametrize(
    ("text", "where", "fix"),
    [
        (
            "sym,amount\nNVDA,1\n",
            ":1: header 'sym,amount' has no ticker column",
            "ticker or symbol",
        ),
        ("ticker,last\nNVDA,abc\n", ":2: price 'abc' is not a price", "write a number"),
        ("ticker,price\nNVDA,1\nAAPL,12,5\n", ":3: row 'AAPL,12,5' has 3 cells", "in quotes"),
        ('ticker,price\nNVDA,"12,5"\n', ":2: price '12,5' is not a price", "a dot for decimals"),
        ("ticker,price\nNVDA,-3\n", ":2: price '-3' is out of range", "above 0"),
        (
            "ticker,price,date\nNVDA,3,27/11/2026\n",
            ":2: date '27/11/2026' is not a date",
            "YYYY-MM-DD",
        ),
        (
            "ticker,price\nNVDA,3\nnvda,4\n",
            ":3: ticker 'nvda' is listed twice (first on line 2)",
            "one price per ticker",
        ),
        ("ticker,price\n,3\n", ":2: ticker is empty", "give a ticker"),
        ("", ":1: file is empty", "header of ticker and price"),
        ('ticker,price\nNVDA,"1\n', ":2: file is not a readable CSV", "header of ticker"),
    ],
)
def test_bad_quotes_files_give_located_errors(
    tmp_path: Path, text: str, where: str, fix: str
) -> None:
    quotes = write(tmp_path / "q.csv", text)
    with pytest.raises(InputError) as caught:
        read_quotes(quotes, "--prices q.csv")
    message = str(caught.value)
    assert message.startswith(f"{quotes}{where}"), message
    assert fix in message


def test_bad_quotes_exit_2_from_either_place(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.csv", "ticker,price\nNVDA,x\n")
    path = portfolio(tmp_path, "holdings:\n  - {ticker: NVDA, shares: 1}\n")
    result = runner.invoke(app, ["score", str(path), "--prices", str(bad)])
    assert result.exit_code == 2 and f"{bad}:2: price 'x' is not a price" in result.stderr
    path = portfolio(tmp_path, "prices: nowhere.csv\nholdings:\n  - {ticker: NVDA, shares: 1}\n")
    result = runner.invoke(app, ["score", str(path)])
    assert result.exit_code == 2
    assert f"{path}:2: prices 'nowhere.csv' names no file" in result.stderr
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "names no file" in result.stderr
    path = portfolio(tmp_path, 'prices: ""\ncash: 1\n')
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:2: prices '' is empty; give the path of a CSV" in result.stderr
    result = runner.invoke(app, ["score", str(path), "--date", "28/11/2026"])
    assert result.exit_code == 2 and "--date '28/11/2026' is not a date" in result.stderr


def test_batch_prices_every_account(tmp_path: Path) -> None:
    path, quotes = _rotation(tmp_path, fresh=True)
    accounts = tmp_path / "accounts"
    accounts.mkdir()
    for name in ("a", "b"):
        (accounts / f"{name}.yaml").write_text(path.read_text())
    out = tmp_path / "out"
    args = ["rebalance", str(accounts), "--out-dir", str(out), "--date", RUN]
    result = runner.invoke(app, [*args, "--prices", str(quotes)])
    assert result.exit_code == 0, result.stderr
    for name in ("a", "b"):
        document = json.loads((out / f"{name}.json").read_text())
        assert document["warnings"] == [] and document["inputs"]["run_date"] == RUN
        for row in (*document["positions"], *document["trades"]):
            assert row["price_source"] == f"quotes {quotes} (--prices)", row


def test_stale_is_older_than_the_age_limit_before_the_run_date() -> None:
    options = PriceOptions(run_date=date(2026, 11, 28), max_age_days=5)
    used = [("A", "2026-11-23"), ("B", "2026-11-22"), ("C", ""), ("D", "2026-11-30")]
    found = stale(used, options)
    # 5 days old is within the limit; 6 is past it; an unknown date counts as stale.
    assert [s.ticker for s in found] == ["C", "B"]
    line = stale_warning(found, 5)
    assert line == (
        "warning: 2 prices are older than 5 days (oldest undated, C); "
        "give --prices FILE with today's quotes"
    )
    assert stale_warning([], 5) is None


@given(st.decimals(min_value="0.01", max_value="999999.99", places=2))
def test_dollar_prices_with_thousands_read_back(price: Decimal) -> None:
    assert parse_price(Path("q.csv"), 2, f"${price:,.2f}") == float(price)
    assert parse_price(Path("q.csv"), 2, f"{price}") == float(price)
