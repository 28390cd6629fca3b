"""Proposals an adviser would sign, end to end on the shipped model: cash is not a lever,
concentration is measured through funds, every trade matters, reasons and costs are true.

Each figure is recomputed from the proposal's trades and the model's own files, read here as
plain CSV (not with the optimizer's, the checks' or the look-through module's code).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from tests.conftest import SHIPPED_MODEL

runner = CliRunner()
HARD_RULES = ("max_position", "max_fund_position", "cash_min", "cash_max", "refinancing_max",
              "floating_debt_max", "weak_coverage_max", "unprofitable_max",
              "economic_sensitivity_max", "sector_drift_max", "max_names")  # fmt: skip


def rebalance(tmp_path: Path, text: str) -> tuple[int, dict[str, Any], str]:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    out = tmp_path / "p.json"
    result = runner.invoke(app, ["rebalance", str(path), "--output", str(out)])
    data = json.loads(out.read_text()) if out.exists() else {}
    return result.exit_code, data, result.stdout + result.stderr


def cash_share(measures: dict[str, Any]) -> float:
    return float(measures["cash"]) / float(measures["value"])


def company_weights(held: dict[str, float], total: float) -> pd.Series:
    """Each company's look-through share of `total`, from securities.csv and funds/*.csv."""
    securities = pd.read_csv(SHIPPED_MODEL / "securities.csv", index_col="ticker",
                             keep_default_na=False, usecols=["ticker", "company"])  # fmt: skip
    parts = []
    for ticker, value in held.items():
        fund = SHIPPED_MODEL / "funds" / f"{ticker}.csv"
        if fund.exists():
            weights = pd.read_csv(fund, keep_default_na=False)
            companies = securities.loc[weights["ticker"], "company"].to_numpy()
            parts.append(pd.Series(weights["weight"].to_numpy() * value, index=companies))
        else:
            parts.append(pd.Series([value], index=[securities.at[ticker, "company"]]))
    return pd.concat(parts).groupby(level=0).sum() / total


def held_after(data: dict[str, Any], shares: dict[str, float]) -> dict[str, float]:
    """$ held after the trades, at the proposal's prices."""
    held = dict(shares)
    for trade in data["trades"]:
        sign = 1 if trade["side"] == "BUY" else -1
        held[trade["ticker"]] = held.get(trade["ticker"], 0) + sign * trade["shares"]
    prices = {t["ticker"]: t["price"] for t in data["trades"]}
    return {t: n * prices[t] for t, n in held.items() if n > 0 and t in prices}


def assert_signable(data: dict[str, Any]) -> None:
    """The rules of every file: cash at most 0.5 points above max(today's, cash_min) and every
    trade at least 0.2% of value unless its reason names a hard rule."""
    before, after = data["before"], data["after"]
    cash_min = data["limits"]["cash_min"]["value"]
    if data["limits"]["cash_max"]["source"] != "user":
        assert cash_share(after) <= max(cash_share(before), cash_min) + 0.005
    for trade in data["trades"]:
        if trade["value"] < 0.002 * before["value"]:
            assert any(rule in trade["reason"] for rule in HARD_RULES), trade


MEGA = """\
cash: 20000
holdings:
  - {ticker: NVDA, shares: 600}
  - {ticker: AAPL, shares: 250}
  - {ticker: MSFT, shares: 150}
  - {ticker: GOOGL, shares: 200}
  - {ticker: AMZN, shares: 250}
  - {ticker: META, shares: 80}
  - {ticker: AVGO, shares: 120}
  - {ticker: BRK.B, shares: 100}
target: {small_cap_share: 0.25, band: 0.02}
limits: {max_turnover: 0.50, buy_from: [holdings, funds]}
"""


def test_a_mega_cap_rotation_lands_in_the_band_without_parking_cash(tmp_path: Path) -> None:
    code, data, _ = rebalance(tmp_path, MEGA)
    assert code == 0
    assert abs(data["after"]["small_cap_share"] - 0.25) <= 0.02
    assert abs(cash_share(data["after"]) - cash_share(data["before"])) <= 0.005
    assert data["costs"]["turnover"] <= 0.50 + 1e-9
    assert_signable(data)


def test_an_sp500_fund_is_not_a_position_but_apple_through_it_is(tmp_path: Path) -> None:
    text = (
        "cash: 5000\nholdings:\n  - {ticker: IVV, shares: 1300}\n  - {ticker: AAPL, shares: 300}\n"
        "limits: {max_position: 0.08, buy_from: [holdings, funds]}\n"
    )
    code, data, output = rebalance(tmp_path, text)
    assert code == 0, output
    total = data["after"]["value"]
    shares = {"IVV": 1300.0, "AAPL": 300.0}
    prices = {"IVV": 608.823676, "AAPL": 274.62}
    today = company_weights({t: n * prices[t] for t, n in shares.items()}, data["before"]["value"])
    assert today["AAPL"] > 0.08  # 300 AAPL and Apple's 7.2% of IVV
    after = company_weights(held_after(data, shares), total)
    assert after["AAPL"] <= 0.08 + 1e-7
    ivv = held_after(data, shares)["IVV"] / total
    assert ivv > 0.08  # the fund is kept: it is not a position
    assert data["after"]["largest_companies"]["AAPL"] == pytest.approx(after["AAPL"], abs=1e-6)
    aapl = next(t for t in data["trades"] if t["ticker"] == "AAPL")
    assert aapl["side"] == "SELL" and aapl["reason"].startswith("trim AAPL ")
    assert "(max_position 8%)" in aapl["reason"]
    assert_signable(data)


def test_cash_is_invested_in_positions_that_matter(tmp_path: Path) -> None:
    text = "cash: 300000\ntarget: {small_cap_share: 0.30, band: 0.02}\nlimits: {buy_from: [all]}\n"
    code, data, output = rebalance(tmp_path, text)
    assert code == 0, output
    buys = [t for t in data["trades"] if t["side"] == "BUY"]
    assert len(buys) >= 10 and len(buys) == len(data["trades"])
    assert min(t["value"] for t in buys) >= 0.005 * 300_000  # min_position
    assert cash_share(data["after"]) <= 0.01 + 0.005  # all but cash_min, within rounding
    assert abs(data["after"]["small_cap_share"] - 0.30) <= 0.02
    assert_signable(data)


def test_no_sell_keeps_a_position_and_everything_else_proceeds(tmp_path: Path) -> None:
    text = (
        "cash: 40000\nholdings:\n  - {ticker: AAPL, shares: 110}\n  - {ticker: MSFT, shares: 100}\n"
        "  - {ticker: JPM, shares: 100}\n  - {ticker: XOM, shares: 100}\n"
        "  - {ticker: IWM, shares: 50}\n"
        "target: {small_cap_share: 0.20, band: 0.02}\n"
        "limits: {no_sell: [AAPL], max_position: 0.15, buy_from: [holdings, funds]}\n"
    )
    code, data, output = rebalance(tmp_path, text)
    assert code == 0, output
    assert data["kept"] and data["kept"][0].startswith("AAPL stays at 17.6% of value, above")
    assert "no_sell" in data["kept"][0]
    lines = output.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("AAPL stays at"))
    assert first < next(i for i, line in enumerate(lines) if line.startswith("Portfolio"))
    assert abs(data["after"]["small_cap_share"] - 0.20) <= 0.02
    assert "AAPL" not in {t["ticker"] for t in data["trades"]}
    position = next(c for c in data["checks"] if c["name"] == "max_position")
    assert position["ok"] and position["value"] == pytest.approx(0.176, abs=0.001)
    assert "kept: AAPL" in position["detail"]
    assert_signable(data)


def test_minimum_sizes_too_large_for_the_account_are_named(tmp_path: Path) -> None:
    text = (
        "cash: 1000000\ntarget: {small_cap_share: 0.28, band: 0.02}\n"
        "limits: {buy_from: [all], min_trade_value: 1.0e9}\n"
    )
    code, data, output = rebalance(tmp_path, text)
    assert code == 3, output
    (line,) = data["diagnosis"]
    assert "min_trade_value" in line and "$1,000,000,000" in line
    assert not line.rstrip().endswith("needs")


@pytest.mark.parametrize("name", ["mega-cap-tech", "rotation", "balanced", "all-iwm"])
def test_the_example_portfolios_are_signable(tmp_path: Path, name: str) -> None:
    text = (Path(__file__).resolve().parents[1] / "portfolios" / f"{name}.yaml").read_text()
    code, data, output = rebalance(tmp_path, text)
    assert code in (0, 3), output
    assert_signable(data)
