"""Exposures: hand calculations on the mini model, exact look-through as a property."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.exposures import portfolio_exposures
from advisor.market import MarketModel, SizeScheme


def test_hand_calculation(mini_model: MarketModel) -> None:
    # $10,000 BIG (giant), $6,000 SML (small), $4,000 FND (0.2 MID, 0.5 SML, 0.3 MIC); $1,000 cash.
    values = pd.Series({"BIG": 10_000.0, "SML": 6_000.0, "FND": 4_000.0})
    e = portfolio_exposures(values, 1_000.0, mini_model.exposures())
    assert e.value == 21_000.0 and e.equity_value == 20_000.0
    # small+micro: SML 6000 + FND 4000 x 0.8 = 9200 of 20000
    assert e.small_cap_share == pytest.approx(9_200 / 20_000)
    assert e.bands == pytest.approx(
        {
            "giant": 0.5,
            "large": 0.0,
            "mid": 800 / 20_000,
            "small": 8_000 / 20_000,
            "micro": 1_200 / 20_000,
        }
    )
    # size score: (10000 x 1.0 + 6000 x -1.5 + 4000 x -1.6) / 20000
    assert e.size_score == pytest.approx((10_000 - 9_000 - 6_400) / 20_000)
    # refinancing: 10000 x .002 + 6000 x .1 + 4000 x (.2 x .04 + .5 x .1 + .3 x .2)
    assert e.risk("refinancing") == pytest.approx((20 + 600 + 4_000 * 0.118) / 20_000)
    assert e.risk("unprofitable") == pytest.approx((6_000 + 4_000 * 0.62) / 20_000)
    assert e.sectors == pytest.approx(
        {
            "Information Technology": 0.5,
            "Industrials": (6_000 + 4_000 * 0.7) / 20_000,
            "Health Care": 4_000 * 0.3 / 20_000,
        }
    )
    # geometric mean cap: exp of the value-weighted mean log cap
    log_caps = {
        "BIG": math.log(1e12),
        "MID": math.log(2e10),
        "SML": math.log(2e9),
        "MIC": math.log(2e8),
    }
    fund_log = 0.2 * log_caps["MID"] + 0.5 * log_caps["SML"] + 0.3 * log_caps["MIC"]
    expected = math.exp(
        (10_000 * log_caps["BIG"] + 6_000 * log_caps["SML"] + 4_000 * fund_log) / 20_000
    )
    assert e.geometric_mean_cap == pytest.approx(expected)
    # estimates: MIC (0.3 of FND) rests on an estimated cap
    assert e.estimated_share["size"] == pytest.approx(4_000 * 0.3 / 20_000)


def test_russell_scheme(mini_model: MarketModel) -> None:
    e = portfolio_exposures(
        pd.Series({"MID": 1.0, "SML": 1.0, "MIC": 2.0}),
        0.0,
        mini_model.exposures(SizeScheme.russell),
    )
    # ranks 200 -> large, 1500 -> small, 3500 -> micro
    assert e.bands == pytest.approx(
        {"giant": 0, "large": 0.25, "mid": 0, "small": 0.25, "micro": 0.5}
    )


def test_cash_only_portfolio(mini_model: MarketModel) -> None:
    e = portfolio_exposures(pd.Series(dtype=float), 500.0, mini_model.exposures())
    assert e.value == 500.0 and e.equity_value == 0.0 and e.small_cap_share == 0.0


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_holding_a_fund_equals_holding_its_basket(
    shipped_model: MarketModel, data: st.DataObject
) -> None:
    table = shipped_model.exposures()
    fund = data.draw(st.sampled_from(sorted(shipped_model.fund_weights)))
    value = data.draw(st.floats(min_value=1.0, max_value=1e9))
    other = data.draw(st.sampled_from(["AAPL", "JPM", "SFM", "KRYS", "XOM"]))
    other_value = data.draw(st.floats(min_value=0.0, max_value=1e9))
    weights = shipped_model.fund_weights[fund]
    as_fund = portfolio_exposures(pd.Series({fund: value, other: other_value}), 0.0, table)
    basket = (weights * value).add(pd.Series({other: other_value}), fill_value=0.0)
    as_basket = portfolio_exposures(basket, 0.0, table)
    np.testing.assert_allclose(
        as_fund.measures.to_numpy(),
        as_basket.measures[as_fund.measures.index].to_numpy(),
        rtol=1e-9,
        atol=1e-12,
    )


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_fund_row_is_weighted_sum_of_holdings(
    shipped_model: MarketModel, data: st.DataObject
) -> None:
    scheme = data.draw(st.sampled_from(list(SizeScheme)))
    fund = data.draw(st.sampled_from(sorted(shipped_model.fund_weights)))
    column = data.draw(st.sampled_from(list(shipped_model.exposures(scheme).columns)))
    weights = shipped_model.fund_weights[fund]
    stocks = shipped_model.stocks.loc[weights.index]
    table = shipped_model.exposures(scheme)
    # Recompute from the raw securities columns, not through the exposure table's code path.
    if column in stocks.columns:
        raw = stocks[column].astype(float)
    else:
        raw = table.loc[weights.index, column]
    assert table.at[fund, column] == pytest.approx(
        float((weights * raw).sum()), rel=1e-9, abs=1e-12
    )


def test_shares_sum_to_one(shipped_model: MarketModel) -> None:
    table = shipped_model.exposures()
    bands = table[[c for c in table.columns if c.startswith("band:")]].sum(axis=1)
    sectors = table[[c for c in table.columns if c.startswith("sector:")]].sum(axis=1)
    np.testing.assert_allclose(bands, 1.0, atol=1e-9)
    np.testing.assert_allclose(sectors, 1.0, atol=1e-9)
