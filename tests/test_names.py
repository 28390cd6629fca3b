"""max_names: the heuristic against exhaustive search, the plan within the limit, the pruning
that cannot change the answer, and the limit end to end on the shipped model's whole universe."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor import checks
from advisor.cli import app
from advisor.exposures import portfolio_exposures
from advisor.limits import EffectiveLimits, effective_limits
from advisor.market import MarketModel
from advisor.optimize import ProblemData, cardinality
from advisor.optimize.problem import Adjust
from advisor.optimize.solve import solve
from advisor.portfolio import Limits, Target
from advisor.trades import plan_trades
from tests.synthetic import universe

TARGET = Target(small_cap_share=0.25, band=0.02)
runner = CliRunner()


def limits_for(data: ProblemData, **given: object) -> EffectiveLimits:
    return effective_limits(Limits(**given), checks.today(data), checks.positions(data))  # type: ignore[arg-type]


def exhaustive(data: ProblemData, limits: EffectiveLimits, k: int) -> float:
    names = [str(t) for t in data.tickers]
    values = [
        solve(data, TARGET, limits, adjust=Adjust(excluded=frozenset(names) - set(kept)))
        for kept in itertools.combinations(names, k)
    ]
    return min(v.objective for v in values if v.feasible)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 8])
def test_the_heuristic_finds_what_exhaustive_search_finds(seed: int) -> None:
    # 10 names, at most 4 held: the relaxation holds more, every choice of 4 is solved.
    data = universe(10, seed, held=2)
    limits = limits_for(data, max_names=4)
    relaxed = solve(data, TARGET, limits)
    found = cardinality.restrict(data, TARGET, limits, relaxed)
    assert found is not None, "the relaxation already keeps the limit: a useless case"
    assert found.solution.feasible
    assert cardinality.held_after(found.data, found.solution, limits).sum() <= 4
    best = exhaustive(data, limits, 4)
    assert relaxed.objective <= best + 1e-9  # the relaxation is a lower bound
    assert found.solution.objective == pytest.approx(best, rel=1e-5)


def test_the_plan_holds_at_most_max_names_and_keeps_every_rule() -> None:
    data = universe(40, 3, held=12)
    free = plan_trades(data, TARGET, limits_for(data))
    held_free = int((checks.after(data, free.quantities).shares > 1e-9).sum())
    limits = limits_for(data, max_names=8)
    plan = plan_trades(data, TARGET, limits)
    assert held_free > 8  # without the limit the plan holds more
    assert plan.ok, plan.failures()
    shares = data.shares + plan.quantities
    assert int((shares > 1e-9).sum()) <= 8
    assert not [c for c in checks.check_trades(data, limits, TARGET, plan.quantities) if not c.ok]


def test_holdings_that_cannot_be_sold_out_are_kept_and_named_when_too_many() -> None:
    data = universe(20, 4, held=6)
    held = list(data.tickers[:6])
    stuck = pd.Series(~data.tickers.isin(held[:5]), index=data.tickers)
    data = data.__class__(**{**data.__dict__, "can_sell": stuck})
    plan = plan_trades(data, TARGET, limits_for(data, max_names=3))
    assert not plan.ok and plan.diagnosis is not None
    assert "max_names" in {b.name for b in plan.diagnosis.blockers}
    assert "max_names" in plan.diagnosis.message()
    assert (plan.quantities[held[:5]] >= 0).all()  # no_sell respected all the same


def test_dropping_names_fixed_at_zero_does_not_change_the_answer() -> None:
    data = universe(30, 7, held=8)
    limits = limits_for(data)
    out = frozenset(str(t) for t in data.tickers[20:])
    full = solve(data, TARGET, limits, adjust=Adjust(excluded=out))
    part = solve(data.subset(np.arange(data.n) < 20), TARGET, limits)
    assert full.feasible and part.feasible
    assert part.objective == pytest.approx(full.objective, rel=1e-5, abs=1e-9)
    assert np.allclose(full.values.iloc[:20], part.values, atol=1e-4 * data.total_value)
    with pytest.raises(ValueError, match="every holding"):
        data.subset(np.arange(data.n) >= 1)


@pytest.mark.slow
def test_whole_universe_with_max_names_end_to_end(
    tmp_path: Path, shipped_model: MarketModel
) -> None:
    path = tmp_path / "direct.yaml"
    head = (
        "cash: 25000\nholdings:\n  - {ticker: NVDA, shares: 400}\n"
        "  - {ticker: AAPL, shares: 300}\n  - {ticker: MSFT, shares: 200}\n"
        "target: {small_cap_share: 0.25, band: 0.02}\n"
    )
    counts: dict[int | None, int] = {}
    for k in (None, -4):  # -4: four names fewer than the proposal without the limit holds
        k = k if k is None else counts[None] + k
        names = f", max_names: {k}" if k else ""
        limits = f"limits: {{buy_from: [holdings, all], min_trade_value: 250{names}}}\n"
        path.write_text(head + limits)
        out = tmp_path / f"proposal-{k}.json"
        result = runner.invoke(app, ["rebalance", str(path), "--output", str(out)])
        assert result.exit_code == 0, result.stderr
        proposal = json.loads(out.read_text())
        # From the trade list alone: shares after, exposures through the exposures module.
        shares = {"NVDA": 400.0, "AAPL": 300.0, "MSFT": 200.0}
        cash = 25_000.0
        for trade in proposal["trades"]:
            sign = 1 if trade["side"] == "BUY" else -1
            shares[trade["ticker"]] = shares.get(trade["ticker"], 0.0) + sign * trade["shares"]
            cash -= sign * trade["shares"] * trade["price"] + trade["estimated_cost"]
        held = {t: s for t, s in shares.items() if s > 0}
        counts[k] = len(held)
        prices = shipped_model.securities["price"]
        values = pd.Series({t: s * prices[t] for t, s in held.items()})
        after = portfolio_exposures(values, cash, shipped_model.exposures())
        assert abs(after.small_cap_share - 0.25) <= 0.02
        assert all(c["ok"] for c in proposal["checks"] + proposal["pretrade_checks"])
    fewer = counts[None] - 4
    assert counts[None] > fewer >= counts[fewer] and fewer >= 3


def test_max_names_must_be_a_whole_number_of_at_least_one(tmp_path: Path) -> None:
    cases = (("2.5", "2.5", "whole number"), ("0", "0", ">= 1"),
             ("true", "is true, a boolean", "whole number"))  # fmt: skip
    for value, shown, words in cases:
        path = tmp_path / "bad.yaml"
        path.write_text(f"cash: 1000\nlimits:\n  max_names: {value}\n")
        result = runner.invoke(app, ["validate", str(path)])
        assert result.exit_code == 2
        assert f"bad.yaml:3: limits.max_names {shown}" in result.stderr, result.stderr
        assert words in result.stderr


def test_a_holding_too_small_to_sell_counts_as_held() -> None:
    # T0012 is worth $452, below min_trade_value $500: it cannot be sold, so it takes a place.
    data = universe(30, 1071, held=15, total=1e5)
    target = Target(small_cap_share=0.432, band=0.02)
    limits = limits_for(data, max_names=12, max_position=0.1, min_trade_value=500.0)
    assert 0 < data.values["T0012"] < 500
    plan = plan_trades(data, target, limits)
    assert plan.ok, plan.failures()
    assert int(((data.shares + plan.quantities) > 1e-9).sum()) <= 12
    assert plan.quantities["T0012"] >= 0  # never sold: a sale would be below the minimum


def test_a_small_holding_of_a_large_account_is_sold_to_keep_max_names() -> None:
    # $1e9 account, one holding worth about $500: 1e-6 of the value, and a real position.
    data = universe(12, 0, held=6, total=1e9)
    shares = data.shares.copy()
    small = data.tickers[6]
    shares[small] = max(1.0, float(np.floor(500 / data.prices[small])))
    value = float(shares[small] * data.prices[small])
    data = data.__class__(**{**data.__dict__, "shares": shares, "values": shares * data.prices,
                             "cash": data.cash - value})  # fmt: skip
    # min_trade_share 0: at 0.2% of $1e9, the trades that keep the loosened risk limits
    # exactly at today's level (to 1e-7) could not be made alongside.
    plan = plan_trades(data, None, limits_for(data, max_names=6, min_trade_share=0))
    assert plan.ok, plan.failures()
    assert plan.quantities[small] == -shares[small]
