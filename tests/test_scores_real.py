"""The shipped model's headline figures, stated against the real fund look-through."""

from __future__ import annotations

import pandas as pd
import pytest

from advisor.exposures import Exposures, portfolio_exposures
from advisor.market import MarketModel


def all_in(model: MarketModel, fund: str) -> Exposures:
    return portfolio_exposures(pd.Series({fund: 1_000_000.0}), 0.0, model.exposures())


def test_all_iwm_is_small_cap(shipped_model: MarketModel) -> None:
    e = all_in(shipped_model, "IWM")
    assert e.small_cap_share >= 0.85
    assert e.size_score < -1


@pytest.mark.parametrize("fund", ["IVV", "IWB"])
def test_large_cap_funds_hold_few_small_caps(shipped_model: MarketModel, fund: str) -> None:
    assert all_in(shipped_model, fund).small_cap_share <= 0.08


def test_total_market_fund_scores_near_zero(shipped_model: MarketModel) -> None:
    assert abs(all_in(shipped_model, "IWV").size_score) <= 0.3


def test_small_caps_carry_more_risk_than_large(shipped_model: MarketModel) -> None:
    small, large = all_in(shipped_model, "IWM"), all_in(shipped_model, "IWB")
    for measure in (
        "refinancing",
        "floating_debt",
        "weak_coverage",
        "unprofitable",
        "economic_sensitivity",
        "domestic_revenue",
    ):
        assert small.risk(measure) > large.risk(measure), measure
    # The calibration target: small-cap earnings about 1.6x as sensitive as large-cap.
    ratio = small.risk("economic_sensitivity") / large.risk("economic_sensitivity")
    assert ratio == pytest.approx(1.6, rel=0.05)
    assert small.risk("domestic_revenue") == pytest.approx(0.80, abs=0.01)
    assert large.risk("domestic_revenue") == pytest.approx(0.60, abs=0.01)


def test_share_classes_count_once_in_the_ranking(shipped_model: MarketModel) -> None:
    stocks = shipped_model.stocks
    for classes in (["GOOG", "GOOGL"], ["BRK.A", "BRK.B"], ["FOX", "FOXA"]):
        rows = stocks.loc[classes]
        assert rows["ranked"].astype(bool).sum() == 1, classes
        assert rows["company"].nunique() == 1
        assert rows["market_cap"].nunique() == 1
