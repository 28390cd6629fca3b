"""Debt and coverage rules, and the published aggregates on the shipped model's own figures.

The aggregates are recomputed here from securities.csv and funds/*.csv with plain pandas, not
through the code that fitted them; the rebuild tests in test_modelbuild.py hold the shipped
model equal to a fresh build, so these hold for a rebuild too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.market.calibrate import Anchor, fit_blended, logistic
from advisor.market.risk import _coverage, balance_sheet_financials
from tests.conftest import SHARED_DATA, SHIPPED_MODEL, needs_shared_data


def securities() -> pd.DataFrame:
    frame = pd.read_csv(SHIPPED_MODEL / "securities.csv").set_index("ticker")
    return frame[frame["type"] == "stock"]


def holdings(fund: str) -> pd.DataFrame:
    weights = pd.read_csv(SHIPPED_MODEL / "funds" / f"{fund}.csv").set_index("ticker")["weight"]
    return securities().loc[weights.index].assign(weight=weights)


def debt_weighted(frame: pd.DataFrame, share: pd.Series) -> float:
    return float((frame["debt"] * share).sum() / frame["debt"].sum())


# (fund, published figure, the model's figure measured as README and `model check` say)
AGGREGATES = [
    ("IWM", 0.40, lambda f: f["unprofitable"].mean()),  # count share
    ("IVV", 0.06, lambda f: f["unprofitable"].mean()),
    ("IWM", 0.38, lambda f: debt_weighted(f, f["floating_debt"] * f["market_cap"] / f["debt"])),
    ("IVV", 0.09, lambda f: debt_weighted(f, f["floating_debt"] * f["market_cap"] / f["debt"])),
    ("IWM", 0.75, lambda f: debt_weighted(f, f["debt_due_5y"])),
    ("IVV", 0.50, lambda f: debt_weighted(f, f["debt_due_5y"])),
    ("IWM", 0.80, lambda f: (f["weight"] * f["domestic_revenue"]).sum()),
    ("IWB", 0.60, lambda f: (f["weight"] * f["domestic_revenue"]).sum()),
]


@pytest.mark.parametrize("index", range(len(AGGREGATES)))
def test_published_aggregates_hold_on_the_figures_the_tool_uses(index: int) -> None:
    fund, published, measure = AGGREGATES[index]
    assert measure(holdings(fund)) == pytest.approx(published, abs=0.005)


def test_small_cap_earnings_are_about_1_6_times_as_sensitive() -> None:
    small, large = (holdings(f) for f in ("IWM", "IWB"))
    ratio = (small["weight"] * small["economic_sensitivity"]).sum() / (
        large["weight"] * large["economic_sensitivity"]
    ).sum()
    assert ratio == pytest.approx(1.6, rel=0.01)


def test_refinancing_above_one_is_rare_and_always_explained() -> None:
    ranked = securities()[securities()["ranked"].astype(bool)]
    above = ranked[ranked["refinancing"] > 1]
    assert len(above) < 10
    assert above["debt_note"].fillna("").str.contains("current portion").all()
    # Every debt above the market cap (what puts a per-$ debt measure above 1) is stated.
    heavy = ranked[ranked["debt"] > ranked["market_cap"]]
    assert heavy["debt_note"].notna().all()


@pytest.mark.parametrize("fund", ["IVV", "IWM"])
def test_banks_do_not_dominate_the_debt_measures(fund: str) -> None:
    frame = holdings(fund)
    financial = frame["sector"] == "Financials"
    value_share = frame.loc[financial, "weight"].sum()
    for measure in ("refinancing", "floating_debt"):
        contribution = frame["weight"] * frame[measure]
        # At most their share of value, give or take: they were half of IVV's refinancing.
        assert contribution[financial].sum() / contribution.sum() < 1.25 * value_share, measure
        # And no single holding carries a tenth of the fund's figure (one lender did, at 0.02%).
        assert contribution.max() / contribution.sum() < 0.10, measure


def test_financial_funding_is_stated_where_it_is_left_out() -> None:
    stocks = securities()
    noted = stocks["debt_note"].fillna("").str.startswith("financial company")
    assert noted.sum() > 100
    assert (stocks.loc[noted, "sector"] == "Financials").all()
    assert (stocks.loc[noted, "debt_source"] == "estimated").all()


def test_which_financial_companies_count_their_debt_as_funding() -> None:
    stocks = pd.DataFrame(
        {
            "sector": ["Financials"] * 6 + ["Real Estate", "Industrials"],
            "industry": [
                "Major Banks",
                "Savings Institutions",
                "Property-Casualty Insurers",
                "Finance: Consumer Services",
                "Real Estate Investment Trusts",  # a mortgage REIT: GICS Financials
                "Investment Managers",
                "Real Estate Investment Trusts",  # an equity REIT keeps its debt
                "Banks",  # not a GICS financial: the sector decides first
            ],
        }
    )
    found = balance_sheet_financials(stocks).tolist()
    assert found == [True, True, True, True, True, False, False, False]


def test_coverage_without_interest_is_never_strong() -> None:
    earnings = np.array([-7.6e9, -1.0, 5.0, 5.0, 5.0, 6.0, np.nan])
    interest = np.array([0.0, np.nan, 0.0, 0.0, np.nan, 2.0, 1.0])
    debt = np.array([10e9, 1.0, 0.0, 3.0, 3.0, 3.0, 3.0])
    ratio, known = _coverage(earnings, interest, debt)
    assert known.tolist() == [True, True, True, False, False, True, False]
    assert np.isnan(ratio[:2]).all()  # a loss covers no interest: weak, no ratio
    assert ratio[2] == np.inf  # a profit and no debt at all
    assert ratio[5] == 3.0


@needs_shared_data
def test_every_operating_loss_without_interest_in_the_10k_file_is_weak_or_unknown() -> None:
    raw = pd.read_csv(SHARED_DATA / "nyse-sp500-fundamentals-2012-2016" / "fundamentals.csv")
    latest = raw.sort_values("PeriodEnding").groupby("TickerSymbol").last()
    cases = latest[
        (latest["EarningsBeforeInterestandTax"] < 0)
        & ~(latest["InterestExpense"].abs() > 0)  # zero or missing
    ].index
    stocks = securities()
    found = [t for t in cases if t in stocks.index]
    assert found, "the 10-K file has such cases (an oil-services company's -$7.6B EBIT)"
    for ticker in found:
        assert stocks.at[ticker, "weak_coverage"] > 0, ticker  # weak (1) or a probability


def test_blended_fit_holds_reported_figures_fixed() -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(-1.0, 0.8, 400)
    reported = rng.uniform(size=400) < 0.6
    rate = np.where(np.arange(400) < 200, 0.2, 0.02)  # reported losses in each group
    losses = (rng.uniform(size=400) < rate).astype(float)
    blend = {"fixed": np.where(reported, losses, 0.0), "scale": np.where(reported, 0.0, 1.0)}
    small = Anchor("small", z[:200], np.ones(200), 0.40, **{k: v[:200] for k, v in blend.items()})
    large = Anchor(
        "large", z[200:] + 2, np.ones(200), 0.10, **{k: v[200:] for k, v in blend.items()}
    )
    fit = fit_blended(logistic, small, large)
    for anchor in (small, large):
        estimated = np.where(anchor.scale > 0, logistic(fit.a + fit.b * anchor.z), anchor.fixed)
        assert estimated.mean() == pytest.approx(anchor.target, abs=1e-8)
    # A target the reported figures alone put out of reach: as close as the rule allows.
    low = Anchor("low", z[:200], np.ones(200), 0.01, **{k: v[:200] for k, v in blend.items()})
    fit = fit_blended(logistic, low, large)
    assert fit.achieved["low"] == pytest.approx(low.reachable()[0], abs=0.01)
    assert fit.achieved["low"] > 0.05


def test_model_check_prints_each_published_aggregate() -> None:
    result = CliRunner().invoke(app, ["model", "check", str(SHIPPED_MODEL)])
    assert result.exit_code == 0
    out = result.stdout
    for text in (
        "unprofitable companies: IWM about 40% | 40.0%",
        "IVV about 6% | 6.0%",
        "debt at floating rates: IWM 30-45% | 38.0%",
        "debt due within 5 years: IWM about 75% | 75.0%",
        "IVV about 50% | 50.0%",
        "domestic revenue: IWM about 80% | 80.0%",
        "IWB about 60% | 60.0%",
        "IWM / IWB: about 1.6 | 1.60",
        "weighted by its debt",
    ):
        assert text in out, text
