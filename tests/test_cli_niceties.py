"""The CLI's rough edges for a newcomer: --version, repeatable --output, "wrote FILE", buy_from
as one name, percents for shares, YAML errors in plain words, renamed and delisted tickers,
help without type noise, and the brokers' basket layouts."""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor import __version__
from advisor.cli import app
from tests.conftest import ROOT

runner = CliRunner()
ROTATION = ROOT / "portfolios" / "rotation.yaml"


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "100"})
    return result.exit_code, result.stdout, result.stderr


def write(folder: Path, text: str, name: str = "p.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_version_is_the_package_version() -> None:
    code, out, _ = invoke("--version")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert (code, out) == (0, f"advisor {project['version']}\n")
    assert __version__ == project["version"]


def test_every_output_is_written_and_said_on_standard_error(tmp_path: Path) -> None:
    portfolio = write(tmp_path, ROTATION.read_text(), "rotation.yaml")
    files = [tmp_path / name for name in ("a.json", "b.html", "c.md", "d.csv")]
    basket = tmp_path / "basket.csv"
    args = [x for f in files for x in ("-o", f)]
    code, _, err = invoke("rebalance", portfolio, *args, "--basket", basket)
    assert code == 0, err
    assert err.splitlines() == [f"wrote {path}" for path in [*files, basket]]
    assert json.loads(files[0].read_text())["trades"]
    assert "<html" in files[1].read_text().lower()
    assert files[3].read_text().startswith("ticker,side,shares,price")

    # review writes each again, and says so
    again = [tmp_path / "again.html", tmp_path / "again.md"]
    code, _, err = invoke("review", files[0], "-o", again[0], "--output", again[1])
    assert code == 0, err
    assert err.splitlines() == [f"wrote {path}" for path in again]
    assert again[0].read_text() == files[1].read_text()


def test_two_outputs_that_are_one_file_are_refused_and_nothing_written(tmp_path: Path) -> None:
    portfolio = write(tmp_path, ROTATION.read_text(), "rotation.yaml")
    code, out, err = invoke(
        "rebalance", portfolio, "-o", tmp_path / "a.json", "-o", tmp_path / "a.json"
    )
    assert code == 2 and out == ""
    assert "is the same file as --output" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rotation.yaml"]


def test_apply_says_which_files_it_wrote(tmp_path: Path) -> None:
    portfolio = write(tmp_path, ROTATION.read_text(), "rotation.yaml")
    proposal, basket = tmp_path / "p.json", tmp_path / "basket.csv"
    assert invoke("rebalance", portfolio, "-o", proposal, "--basket", basket)[0] == 0
    code, _, err = invoke("apply", proposal, "--fills", basket)
    assert code == 0, err
    assert f"wrote {portfolio}\n" in err and f"wrote {portfolio}.bak\n" in err


def test_help_shows_flags_without_type_noise() -> None:
    code, out, _ = invoke("score", "--help")
    assert code == 0
    assert "<bool>" not in out
    assert re.search(r"^\s+--json\s+Print one JSON object", out, re.MULTILINE), out
    assert "Usage: " in out and "PORTFOLIO" in out


# The basket in a broker's layout


def test_ibkr_basket_market_and_limit_orders(tmp_path: Path) -> None:
    portfolio = write(tmp_path, ROTATION.read_text(), "rotation.yaml")
    market, limit, proposal = tmp_path / "m.csv", tmp_path / "l.csv", tmp_path / "p.json"
    code, _, err = invoke(
        "rebalance", portfolio, "-o", proposal, "--basket", market, "--basket-format", "ibkr"
    )
    assert code == 0, err
    trades = json.loads(proposal.read_text())["trades"]
    rows = list(csv.reader(io.StringIO(market.read_text())))
    assert rows[0] == [
        "Action", "Quantity", "Symbol", "SecType", "Exchange", "Currency", "TimeInForce",
        "OrderType",
    ]  # fmt: skip
    assert rows[1:] == [
        [t["side"], str(t["shares"]), t["ticker"], "STK", "SMART", "USD", "DAY", "MKT"]
        for t in trades
    ]
    code, _, err = invoke(
        "rebalance", portfolio, "--basket", limit, "--basket-format", "ibkr",
        "--limit-band", "25", "--allow-stale-prices",
    )  # fmt: skip
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(limit.read_text())))
    assert rows[0][-2:] == ["OrderType", "LmtPrice"]
    for trade, row in zip(trades, rows[1:], strict=True):
        band = 1.0025 if trade["side"] == "BUY" else 0.9975
        assert row[-2] == "LMT"
        assert float(row[-1]) == pytest.approx(trade["price"] * band, abs=0.005)
    # the limit basket reads back as fills at its limit prices
    code, out, err = invoke("apply", proposal, "--fills", limit)
    assert code == 0, err
    assert f"read {limit} as order columns" in err and f"with {len(trades)} fill(s)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--basket-format", "schwab", "--basket", "b.csv"], "--basket-format 'schwab' is not a"),
        (["--basket-format", "ibkr"], "--basket-format 'ibkr' needs --basket"),
    ],
)
def test_bad_basket_formats_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    portfolio = write(tmp_path, ROTATION.read_text(), "rotation.yaml")
    code, _, err = invoke(
        "rebalance", portfolio, *[str(tmp_path / a) if a.endswith(".csv") else a for a in args]
    )
    assert code == 2 and message in err, err


def test_a_batch_refuses_a_basket_format(tmp_path: Path) -> None:
    write(tmp_path, ROTATION.read_text(), "rotation.yaml")
    code, _, err = invoke(
        "rebalance", tmp_path, "--out-dir", tmp_path / "out", "--basket-format", "ibkr"
    )
    assert code == 2 and "--basket-format applies to one portfolio only" in err, err


# The portfolio file

HOLDINGS = "cash: 10000\nholdings:\n  - {ticker: AAPL, shares: 10}\n"


@pytest.mark.parametrize("source", ["all", "funds", "holdings", "IWM"])
def test_buy_from_takes_one_name_without_a_list(tmp_path: Path, source: str) -> None:
    path = write(tmp_path, HOLDINGS + f"limits:\n  buy_from: {source}\n")
    code, _, err = invoke("validate", path)
    assert code == 0, err


def test_the_readme_example_file_is_valid(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", readme, re.DOTALL)
    assert example is not None
    text = example.group(1).replace("  QQQ: {holdings: qqq.csv, name: Invesco QQQ Trust}\n", "")
    text = text.replace("funds:", "funds: {}")
    text = re.sub(r"^prices: .*\n", "", text, flags=re.MULTILINE)  # a quotes file of its own
    path = write(tmp_path, text)
    code, _, err = invoke("validate", path)
    assert code == 0, err


@pytest.mark.parametrize(
    ("limits", "line", "message"),
    [
        (
            "max_turnover: 30%",
            5,
            "limits.max_turnover '30%' is a percent, not a fraction; write 0.30",
        ),
        (
            'cash_min: "5%"',
            5,
            "limits.cash_min '5%' is a percent, not a fraction; write 0.05 for 5%",
        ),
        ("max_turnover: 30", 5, "limits.max_turnover 30 is out of range; must be <= 2; write 0.30"),
        (
            "sector_drift_max: 12.5",
            5,
            "limits.sector_drift_max 12.5 is out of range; must be <= 1; write 0.125 for 12.5%",
        ),
        ("min_trade_value: 5%", 5, "limits.min_trade_value '5%' is not a number"),  # dollars
    ],
)
def test_a_percent_for_a_share_suggests_the_fraction(
    tmp_path: Path, limits: str, line: int, message: str
) -> None:
    path = write(tmp_path, HOLDINGS + f"limits:\n  {limits}\n")
    code, _, err = invoke("validate", path)
    assert code == 2
    assert err.startswith(f"error: {path}:{line}: {message}"), err
    assert "min_trade_value" not in limits or "write 0.05" not in err  # dollars, not a share


def test_a_target_share_in_percent_suggests_the_fraction(tmp_path: Path) -> None:
    path = write(tmp_path, HOLDINGS + "target: {small_cap_share: 30, band: 2%}\n")
    code, _, err = invoke("validate", path)
    assert code == 2
    assert "target.small_cap_share 30 is out of range; must be <= 1; write 0.30 for 30%" in err
    assert "target.band '2%' is a percent, not a fraction; write 0.02 for 2%" in err


YAML_ERRORS = {  # text, line, words
    "indented deeper": (
        "cash: 100\nlimits:\n  cash_min: 0.01\n    max_turnover: 0.3\n",
        4,
        "this line is indented differently from the lines above it; check its indentation",
    ),
    "indented less": (
        "cash: 100\nholdings:\n  - {ticker: AAPL, shares: 1}\n - {ticker: MSFT, shares: 2}\n",
        4,
        "this line is indented differently from the lines above it",
    ),
    "a list item out of step": (
        "cash: 100\nholdings:\n  - ticker: AAPL\n    shares: 10\n  - ticker: MSFT\n   shares: 2\n",
        6,
        "this line is indented differently from the lines above it",
    ),
    "a tab": ("cash: 100\nlimits:\n\tcash_min: 0.01\n", 3, "indentation has a tab; tabs are"),
    "no colon": (
        "cash: 100\nholdings:\n  - ticker: AAPL\n    shares 10\n  - ticker: MSFT\n    shares: 2\n",
        4,
        "this line has no colon after its key; write 'key: value'",
    ),
    "no space after the colon": (
        "cash: 100\nlimits:\n  cash_min:0.01\n  max_turnover: 0.3\n",
        3,
        "a colon needs a space after it; write 'key: value'",
    ),
    "unclosed quote": (
        'account: "Rotation\ncash: 100\nholdings:\n  - {ticker: AAPL, shares: 1}\n',
        1,
        "this line opens a quote that is never closed",
    ),
    "unclosed bracket": (
        "cash: 100\nholdings:\n  - {ticker: AAPL, shares: 1\n  - {ticker: MSFT, shares: 2}\n",
        3,
        "this line opens a bracket ({ or [) that is not closed",
    ),
    "duplicate key": ("cash: 100\nholdings: []\ncash: 200\n", 3, "cash is a duplicate key (first"),
}


@pytest.mark.parametrize("case", sorted(YAML_ERRORS))
def test_yaml_syntax_errors_in_plain_words(tmp_path: Path, case: str) -> None:
    text, line, words = YAML_ERRORS[case]
    path = write(tmp_path, text)
    code, out, err = invoke("validate", path)
    assert code == 2 and out == ""
    assert err.startswith(f"error: {path}:{line}: "), err
    assert words in err
    assert "<block" not in err and "expected" not in err


# Tickers the model lacks


@pytest.mark.parametrize(
    ("ticker", "words"),
    [
        (
            "FB",
            "FB was Meta Platforms, Inc. on 2022-01-04, listed today as META: did you mean 'META'?",
        ),
        ("TWTR", "TWTR (Twitter, Inc., last seen 2022-01-04) is no longer listed"),
        ("ABC", "ABC (AmerisourceBergen Corporation, last seen 2022-01-04) is no longer listed"),
        ("MSFTT", "did you mean 'MSFT'?"),  # never known: spelling, as before
    ],
)
def test_a_ticker_the_model_lacks_is_explained(tmp_path: Path, ticker: str, words: str) -> None:
    path = write(tmp_path, f"cash: 100\nholdings:\n  - {{ticker: {ticker}, shares: 1}}\n")
    code, _, err = invoke("validate", path)
    assert code == 2
    assert err.startswith(f"error: {path}:3: holdings[0].ticker '{ticker}' is not in model"), err
    assert words in err, err


def test_ibkr_basket_writes_a_share_class_after_a_space() -> None:
    """TWS spells BRK.B as "BRK B"; the default basket keeps the tool's spelling."""
    from types import SimpleNamespace

    import pandas as pd

    from advisor.report.files import BasketFormat, basket_csv

    trades = pd.DataFrame(
        {"side": ["SELL"], "shares": [3.0], "price": [480.0], "value": [-1440.0], "cost": [0.5]}
        | {"reason": ["target"]},
        index=["BRK.B"],
    )
    quote = SimpleNamespace(source="model", day_text="2026-02-10")
    proposal: Any = SimpleNamespace(
        plan=SimpleNamespace(trades=trades), trade_quotes={"BRK.B": quote}
    )
    ibkr = basket_csv(proposal, 10, BasketFormat.ibkr).splitlines()
    assert ibkr[1] == "SELL,3,BRK B,STK,SMART,USD,DAY,LMT,479.52"
    assert basket_csv(proposal).splitlines()[1].startswith("BRK.B,SELL,3,MARKET,DAY,480.0,")
