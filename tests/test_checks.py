"""The independent checks, on a three-security portfolio whose figures are checked by hand."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from advisor import checks
from advisor.checks import Check
from advisor.concentration import LookThrough
from advisor.enums import Status
from advisor.errors import PreTradeCheckFailed
from advisor.limits import EffectiveLimits, effective_limits
from advisor.optimize import ImpactForm, ProblemData
from advisor.outcome import plan_outcome
from advisor.portfolio import Limits, Target
from advisor.trades import TradePlan


def tiny(**changes: Any) -> ProblemData:
    """A: large tech, $10,000; B: small financial, $10,000; C: small tech, not held; $5,000 cash.
    Value V = $25,000, equity $20,000, small-cap share 0.5."""
    t = pd.Index(["A", "B", "C"], name="ticker")
    prices = pd.Series([100.0, 50.0, 20.0], index=t)
    shares = pd.Series([100.0, 200.0, 0.0], index=t)
    expo = pd.DataFrame(
        {
            "small_cap_share": [0.0, 1.0, 1.0],
            "size_score": [1.0, -1.5, -2.0],
            "refinancing": [0.02, 0.10, 0.20],
            "floating_debt": [0.01, 0.05, 0.15],
            "weak_coverage": [0.0, 0.0, 1.0],
            "unprofitable": [0.0, 1.0, 0.0],
            "economic_sensitivity": [1.0, 1.2, 1.5],
            "sector:Technology": [1.0, 0.0, 1.0],
            "sector:Financials": [0.0, 1.0, 0.0],
        },
        index=t,
    )
    factors = pd.Index(["market"])
    fields: dict[str, Any] = {
        "tickers": t,
        "values": shares * prices,
        "shares": shares,
        "prices": prices,
        "cash": 5000.0,
        "exposures": expo,
        "loadings": pd.DataFrame({"market": [1.0, 1.1, 1.2]}, index=t),
        "factor_cov": pd.DataFrame([[0.0256]], index=factors, columns=factors),
        "specific_var": pd.Series(0.04, index=t),
        "half_spread": pd.Series(0.001, index=t),
        "adv": pd.Series(1e7, index=t),
        "impact_coef": 0.1,
        "commission": 1.0,
        "is_fund": pd.Series(False, index=t),
        "can_buy": pd.Series(True, index=t),
        "can_sell": pd.Series(True, index=t),
    }
    fields.update(changes)
    if "shares" in changes:
        fields["values"] = fields["shares"] * fields["prices"]
    return ProblemData(**fields)


def limits(data: ProblemData, **given: Any) -> EffectiveLimits:
    return effective_limits(Limits(**given), checks.today(data), checks.positions(data))


def trades(**quantities: float) -> pd.Series:
    return pd.Series(quantities, dtype=float)


def check(found: list[Check], name: str) -> Check:
    return next(c for c in found if c.name == name)


def test_measures_are_ratios_to_equity_value() -> None:
    now = checks.measures(tiny().values, tiny().exposures)
    assert now["small_cap_share"] == pytest.approx(0.5)
    assert now["refinancing"] == pytest.approx((10_000 * 0.02 + 10_000 * 0.10) / 20_000)
    assert now["sector:Technology"] == pytest.approx(0.5)
    assert checks.today(tiny())["cash"] == pytest.approx(0.2)


@pytest.mark.parametrize("form", list(ImpactForm))
def test_costs_are_spread_impact_and_commission_by_hand(form: ImpactForm) -> None:
    data = tiny(impact_form=form)  # the optimizer's stand-in never changes the reported cost
    costs = checks.trade_costs(data, trades(A=0.0, B=0.0, C=10.0).reindex(data.tickers))
    # $200 bought: spread 0.001 x 200 = 0.2; impact 0.1 x sqrt(200 / 1e7) x 200 = 0.0894427
    # (the square-root law); commission $1.
    assert costs["C"] == pytest.approx(0.2 + 0.0894427191 + 1.0, rel=1e-9)
    assert costs["A"] == 0.0 and costs["B"] == 0.0


def test_costs_read_quantities_by_ticker_and_refuse_what_is_not_a_number() -> None:
    data = tiny()
    shuffled = trades(C=10.0, A=0.0)  # another order, B missing: aligned by ticker, B costs 0
    assert list(checks.trade_costs(data, shuffled)) == list(
        checks.trade_costs(data, trades(A=0.0, B=0.0, C=10.0).reindex(data.tickers))
    )
    with pytest.raises(ValueError, match="finite"):
        checks.after(data, trades(A=float("nan"), B=0.0, C=10.0))


def test_applying_trades_adds_back_to_the_value_less_costs() -> None:
    data = tiny()
    quantities = trades(A=-30, C=100)
    shares, cash = checks.apply_trades(data, quantities)
    assert list(shares) == [70.0, 200.0, 100.0]
    costs = checks.trade_costs(data, quantities.reindex(data.tickers, fill_value=0.0)).sum()
    assert cash == pytest.approx(5000 + 3000 - 2000 - costs)
    assert cash + float((shares * data.prices).sum()) == pytest.approx(25_000 - costs)


def test_no_trades_on_a_portfolio_within_every_rule_pass_every_check() -> None:
    data = tiny()
    found = checks.check_trades(data, limits(data), Target(small_cap_share=0.5), trades())
    assert checks.failures(found) == []


LOOSE = {  # every limit out of the way, so that one case breaks one rule
    "refinancing_max": 1.0,
    "floating_debt_max": 1.0,
    "weak_coverage_max": 1.0,
    "unprofitable_max": 1.0,
    "economic_sensitivity_max": 5.0,
    "max_turnover": 2.0,
    "max_position": 1.0,
    "sector_drift_max": 1.0,
    "cash_min": 0.0,
    "cash_max": 1.0,
    "min_trade_value": 0.0,
    "min_trade_share": 0.0,
    "min_position": 0.0,
}


@pytest.mark.parametrize(
    ("quantities", "given", "name", "detail"),
    [
        ({"C": -1}, {}, "no_short", "C"),
        ({"C": 1.5}, {}, "whole_shares", "C"),
        ({"C": 1}, {"min_trade_value": 100}, "min_trade_value", "C"),
        ({"C": 4}, {"min_trade_share": 0.004}, "min_trade_value", "C"),  # $80 < $100
        ({"C": 10}, {"min_position": 0.01}, "min_position", "C"),  # new: $200 < $250
        ({"A": -50}, {"cash_max": 0.3}, "cash_max", "cash after trades"),  # 0.2 -> 0.4
        ({"C": 245}, {"cash_min": 0.01}, "cash_min", "cash after trades and costs"),
        ({"A": -50, "C": 250}, {"refinancing_max": 0.07}, "refinancing_max", "refinancing"),
        ({"A": -50, "C": 250}, {"weak_coverage_max": 0.1}, "weak_coverage_max", "weak_cov"),
        ({"A": -30, "B": 60}, {"max_turnover": 0.2}, "max_turnover", "value today"),
        ({"A": 20}, {"max_position": 0.45}, "max_position", "A"),
        ({"A": -40, "B": 80}, {"sector_drift_max": 0.05}, "sector_drift_max", "sector:Tech"),
        ({"A": -60, "B": -140}, {}, "equity_kept", "equity after trades"),
    ],
)
def test_each_rule_fails_when_broken(
    quantities: dict[str, float], given: dict[str, Any], name: str, detail: str
) -> None:
    data = tiny()
    lim = limits(data, **{**LOOSE, **given})
    found = checks.check_trades(data, lim, None, trades(**quantities))
    assert [c.name for c in checks.failures(found)] == [name]
    assert detail in check(found, name).detail


def test_part_shares_pass_when_whole_shares_is_off() -> None:
    data = tiny()
    lim = limits(data, whole_shares=False, min_trade_value=0)
    assert check(checks.check_trades(data, lim, None, trades(C=1.5)), "whole_shares").ok


def test_selling_a_part_share_holding_whole_is_a_whole_share_trade() -> None:
    data = tiny(shares=pd.Series([100.5, 200.0, 0.0], index=["A", "B", "C"]).rename_axis("ticker"))
    found = checks.check_trades(data, limits(data), None, trades(A=-100.5))
    assert check(found, "whole_shares").ok


def test_a_position_above_a_default_today_may_be_kept_but_not_added_to() -> None:
    data = tiny(shares=pd.Series([160.0, 100.0, 0.0], index=["A", "B", "C"]).rename_axis("ticker"))
    lim = limits(data, min_trade_value=0)  # A is 0.62 of value today, above the default 0.20
    assert set(lim.kept) == {"A"} and lim.kept["A"].cap == pytest.approx(16_000 / 26_000)
    kept = check(checks.check_trades(data, lim, None, trades()), "max_position")
    assert kept.ok and kept.value == pytest.approx(16_000 / 26_000)  # kept ones count
    assert "kept: A 61.5% (above the default max_position today)" in kept.detail
    bought = check(checks.check_trades(data, lim, None, trades(A=5)), "max_position")
    assert not bought.ok and "A 63.5% kept, yet added to" in bought.detail


def fund_data() -> ProblemData:
    """tiny() plus F, a fund half A and half C, $10,000 held: V = $35,000."""
    t = pd.Index(["A", "B", "C", "F"], name="ticker")
    base = tiny()
    row = 0.5 * base.exposures.loc["A"] + 0.5 * base.exposures.loc["C"]
    through = LookThrough(
        pd.Index(["A", "B", "C"]), t,
        sparse.csr_array(np.array([[1.0, 0, 0, 0.5], [0, 1.0, 0, 0], [0, 0, 1.0, 0.5]])),
    )  # fmt: skip
    shares = pd.Series([100.0, 200.0, 0.0, 100.0], index=t)
    prices = pd.Series([100.0, 50.0, 20.0, 100.0], index=t)
    return dataclasses.replace(
        base,
        tickers=t,
        shares=shares,
        prices=prices,
        values=shares * prices,
        exposures=pd.concat([base.exposures, row.to_frame("F").T]).rename_axis("ticker"),
        loadings=pd.DataFrame({"market": [1.0, 1.1, 1.2, 1.05]}, index=t),
        **{name: pd.concat([getattr(base, name), getattr(base, name).iloc[:1].set_axis(["F"])])
           for name in ("specific_var", "half_spread", "adv", "can_buy", "can_sell")},
        is_fund=pd.Series([False, False, False, True], index=t),
        lookthrough=through,
    )  # fmt: skip


def test_max_position_looks_through_funds_to_companies() -> None:
    data = fund_data()  # A: $10,000 direct + $5,000 through F = 15/35 = 0.4286 of value
    lim = limits(data, **{**LOOSE, "max_position": 0.40})
    found = check(checks.check_trades(data, lim, None, trades()), "max_position")
    assert not found.ok and found.value == pytest.approx(15 / 35)
    assert found.detail.startswith("A 42.9% above it")
    # Selling 20 shares of A ($2,000) brings it to 13,000 / (35,000 - costs) < 0.40.
    assert check(checks.check_trades(data, lim, None, trades(A=-20)), "max_position").ok
    # A fund is not a position: F at 28.6% passes a cap of 0.20 on companies...
    lim = limits(data, **{**LOOSE, "max_position": 0.45, "max_fund_position": 0.2})
    found = checks.check_trades(data, lim, None, trades())
    assert check(found, "max_position").ok
    # ... and max_fund_position caps it as a fund.
    assert not check(found, "max_fund_position").ok
    assert check(found, "max_fund_position").value == pytest.approx(10 / 35)


def test_restricted_lists_are_honoured() -> None:
    t = pd.Index(["A", "B", "C"], name="ticker")
    data = tiny(can_sell=pd.Series([False, True, True], index=t),
                can_buy=pd.Series([True, True, False], index=t))  # fmt: skip
    found = checks.check_trades(data, limits(data), None, trades(A=-10, C=60))
    assert {c.name for c in checks.failures(found)} == {"no_sell", "no_buy/buy_from"}
    assert check(found, "no_sell").detail == "A"
    assert check(found, "no_buy/buy_from").detail == "C"


def test_the_target_check_reads_the_band() -> None:
    data = tiny()
    inside = checks.check_trades(data, limits(data), Target(small_cap_share=0.49), trades())
    assert check(inside, "target").ok
    outside = checks.check_trades(data, limits(data), Target(small_cap_share=0.45), trades())
    assert not check(outside, "target").ok
    assert check(outside, "target").detail == "small_cap_share 0.5000, target 0.45 ± 0.02"


def test_a_portfolio_without_equity_has_no_measure_to_meet_a_target() -> None:
    got = checks.target_check(tiny().values * 0, tiny().exposures, Target(small_cap_share=0.3))
    assert not got.ok and got.detail == "no equity held: no measure"


def test_a_hair_outside_a_limit_is_a_failure() -> None:
    data = tiny()
    level = checks.today(data)["refinancing"]
    over = limits(data, refinancing_max=level - 2 * checks.RATIO_TOL)
    assert not check(checks.check_trades(data, over, None, trades()), "refinancing_max").ok
    at = limits(data, refinancing_max=level)
    assert check(checks.check_trades(data, at, None, trades()), "refinancing_max").ok


# -- pre-trade checks --------------------------------------------------------------------------


def test_pretrade_checks_pass_on_ordinary_orders() -> None:
    data = tiny()
    assert checks.failures(checks.pretrade_checks(data, trades(A=-20, C=80), limits(data))) == []


def test_a_buy_above_a_quarter_of_value_is_blocked() -> None:
    data = tiny()
    # V = $25,000: a $6,400 buy of C is 0.256 of it; the $7,000 sale of A (0.28) is allowed.
    big_buy = checks.pretrade_checks(data, trades(A=-70, C=320), limits(data))
    assert [c.name for c in checks.failures(big_buy)] == ["order_share"]
    found = check(big_buy, "order_share")
    assert (found.value, found.limit) == (pytest.approx(6_400 / 25_000), 0.25)
    assert found.detail == (
        "C; largest sale 28.0% of value (sales are bounded by the position, not by 25%)"
    )
    plan = TradePlan(pd.DataFrame(), trades(A=-70, C=320), (), Status.OPTIMAL)
    assert plan_outcome(plan, big_buy).exit_code == PreTradeCheckFailed.exit_code == 4


def test_a_sale_above_a_quarter_of_value_passes_and_the_value_is_the_buys() -> None:
    data = tiny()
    # Selling all of A is $10,000, 0.40 of V; the $3,000 buy of C is 0.12.
    found = checks.pretrade_checks(data, trades(A=-100, C=150), limits(data))
    assert checks.failures(found) == []
    order = check(found, "order_share")
    assert order.value == pytest.approx(3_000 / 25_000) and order.value <= order.limit
    assert order.detail == (
        "largest sale 40.0% of value (sales are bounded by the position, not by 25%)"
    )
    plan = TradePlan(pd.DataFrame(), trades(A=-100, C=150), (), Status.OPTIMAL)
    assert plan_outcome(plan, found).exit_code == 0
    only_sold = check(checks.pretrade_checks(data, trades(A=-30), limits(data)), "order_share")
    assert (only_sold.ok, only_sold.value, only_sold.detail) == (True, 0.0, "")


def test_an_order_above_a_share_of_daily_volume_is_blocked() -> None:
    t = pd.Index(["A", "B", "C"], name="ticker")
    data = tiny(adv=pd.Series([1e7, 1e7, 20_000.0], index=t))
    found = checks.pretrade_checks(data, trades(C=60), limits(data))  # $1,200 of $20,000 ADV
    assert [c.name for c in checks.failures(found)] == ["adv_share"]
    assert check(found, "adv_share").value == pytest.approx(0.06)
    assert checks.failures(checks.pretrade_checks(data, trades(C=60), limits(data),
                                                  max_adv_share=0.1)) == []  # fmt: skip


def test_pretrade_checks_catch_a_missing_price_and_an_oversold_holding() -> None:
    data = tiny()
    broken = data.prices.copy()
    broken["C"] = np.nan
    object.__setattr__(data, "prices", broken)  # bypass validation: a price lost downstream
    found = checks.pretrade_checks(data, trades(A=-120, C=10), limits(tiny()))
    names = {c.name for c in checks.failures(found)}
    assert {"prices", "no_short"} <= names
    assert check(found, "prices").detail == "C"


def test_cash_after_all_orders_is_checked_before_trading() -> None:
    data = tiny()
    found = checks.pretrade_checks(data, trades(C=245), limits(data, cash_min=0.01))
    assert "cash_min" in {c.name for c in checks.failures(found)}


def test_the_constants_match_the_optimizers() -> None:
    from advisor.optimize import problem

    assert checks.EQUITY_KEPT == problem.EQUITY_KEPT
    assert problem.SolveOptions().max_order_share == checks.MAX_ORDER_SHARE
    assert problem.SolveOptions().max_adv_share == checks.MAX_ADV_SHARE


def test_failures_lists_only_failed_checks() -> None:
    good, bad = Check("a", True, 0.0, 1.0), Check("b", False, 2.0, 1.0)
    assert checks.failures([good, bad]) == [bad]
    assert dataclasses.asdict(bad)["value"] == 2.0
