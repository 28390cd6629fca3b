"""Effective limits: user values as given, documented defaults, loosened where today is beyond."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from advisor import checks
from advisor.limits import (
    DEFAULT,
    DEFAULTS,
    LOOSENED,
    RISK_LIMITS,
    TODAY_KEYS,
    USER,
    effective_limits,
)
from advisor.portfolio import Limits, Target
from advisor.trades import plan_trades
from tests.synthetic import universe

CALM = {  # today's measures, all below the defaults
    "refinancing": 0.03,
    "floating_debt": 0.02,
    "weak_coverage": 0.05,
    "unprofitable": 0.05,
    "economic_sensitivity": 1.0,
    "cash": 0.03,
}
WEIGHTS = pd.Series({"AAA": 0.15, "BBB": 0.10})


def test_every_numeric_limit_has_a_documented_default() -> None:
    numeric = {
        name
        for name, field in Limits.model_fields.items()
        if name not in ("whole_shares", "no_sell", "no_buy", "buy_from", "max_names")
    }  # fmt: skip  (max_names has no default: without it, no limit on the count)
    assert set(DEFAULTS) == numeric
    assert all(d.meaning and d.loosened for d in DEFAULTS.values())
    assert DEFAULTS["refinancing_max"].value == 0.10
    assert DEFAULTS["cash_min"].value == 0.01


def test_defaults_apply_where_the_user_is_silent() -> None:
    got = effective_limits(Limits(), CALM, WEIGHTS)
    for name, default in DEFAULTS.items():
        assert getattr(got, name) == default.value
        assert got.source(name) == DEFAULT
    assert got.position_held == frozenset()
    assert got.whole_shares is True
    assert got.max_names is None


def test_max_names_is_the_users_alone() -> None:
    got = effective_limits(Limits(max_names=25), CALM, WEIGHTS)
    assert got.max_names == 25 and got.source("max_names") == USER


def test_user_limits_are_enforced_as_given_even_when_today_is_beyond_them() -> None:
    today = {**CALM, "floating_debt": 0.20}
    got = effective_limits(Limits(floating_debt_max=0.05, max_position=0.10), today, WEIGHTS)
    assert got.floating_debt_max == 0.05 and got.source("floating_debt_max") == USER
    assert got.max_position == 0.10 and got.position_held == frozenset()


@pytest.mark.parametrize(("name", "measure"), list(RISK_LIMITS.items()))
def test_a_default_risk_limit_is_loosened_to_today_where_today_is_beyond_it(
    name: str, measure: str
) -> None:
    level = DEFAULTS[name].value * 1.3
    got = effective_limits(Limits(), {**CALM, measure: level}, WEIGHTS)
    assert getattr(got, name) == level
    assert got.source(name) == LOOSENED


def test_a_position_above_the_default_may_be_kept_not_added_to() -> None:
    weights = pd.Series({"AAA": 0.35, "BBB": 0.21, "CCC": 0.10})
    got = effective_limits(Limits(), CALM, weights)
    assert got.max_position == DEFAULTS["max_position"].value
    assert got.position_held == frozenset({"AAA", "BBB"})
    assert got.source("max_position") == LOOSENED


@pytest.mark.parametrize(
    ("cash", "given", "value", "source"),
    [(0.03, None, 0.01, DEFAULT), (0.004, None, 0.004, LOOSENED), (0.004, 0.02, 0.02, USER)],
)
def test_the_cash_floor_is_never_above_todays_cash_unless_the_user_says_so(
    cash: float, given: float | None, value: float, source: str
) -> None:
    got = effective_limits(Limits(cash_min=given), {**CALM, "cash": cash}, WEIGHTS)
    assert got.cash_min == pytest.approx(value)
    assert got.source("cash_min") == source


def test_today_must_give_every_measure() -> None:
    today = {k: v for k, v in CALM.items() if k != "unprofitable"}
    with pytest.raises(ValueError, match=r"`today` must give .*; missing \['unprofitable'\]"):
        effective_limits(Limits(), today, WEIGHTS)
    assert set(TODAY_KEYS) == set(CALM)


def test_replacing_a_limit_makes_it_the_users() -> None:
    weights = pd.Series({"AAA": 0.35})
    got = effective_limits(Limits(), CALM, weights).replace(max_turnover=0.3, max_position=0.4)
    assert got.max_turnover == 0.3 and got.source("max_turnover") == USER
    assert got.position_held == frozenset()  # the user's own max_position applies to all


def test_a_default_never_forces_a_trade_on_its_own() -> None:
    data = universe(30, 3, cash_share=0.004)
    # Beyond the defaults today: one position at a quarter of value, heavy floating-rate debt.
    big = data.tickers[0]
    shares = data.shares.copy()
    shares[big] = round(0.25 * data.total_value / data.prices[big])
    expo = data.exposures.copy()
    expo.loc[data.values > 0, "floating_debt"] = 0.16
    data = dataclasses.replace(data, shares=shares, values=shares * data.prices, exposures=expo)
    lim = effective_limits(Limits(), checks.today(data), checks.weights(data))
    assert lim.source("floating_debt_max") == LOOSENED
    assert lim.source("max_position") == LOOSENED and big in lim.position_held
    assert lim.source("cash_min") == LOOSENED
    share = float(checks.measures(data.values, data.exposures)["small_cap_share"])
    plan = plan_trades(data, Target(small_cap_share=round(share, 3), band=0.02), lim)
    assert plan.status == "nothing to do" and plan.trades.empty
    # Out of band, trades may not make a loosened default worse than today.
    moved = plan_trades(data, Target(small_cap_share=share + 0.08, band=0.02), lim)
    assert moved.ok and not moved.trades.empty
    assert moved.quantities[big] <= 0
    after = checks.after(data, moved.quantities)
    now = checks.measures(after.values, data.exposures)
    assert now["floating_debt"] <= checks.today(data)["floating_debt"] + 1e-9
