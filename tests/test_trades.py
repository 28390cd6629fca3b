"""Whole-share trades: rounding, cash, reasons, repair, the plan loop, idempotence, properties."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor import checks
from advisor.checks import Check
from advisor.errors import PreTradeCheckFailed, TargetUnreachable
from advisor.limits import RISK_LIMITS, EffectiveLimits, effective_limits
from advisor.optimize import ProblemData, Solver
from advisor.outcome import plan_outcome
from advisor.portfolio import Limits, Target
from advisor.trades import TradePlan, plan_trades, reasons, round_trades, trim_buys_for_cash
from tests.synthetic import universe

TARGET = Target(small_cap_share=0.25, band=0.02)
NO_MINIMUM = {"min_trade_value": 0, "min_trade_share": 0, "min_position": 0}


def limits_for(data: ProblemData, **given: Any) -> EffectiveLimits:
    return effective_limits(Limits(**given), checks.today(data), checks.positions(data))


def small_share(data: ProblemData, shares: pd.Series) -> float:
    values = shares * data.prices
    return float(values @ data.exposures["small_cap_share"] / values.sum())


def executed(data: ProblemData, quantities: pd.Series) -> ProblemData:
    """The portfolio once the trades are done as estimated, at the same prices."""
    shares, cash = checks.apply_trades(data, quantities)
    return dataclasses.replace(data, shares=shares, values=shares * data.prices, cash=cash)


def assert_hard_rules(
    data: ProblemData,
    lim: EffectiveLimits,
    quantities: pd.Series,
    names: bool = True,
    named: frozenset[str] = frozenset(),
) -> None:
    """The rules of DESIGN.md, recomputed here by hand (max_names unless `names` is False;
    cash_min unless a diagnosis `named` it as one whole shares cannot keep)."""
    traded = quantities[quantities != 0]
    after = data.shares + quantities
    assert (after >= -1e-9).all(), "sold more than held"
    if lim.whole_shares:
        whole = (traded == traded.round()) | (traded == -data.shares[traded.index])
        assert whole.all(), "a trade in part shares"
    assert ((traded * data.prices[traded.index]).abs() >= lim.min_trade_value).all()
    assert (traded[traded > 0].index.isin(data.can_buy[data.can_buy].index)).all()
    assert (traded[traded < 0].index.isin(data.can_sell[data.can_sell].index)).all()
    shares, cash = checks.apply_trades(data, quantities)
    total = cash + float((shares * data.prices).sum())
    assert cash >= lim.cash_min * total - 1e-6 or "cash_min" in named
    if names and lim.max_names is not None:
        assert int((shares > 1e-9).sum()) <= lim.max_names, "more names than max_names"


# -- the plan ----------------------------------------------------------------------------------


def test_thirty_securities_tilt_into_the_band_keeping_every_rule() -> None:
    data = universe(30, 3)
    lim = limits_for(data, min_trade_value=250)
    plan = plan_trades(data, TARGET, lim)
    assert plan.status == "optimal" and plan.ok, plan.failures()
    assert abs(small_share(data, data.shares + plan.quantities) - 0.25) <= 0.02
    assert_hard_rules(data, lim, plan.quantities)
    assert {c.name for c in plan.checks} >= {
        "no_short", "whole_shares", "min_trade_value", "cash_min", "floating_debt_max",
        "max_turnover", "max_position", "sector_drift_max", "no_sell", "no_buy/buy_from", "target",
    }  # fmt: skip
    assert (plan.trades["reason"] != "").all()
    small = data.exposures["small_cap_share"] > 0.5
    buys = plan.trades[plan.trades["side"] == "buy"]
    for ticker in buys.index[small[buys.index]]:
        assert buys.loc[ticker, "reason"].startswith("raise small_cap_share ")
        assert "(target 25% ± 2%)" in buys.loc[ticker, "reason"]
    assert plan.trades["value"].sum() > 0
    np.testing.assert_allclose(
        plan.trades["value"], (plan.quantities * data.prices)[plan.trades.index].abs()
    )


def test_already_inside_the_band_gives_no_trades() -> None:
    data = universe(30, 3)
    today = small_share(data, data.shares)
    plan = plan_trades(data, Target(small_cap_share=round(today + 0.015, 3), band=0.02),
                       limits_for(data))  # fmt: skip
    assert plan.status == "nothing to do" and plan.ok
    assert plan.trades.empty and (plan.quantities == 0).all()


@pytest.mark.parametrize(("seed", "commission"), [(3, 0.0), (11, 4.95), (29, 1.0)])
def test_executing_the_proposal_and_running_again_gives_no_trades(
    seed: int, commission: float
) -> None:
    data = dataclasses.replace(universe(30, seed), commission=commission)
    lim_given = {"max_position": 0.12, "min_trade_value": 200}
    first = plan_trades(data, TARGET, limits_for(data, **lim_given))
    assert first.ok and not first.trades.empty
    after = executed(data, first.quantities)
    again = plan_trades(after, TARGET, limits_for(after, **lim_given))
    assert again.status == "nothing to do" and again.trades.empty


def test_an_unreachable_target_returns_the_best_proposal_with_the_diagnosis() -> None:
    data = universe(30, 3)
    lim = limits_for(data, max_turnover=0.03)
    target = Target(small_cap_share=0.45, band=0.02)
    plan = plan_trades(data, target, lim)
    assert plan.status == "unreachable" and plan.diagnosis is not None
    assert [b.name for b in plan.diagnosis.blockers] == ["max_turnover"]
    assert [c.name for c in plan.failures()] == ["target"]  # every limit still holds
    closer = small_share(data, data.shares + plan.quantities)
    assert closer > small_share(data, data.shares) + 0.01
    assert closer == pytest.approx(plan.diagnosis.closest, abs=0.003)
    assert_hard_rules(data, lim, plan.quantities)
    with pytest.raises(TargetUnreachable, match=r"max_turnover 0.03 allows small_cap_share"):
        raise plan_outcome(plan).error()


def test_a_rule_whole_shares_cannot_keep_is_diagnosed_not_broken() -> None:
    # Keeping every sector exactly where it is can be done in fractions, not in whole shares.
    data = universe(30, 3)
    plan = plan_trades(data, TARGET, limits_for(data, sector_drift_max=0.0))
    assert plan.status == "unreachable" and plan.diagnosis is not None
    assert plan.diagnosis.whole_shares
    assert [c.name for c in plan.failures()] == ["target"]
    today = small_share(data, data.shares)
    assert plan.diagnosis.lines() == [
        f"sector_drift_max 0 allows small_cap_share {today:.3f}; reaching small_cap_share "
        f"0.230 with {plan.diagnosis.sizes} needs "
        f"sector_drift_max >= {plan.diagnosis.blockers[0].needed:.4g}"
    ]
    assert "trades of at least $2,000" in plan.diagnosis.sizes  # 0.002 of $1M
    assert 0 < plan.diagnosis.blockers[0].needed < 0.01


def test_a_plan_that_fails_a_check_raises_pre_trade_check_failed() -> None:
    data = universe(10, 1)
    broken = Check("cash_min", False, 0.004, 0.01, "cash after trades and costs $4,000.00")
    plan = TradePlan(pd.DataFrame(), data.shares * 0, (broken,), "optimal")
    with pytest.raises(PreTradeCheckFailed, match=r"cash_min \(cash after trades and costs"):
        raise plan_outcome(plan).error()


def test_commissions_are_paid_out_of_the_cash_floor() -> None:
    data = dataclasses.replace(universe(30, 3, cash_share=0.012), commission=25.0)
    lim = limits_for(data, cash_min=0.01)
    plan = plan_trades(data, TARGET, lim)
    assert plan.ok, plan.failures()
    assert plan.trades["cost"].min() >= 25.0
    assert_hard_rules(data, lim, plan.quantities)


def test_large_minimum_trades_are_met_by_fixing_the_small_ones_and_solving_again() -> None:
    data = universe(40, 7)
    lim = limits_for(data, min_trade_value=6000, max_turnover=0.4)
    relaxed = Solver().solve(data, TARGET, lim)
    small = relaxed.trades.abs()
    assert ((small > 1) & (small < 6000)).any()  # the relaxation has trades below it
    plan = plan_trades(data, TARGET, lim)
    assert plan.ok, plan.failures()
    assert (plan.trades["value"] >= 6000).all()
    assert_hard_rules(data, lim, plan.quantities)


# -- rounding ----------------------------------------------------------------------------------


def test_rounding_goes_to_the_nearest_share_and_never_sells_more_than_held() -> None:
    data = universe(10, 1)
    held = data.shares[data.shares > 0].index
    wanted = pd.Series(0.0, index=data.tickers)
    wanted[held[0]] = 2.4 * data.prices[held[0]]
    wanted[held[1]] = -(data.shares[held[1]] + 50) * data.prices[held[1]]  # more than held
    wanted[held[2]] = -3.6 * data.prices[held[2]]
    quantities, dropped = round_trades(data, wanted, limits_for(data, **NO_MINIMUM))
    assert quantities[held[0]] == 2
    assert quantities[held[1]] == -data.shares[held[1]]
    assert quantities[held[2]] == -4
    assert dropped.empty


def test_a_sale_of_nearly_everything_sells_a_fractional_holding_whole() -> None:
    data = universe(10, 1)
    ticker = data.tickers[0]
    shares = data.shares.copy()
    shares[ticker] += 0.37
    data = dataclasses.replace(data, shares=shares, values=shares * data.prices)
    wanted = pd.Series(0.0, index=data.tickers)
    wanted[ticker] = -(shares[ticker] - 0.2) * data.prices[ticker]
    quantities, _ = round_trades(data, wanted, limits_for(data, min_trade_value=0))
    assert quantities[ticker] == -shares[ticker]
    check = next(c for c in checks.check_trades(data, limits_for(data), None, quantities)
                 if c.name == "whole_shares")  # fmt: skip
    assert check.ok


def test_trades_below_the_minimum_are_dropped_and_reported() -> None:
    data = universe(10, 1)
    wanted = pd.Series(0.0, index=data.tickers)
    wanted.iloc[0] = 3 * data.prices.iloc[0]
    wanted.iloc[1] = 20_000.0
    lim = limits_for(data, min_trade_value=3 * data.prices.iloc[0] + 1)
    quantities, dropped = round_trades(data, wanted, lim)
    assert quantities.iloc[0] == 0 and quantities.iloc[1] > 0
    assert list(dropped.index) == [data.tickers[0]] and dropped.iloc[0] == 1.0


def test_part_shares_are_kept_when_whole_shares_is_off() -> None:
    data = universe(10, 1)
    wanted = pd.Series(0.0, index=data.tickers)
    wanted.iloc[0] = 2.5 * data.prices.iloc[0]
    quantities, _ = round_trades(data, wanted, limits_for(data, whole_shares=False, **NO_MINIMUM))
    assert quantities.iloc[0] == pytest.approx(2.5)


def test_what_may_not_be_traded_is_not_traded() -> None:
    data = universe(10, 1)
    can_buy = data.can_buy.copy()
    can_buy.iloc[0] = False
    can_sell = data.can_sell.copy()
    can_sell.iloc[1] = False
    data = dataclasses.replace(data, can_buy=can_buy, can_sell=can_sell)
    wanted = pd.Series(0.0, index=data.tickers)
    wanted.iloc[0], wanted.iloc[1] = 10_000.0, -10_000.0
    quantities, _ = round_trades(data, wanted, limits_for(data))
    assert quantities.iloc[0] == 0 and quantities.iloc[1] == 0


def test_buys_are_trimmed_until_cash_meets_the_floor() -> None:
    data = universe(12, 2, cash_share=0.05)
    lim = limits_for(data, cash_min=0.02, **NO_MINIMUM)
    quantities = pd.Series(0.0, index=data.tickers)
    candidates = data.tickers[data.values == 0]
    spend = 0.045 * data.total_value / len(candidates[:3])
    for ticker in candidates[:3]:
        quantities[ticker] = np.floor(spend / data.prices[ticker])
    trimmed = trim_buys_for_cash(data, quantities, lim)
    state = checks.after(data, trimmed)
    assert state.cash >= 0.02 * state.total
    assert (trimmed <= quantities).all() and (trimmed >= 0).all()
    # Trimmed by whole shares, and not much more than needed: within a share (and the costs
    # the cut saves) of the floor.
    cut = quantities[trimmed < quantities].index
    assert len(cut) >= 1
    saved = checks.trade_costs(data, quantities).sum() - checks.trade_costs(data, trimmed).sum()
    assert state.cash - 0.02 * state.total <= data.prices[cut].max() + saved


# -- reasons -----------------------------------------------------------------------------------


def test_reasons_name_the_broken_limit_a_sale_cuts() -> None:
    data = universe(30, 3)
    debt = checks.today(data)["floating_debt"]
    lim = limits_for(data, floating_debt_max=0.6 * debt)
    quantities = pd.Series(0.0, index=data.tickers)
    heavy = data.exposures["floating_debt"][data.values > 0].idxmax()
    quantities[heavy] = -10
    why = reasons(data, quantities, lim, None)
    after = checks.measures(checks.after(data, quantities).values, data.exposures)
    assert why[heavy] == (
        f"cut floating_debt {debt:.4f} -> {after['floating_debt']:.4f} "
        f"(floating_debt_max {0.6 * debt:.3g})"
    )


def test_reasons_name_max_position_for_a_trim() -> None:
    data = universe(30, 3)
    biggest = (data.values / data.total_value).idxmax()
    cap = round(float((data.values / data.total_value).max()) - 0.02, 3)
    lim = limits_for(data, max_position=cap)
    plan = plan_trades(data, None, lim)
    assert plan.ok, plan.failures()
    assert plan.trades.loc[biggest, "side"] == "sell"
    before = float((data.values / data.total_value).max())
    state = checks.after(data, plan.quantities)
    now = float(state.values[biggest] / state.total)
    assert plan.trades.loc[biggest, "reason"].startswith(
        f"trim {biggest} {100 * before:.1f}% -> {100 * now:.1f}% (max_position {100 * cap:.3g}%)"
    )


def test_a_trade_serving_no_rule_says_so_and_funding_is_said_only_where_true() -> None:
    data = universe(30, 3)
    quantities = pd.Series(0.0, index=data.tickers)
    quantities.iloc[0] = -1
    why = reasons(data, quantities, limits_for(data), None)
    assert why.iloc[0] == "keep the risk profile close to today's (market, size, sector factors)"
    # A sale whose proceeds a buy needs to keep cash_min funds it; one that is not, does not.
    lim = limits_for(data, cash_min=0.0, **NO_MINIMUM)
    cash = data.cash
    seller, buyer = data.tickers[0], data.tickers[data.values == 0][0]
    quantities[buyer] = np.floor((cash + 2_000) / data.prices[buyer])  # more than the cash
    quantities[seller] = -np.ceil(4_000 / data.prices[seller])
    why = reasons(data, quantities, lim, None)
    assert why[seller].startswith("fund the buys: cash")
    quantities[buyer] = 1
    assert not reasons(data, quantities, lim, None)[seller].startswith("fund")


# -- properties --------------------------------------------------------------------------------


@st.composite
def problems(draw: st.DrawFn) -> tuple[ProblemData, Target | None, EffectiveLimits]:
    n = draw(st.integers(6, 24))
    data = universe(n, draw(st.integers(0, 10_000)), cash_share=draw(st.floats(0.0, 0.1)),
                    companies=draw(st.booleans()))  # fmt: skip
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    data = dataclasses.replace(data, commission=draw(st.sampled_from([0.0, 1.0, 7.5])))
    if draw(st.booleans()):  # part shares held
        shares = data.shares + np.where(data.shares > 0, rng.random(n).round(3), 0.0)
        data = dataclasses.replace(data, shares=shares, values=shares * data.prices)
    if draw(st.booleans()):  # buy_from: holdings and a few others; a few no_sell
        can_buy = (data.values > 0) | (rng.random(n) < 0.3)
        can_sell = pd.Series(rng.random(n) < 0.9, index=data.tickers)
        data = dataclasses.replace(data, can_buy=can_buy, can_sell=can_sell)
    given: dict[str, Any] = {
        "min_trade_value": draw(st.sampled_from([0.0, 100.0, 500.0, 2500.0])),
        "whole_shares": draw(st.booleans()),
    }
    optional = {
        "max_turnover": st.floats(0.01, 0.8),
        "max_position": st.floats(0.04, 0.5),
        "floating_debt_max": st.floats(0.0, 0.08),
        "unprofitable_max": st.floats(0.0, 0.3),
        "sector_drift_max": st.floats(0.0, 0.15),
        "cash_min": st.floats(0.0, 0.06),
        "max_names": st.integers(1, 14),
        "cash_max": st.floats(0.06, 0.3),
        "min_trade_share": st.floats(0.0, 0.02),
        "min_position": st.floats(0.0, 0.05),
        "max_fund_position": st.floats(0.05, 0.5),
    }
    for name, values in optional.items():
        if draw(st.booleans()):
            given[name] = draw(values)
    kind = draw(st.sampled_from(["small", "size", "none"]))
    band = draw(st.floats(0.002, 0.08))
    target = {
        "small": Target(small_cap_share=draw(st.floats(0.0, 0.6)), band=band),
        "size": Target(size_score=draw(st.floats(-1.5, 1.5)), band=band * 3),
        "none": None,
    }[kind]
    return data, target, limits_for(data, **given)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(problems())
def test_every_hard_rule_holds_on_every_proposal(
    problem: tuple[ProblemData, Target | None, EffectiveLimits],
) -> None:
    data, target, lim = problem
    plan = plan_trades(data, target, lim)
    failed = {c.name for c in plan.failures()} - {"target"}
    if plan.diagnosis is None:
        assert plan.ok, plan.failures()
        assert plan.status in ("nothing to do", "optimal", "optimal_inaccurate")
    elif plan.diagnosis.closest is None:  # the limits conflict: no proposal, a diagnosis
        assert plan.trades.empty and plan.diagnosis.lines()
        return
    else:  # the best proposal for an unreachable target keeps every limit but those the
        # diagnosis names as the ones it cannot keep: max_names when no choice of names tried
        # could, a rule that whole shares and the minimum sizes cannot keep (a sector drift
        # of 0 with trades of at least 0.2% of value)
        named = {b.name for b in plan.diagnosis.blockers}
        assert failed <= named, f"{plan.failures()} {plan.diagnosis.lines()}"
    named = frozenset(b.name for b in plan.diagnosis.blockers) if plan.diagnosis else frozenset()
    assert_hard_rules(data, lim, plan.quantities, names="max_names" not in failed, named=named)
    independent = checks.check_trades(data, lim, target, plan.quantities)
    assert [c.ok for c in independent] == [c.ok for c in plan.checks]
    assert_adviser_rules(data, lim, plan)


def assert_adviser_rules(data: ProblemData, lim: EffectiveLimits, plan: TradePlan) -> None:
    """The rules an adviser signs for, recomputed by hand: the pre-trade checks pass (order
    sizes, cash floor), cash is not raised unasked, every
    trade and new position is of its minimum size unless its reason names a rule, every
    company's look-through share is within max_position (a kept one not grown), and a
    diagnosis names something and suggests no negative limit."""
    pretrade = checks.failures(checks.pretrade_checks(data, plan.quantities, lim))
    named = {b.name for b in plan.diagnosis.blockers} if plan.diagnosis else set()
    assert {c.name for c in pretrade} <= named, pretrade  # never an order cap broken by rounding
    shares, cash = checks.apply_trades(data, plan.quantities)
    values = (shares * data.prices).to_numpy(dtype=float)
    total = cash + values.sum()
    if lim.source("cash_max") != "user" and not plan.trades.empty:
        ceiling = max(data.cash / data.total_value, lim.cash_min)
        assert cash / total <= ceiling + 0.005, "cash raised above today's share"
    rules = (*RISK_LIMITS, "max_position", "max_fund_position", "cash_min", "cash_max",
             "sector_drift_max", "max_names")  # fmt: skip
    least = lim.min_trade(data.total_value)
    for ticker, row in plan.trades.iterrows():
        minimum = least if data.shares[ticker] > 0 else lim.min_new(data.total_value)
        if row["value"] < minimum * (1 - 1e-9):
            assert any(rule in row["reason"] for rule in rules), (ticker, row.to_dict())
            assert row["value"] >= lim.min_trade_value * (1 - 1e-9)
    matrix = data.through.matrix.toarray()
    after, today = matrix @ values, matrix @ data.values.to_numpy(dtype=float)
    for i, company in enumerate(data.through.companies):
        if company in lim.kept:
            assert after[i] <= today[i] * (1 + 1e-7) + 1e-6, company
        elif plan.diagnosis is None:
            assert after[i] / total <= lim.max_position + 1e-7, company
    if plan.diagnosis is not None:
        for line in plan.diagnosis.lines():
            assert line and not line.rstrip().endswith("needs"), line
            assert not re.search(r"(<=|>=) -", line), line
