"""Effective limits: user values as given, documented defaults, loosened where today is beyond."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from advisor import checks
from advisor.limits import (
    ABOVE_DEFAULT,
    CASH_ROOM,
    DEFAULT,
    DEFAULTS,
    INVEST,
    LOOSENED,
    NO_SELL,
    RISK_LIMITS,
    TODAY_CASH,
    TODAY_KEYS,
    USER,
    Positions,
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


def positions(companies: pd.Series, unsold: pd.Series | None = None) -> Positions:
    none = companies * 0
    return Positions(companies, none if unsold is None else unsold, pd.Series(dtype=float),
                     pd.Series(dtype=float))  # fmt: skip


POSITIONS = positions(WEIGHTS)


def test_every_numeric_limit_has_a_documented_default() -> None:
    numeric = {
        name
        for name, field in Limits.model_fields.items()
        if name
        not in ("whole_shares", "no_sell", "no_buy", "buy_from", "max_names", "max_fund_position")
    }  # fmt: skip  (max_names and max_fund_position have no default: without them, no limit)
    assert set(DEFAULTS) == numeric
    assert all(d.meaning and d.loosened for d in DEFAULTS.values())
    assert DEFAULTS["refinancing_max"].value == 0.10
    assert DEFAULTS["cash_min"].value == 0.01


def test_defaults_apply_where_the_user_is_silent() -> None:
    got = effective_limits(Limits(), CALM, POSITIONS)
    for name, default in DEFAULTS.items():
        if name == "cash_max":  # today's cash share, plus room for whole shares
            assert got.cash_max == pytest.approx(CALM["cash"] + CASH_ROOM)
            assert got.source(name) == TODAY_CASH
            continue
        assert getattr(got, name) == default.value
        assert got.source(name) == DEFAULT
    assert got.kept == {}
    assert got.whole_shares is True
    assert got.max_names is None


def test_max_names_is_the_users_alone() -> None:
    got = effective_limits(Limits(max_names=25), CALM, POSITIONS)
    assert got.max_names == 25 and got.source("max_names") == USER


def test_user_limits_are_enforced_as_given_even_when_today_is_beyond_them() -> None:
    today = {**CALM, "floating_debt": 0.20}
    given = Limits(floating_debt_max=0.05, max_position=0.10)
    got = effective_limits(given, today, POSITIONS)
    assert got.floating_debt_max == 0.05 and got.source("floating_debt_max") == USER
    assert got.max_position == 0.10 and got.kept == {}


@pytest.mark.parametrize(("name", "measure"), list(RISK_LIMITS.items()))
def test_a_default_risk_limit_is_loosened_to_today_where_today_is_beyond_it(
    name: str, measure: str
) -> None:
    level = DEFAULTS[name].value * 1.3
    got = effective_limits(Limits(), {**CALM, measure: level}, POSITIONS)
    assert getattr(got, name) == level
    assert got.source(name) == LOOSENED


def test_a_position_above_the_default_may_be_kept_not_added_to() -> None:
    weights = pd.Series({"AAA": 0.35, "BBB": 0.21, "CCC": 0.10})
    got = effective_limits(Limits(), CALM, positions(weights))
    assert got.max_position == DEFAULTS["max_position"].value
    assert {k: (v.cap, v.why) for k, v in got.kept.items()} == {
        "AAA": (0.35, ABOVE_DEFAULT), "BBB": (0.21, ABOVE_DEFAULT)}  # fmt: skip
    assert got.source("max_position") == LOOSENED


def test_a_company_no_sell_keeps_above_the_users_max_position_is_kept() -> None:
    weights = pd.Series({"AAA": 0.1513, "BBB": 0.30, "CCC": 0.10})
    unsold = pd.Series({"AAA": 0.1513, "BBB": 0.05, "CCC": 0.0})  # AAA no_sell; BBB in part
    got = effective_limits(Limits(max_position=0.15), CALM, positions(weights, unsold))
    assert got.max_position == 0.15 and got.source("max_position") == USER
    assert {k: (v.cap, v.why) for k, v in got.kept.items()} == {"AAA": (0.1513, NO_SELL)}


@pytest.mark.parametrize(
    ("cash", "given", "target", "value", "source"),
    [
        (0.03, None, False, 0.03 + CASH_ROOM, TODAY_CASH),
        (0.004, None, False, 0.004 + CASH_ROOM, TODAY_CASH),  # cash_min is then today's too
        (0.03, 0.10, False, 0.10, USER),
        (1.0, None, True, 0.01 + CASH_ROOM, INVEST),  # nothing but cash, and a target
    ],
)
def test_cash_is_never_raised_above_today_unless_the_user_says_so(
    cash: float, given: float | None, target: bool, value: float, source: str
) -> None:
    got = effective_limits(Limits(cash_max=given), {**CALM, "cash": cash}, POSITIONS,
                           invest=target)  # fmt: skip
    assert got.cash_max == pytest.approx(value)
    assert got.source("cash_max") == source


@pytest.mark.parametrize(
    ("cash", "given", "value", "source"),
    [(0.03, None, 0.01, DEFAULT), (0.004, None, 0.004, LOOSENED), (0.004, 0.02, 0.02, USER)],
)
def test_the_cash_floor_is_never_above_todays_cash_unless_the_user_says_so(
    cash: float, given: float | None, value: float, source: str
) -> None:
    got = effective_limits(Limits(cash_min=given), {**CALM, "cash": cash}, POSITIONS)
    assert got.cash_min == pytest.approx(value)
    assert got.source("cash_min") == source


def test_today_must_give_every_measure() -> None:
    today = {k: v for k, v in CALM.items() if k != "unprofitable"}
    with pytest.raises(ValueError, match=r"`today` must give .*; missing \['unprofitable'\]"):
        effective_limits(Limits(), today, POSITIONS)
    assert set(TODAY_KEYS) == set(CALM)


def test_replacing_a_limit_makes_it_the_users() -> None:
    weights = pd.Series({"AAA": 0.35})
    got = effective_limits(Limits(), CALM, positions(weights))
    got = got.replace(max_turnover=0.3, max_position=0.4)
    assert got.max_turnover == 0.3 and got.source("max_turnover") == USER
    assert got.kept == {}  # the user's own max_position applies to all


def test_a_default_never_forces_a_trade_on_its_own() -> None:
    data = universe(30, 3, cash_share=0.004)
    # Beyond the defaults today: one position at a quarter of value, heavy floating-rate debt.
    big = data.tickers[0]
    shares = data.shares.copy()
    shares[big] = round(0.25 * data.total_value / data.prices[big])
    expo = data.exposures.copy()
    expo.loc[data.values > 0, "floating_debt"] = 0.16
    data = dataclasses.replace(data, shares=shares, values=shares * data.prices, exposures=expo)
    lim = effective_limits(Limits(), checks.today(data), checks.positions(data))
    assert lim.source("floating_debt_max") == LOOSENED
    assert lim.source("max_position") == LOOSENED and big in lim.kept
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
