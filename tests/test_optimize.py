"""The optimizer: data validation, the formulation against a plain cvxpy one, solver statuses,
the diagnosis."""

from __future__ import annotations

import dataclasses
from typing import Any

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest

from advisor import checks
from advisor.errors import SolverError
from advisor.limits import EffectiveLimits, effective_limits
from advisor.optimize import ImpactForm, ProblemData, SolveOptions, build, diagnose, solve
from advisor.optimize import data as data_module
from advisor.optimize.solve import run
from advisor.portfolio import Limits, Target
from advisor.trades import round_trades
from tests.synthetic import universe

TARGET = Target(small_cap_share=0.25, band=0.02)


def limits_for(data: ProblemData, **given: Any) -> EffectiveLimits:
    return effective_limits(Limits(**given), checks.today(data), checks.positions(data))


def small_share(values: pd.Series, data: ProblemData) -> float:
    return float(values @ data.exposures["small_cap_share"] / values.sum())


# -- ProblemData -------------------------------------------------------------------------------


def test_data_rejects_a_series_of_the_wrong_length() -> None:
    data = universe(12, 1)
    message = r"`prices` must be of shape \(n,\) with n=12, indexed by `tickers`, got \(11,\)"
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(data, prices=data.prices.iloc[:11])


def test_data_rejects_the_same_tickers_in_another_order() -> None:
    data = universe(12, 1)
    with pytest.raises(ValueError, match=r"`adv` .* another order"):
        dataclasses.replace(data, adv=data.adv.iloc[::-1])


def test_data_rejects_missing_exposure_columns() -> None:
    data = universe(12, 1)
    message = r"`exposures` must have columns .* missing \['refinancing'\]"
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(data, exposures=data.exposures.drop(columns="refinancing"))


def test_data_rejects_nonpositive_prices() -> None:
    data = universe(12, 1)
    prices = data.prices.copy()
    prices.iloc[3] = 0.0
    values = data.shares * prices
    with pytest.raises(ValueError, match="`prices` must be > 0 for every ticker; T0003 has 0"):
        dataclasses.replace(data, prices=prices, values=values)


def test_data_rejects_values_that_are_not_shares_times_prices() -> None:
    data = universe(12, 1)
    values = data.values.copy()
    values.iloc[0] += 100.0
    with pytest.raises(ValueError, match="`values` must equal shares x prices; T0000"):
        dataclasses.replace(data, values=values)


def test_data_rejects_a_factor_cov_of_other_factors() -> None:
    data = universe(12, 1)
    cov = data.factor_cov.iloc[:-1, :-1]
    with pytest.raises(ValueError, match=r"`factor_cov` must be of shape \(k, k\) with k=8"):
        dataclasses.replace(data, factor_cov=cov)


def test_data_rejects_nan_exposures() -> None:
    data = universe(12, 1)
    expo = data.exposures.copy()
    expo.iloc[2, 2] = np.nan
    with pytest.raises(ValueError, match="`exposures` must be finite"):
        dataclasses.replace(data, exposures=expo)


# -- the formulation against the same problem written plainly ---------------------------------


def plain_problem(
    data: ProblemData, target: Target, lim: EffectiveLimits, *, soft: float = 0.0
) -> tuple[Any, Any]:
    """The rebalancing problem written directly in cvxpy from DESIGN.md, in shares of today's
    value V (w = v / V): in dollars the solver is badly scaled and stops short. Impact by the
    data's form; with `soft`, the target band is a penalty of that weight."""
    total = data.total_value
    w0 = data.values.to_numpy() / total
    w = cp.Variable(data.n)
    t = w - w0
    adv = data.adv.to_numpy() / total
    k = data.impact_coef / np.sqrt(0.01)
    impact = k * cp.sum(cp.multiply(1 / adv, cp.square(t)))
    if data.impact_form is ImpactForm.POWER:  # the square-root law: k |t|^1.5 / sqrt(adv)
        impact = data.impact_coef * cp.sum(cp.multiply(1 / np.sqrt(adv), cp.power(cp.abs(t), 1.5)))
    cost = data.half_spread.to_numpy() @ cp.abs(t) + impact
    y = data.loadings.to_numpy().T @ t
    risk = cp.quad_form(y, data.factor_cov.to_numpy()) + cp.sum(
        cp.multiply(data.specific_var.to_numpy(), cp.square(t))
    )
    e = data.exposures[target.measure].to_numpy()
    pull = 0.1 * cp.square((e - target.value) @ w)
    cash_after = data.cash / total - cp.sum(t)
    drift = 0.02 * cp.pos(cash_after - max(data.cash / total, lim.cash_min))
    equity = cp.sum(w)
    cons = [
        t >= -np.minimum(w0, 0.05 * adv),
        t <= np.minimum(0.25, 0.05 * adv),
        *([cp.abs((e - target.value) @ w) <= target.band * equity] if not soft else []),
        cp.sum(cp.abs(t)) <= lim.max_turnover,
        w <= lim.max_position,
        cash_after >= lim.cash_min,
    ]
    for name, measure in [
        ("refinancing_max", "refinancing"),
        ("floating_debt_max", "floating_debt"),
        ("weak_coverage_max", "weak_coverage"),
        ("unprofitable_max", "unprofitable"),
        ("economic_sensitivity_max", "economic_sensitivity"),
    ]:
        cons.append(data.exposures[measure].to_numpy() @ w <= getattr(lim, name) * equity)
    sectors = data.exposures[data.sectors].to_numpy()
    today = sectors.T @ w0 / w0.sum()
    cons.append(cp.abs(sectors.T @ w - today * equity) <= lim.sector_drift_max * equity)
    miss = soft * cp.pos(cp.abs((e - target.value) @ w) - target.band * equity)
    problem = cp.Problem(cp.Minimize(cost + risk + pull + drift + miss), cons)
    problem.solve(solver="CLARABEL")
    return problem, w


@pytest.mark.parametrize("seed", [3, 11])
def test_answer_before_rounding_matches_the_plain_cvxpy_problem(seed: int) -> None:
    data = universe(30, seed)
    lim = limits_for(data, max_position=0.15, floating_debt_max=0.05)
    ours = solve(data, TARGET, lim)
    plain, w = plain_problem(data, TARGET, lim)
    assert ours.status == "optimal" and plain.status == "optimal"
    assert ours.objective == pytest.approx(plain.value, rel=1e-5, abs=1e-9)
    np.testing.assert_allclose(ours.values / data.total_value, w.value, atol=1e-4)


def test_every_term_gives_the_same_figure_from_numpy_and_from_cvxpy() -> None:
    data = universe(20, 5)
    form = build(data, TARGET, limits_for(data))
    dx = np.random.default_rng(42).normal(0, 0.01, data.n)
    point = cp.Variable(data.n)
    point.value = dx
    for term in form.terms:
        assert float(term(dx)) == pytest.approx(float(term(point).value), rel=1e-9, abs=1e-15)


def test_the_checks_cost_formula_agrees_with_the_optimizer_terms() -> None:
    data = universe(20, 5, impact_form=ImpactForm.POWER)
    built = build(data, TARGET, limits_for(data))
    rng = np.random.default_rng(42)
    quantities = pd.Series(rng.integers(-50, 50, data.n).astype(float), index=data.tickers)
    dx = (quantities * data.prices).to_numpy() / data.total_value
    terms = {t.name: float(t(dx)) for t in built.terms}
    theirs = checks.trade_costs(data, quantities).sum() / data.total_value
    assert terms["spread"] + terms["impact"] == pytest.approx(theirs, rel=1e-12)


def test_the_quadratic_impact_meets_the_reported_cost_at_the_reference_participation() -> None:
    data = universe(20, 5, impact_form=ImpactForm.QUADRATIC)
    built = build(data, TARGET, limits_for(data))
    impact = next(t for t in built.terms if t.name == "impact")
    signs = np.where(np.arange(data.n) % 2, 1.0, -1.0)
    for share, ratio in ((data_module.REFERENCE_PARTICIPATION, 1.0), (0.04, 2.0)):
        dollars = signs * share * data.adv.to_numpy()  # each trade `share` of its daily volume
        spread = float(data.half_spread.to_numpy() @ np.abs(dollars))
        reported = checks.trade_costs(data, pd.Series(dollars / data.prices, data.tickers)).sum()
        # The stand-in grows as t^2, the law as t^1.5: equal at 1%, twice as dear at 4%.
        stand_in = float(impact(dollars / data.total_value)) * data.total_value
        assert stand_in == pytest.approx(ratio * (reported - spread), rel=1e-9)


def test_risk_term_is_the_factor_model_variance_of_the_trade() -> None:
    data = universe(15, 2)
    built = build(data, TARGET, limits_for(data), SolveOptions(risk_aversion=1.0))
    dx = np.random.default_rng(42).normal(0, 0.02, data.n)
    b, f = data.loadings.to_numpy(), data.factor_cov.to_numpy()
    full = b @ f @ b.T + np.diag(data.specific_var.to_numpy())  # fine at n = 15
    risk = next(t for t in built.terms if t.name == "risk")
    assert float(risk(dx)) == pytest.approx(dx @ full @ dx, rel=1e-10)


# -- solving -----------------------------------------------------------------------------------


def test_a_portfolio_on_target_and_within_every_limit_is_left_alone_by_the_solver() -> None:
    # Inside the band but off centre, the pull toward the centre may move it: plan_trades
    # checks first and answers "nothing to do" (tests/test_trades.py); on centre, the
    # solver's own optimum is no trade.
    data = universe(30, 3)
    target = Target(small_cap_share=small_share(data.values, data), band=0.02)
    answer = solve(data, target, limits_for(data))
    assert answer.status == "optimal"
    # Zero trade is the optimum, to the interior-point method's tolerance (cents per $10k);
    # rounding to whole shares then gives exactly no trade.
    assert answer.trades.abs().max() < 1e-5 * data.total_value
    assert answer.objective < 1e-8
    quantities, _ = round_trades(data, answer.trades, limits_for(data))
    assert (quantities == 0).all()


def test_the_proposal_lands_inside_the_band() -> None:
    data = universe(30, 3)
    answer = solve(data, TARGET, limits_for(data))
    assert answer.feasible and answer.accurate
    assert abs(small_share(answer.values, data) - 0.25) <= 0.02 + 1e-7


def test_highs_solves_the_quadratic_form_to_the_same_answer_and_prints_nothing(
    capfd: pytest.CaptureFixture[str],
) -> None:
    data = universe(30, 3)
    lim = limits_for(data)
    clarabel = solve(data, TARGET, lim, SolveOptions(solvers=("CLARABEL",)))
    highs = solve(data, TARGET, lim, SolveOptions(solvers=("HIGHS",)))
    assert highs.solver == "HIGHS" and highs.status == "optimal"
    assert highs.objective == pytest.approx(clarabel.objective, rel=1e-4)
    np.testing.assert_allclose(highs.values, clarabel.values, atol=1e-3 * data.total_value)
    assert capfd.readouterr().out == ""


def test_the_power_form_is_not_sent_to_highs() -> None:
    data = universe(20, 3, impact_form=ImpactForm.POWER)
    form = build(data, TARGET, limits_for(data))
    assert not form.problem().is_qp()
    with pytest.raises(SolverError, match="no solver could take the problem"):
        solve(data, TARGET, limits_for(data), SolveOptions(solvers=("HIGHS",)))


def test_the_power_form_solves_with_clarabel() -> None:
    data = universe(30, 3, impact_form=ImpactForm.POWER)
    answer = solve(data, TARGET, limits_for(data))
    assert answer.feasible
    assert abs(small_share(answer.values, data) - 0.25) <= 0.02 + 1e-6


def test_an_impossible_problem_is_reported_infeasible() -> None:
    data = universe(30, 3)
    lim = limits_for(data, max_turnover=0.01)
    answer = solve(data, Target(small_cap_share=0.6, band=0.01), lim)
    assert answer.status == "infeasible" and not answer.feasible


class FakeVariable:
    value: np.ndarray | None = None


class FakeProblem:
    """Answers each solver in turn from a script: a status, or an exception to raise."""

    def __init__(self, script: dict[str, str | Exception], x: FakeVariable) -> None:
        self.script, self.x, self.status = script, x, ""

    def is_qp(self) -> bool:
        return True

    def solve(self, solver: str, **options: object) -> None:
        outcome = self.script[solver]
        if isinstance(outcome, Exception):
            raise outcome
        self.status = outcome
        self.x.value = np.array([1.0 if solver == "CLARABEL" else 2.0])


def run_fake(script: dict[str, str | Exception]) -> tuple[str, str, np.ndarray | None]:
    x = FakeVariable()
    return run(FakeProblem(script, x), x, ("CLARABEL", "HIGHS"))  # type: ignore[arg-type]


def test_an_inaccurate_answer_is_replaced_by_the_fallbacks_accurate_one() -> None:
    status, solver, x = run_fake({"CLARABEL": "optimal_inaccurate", "HIGHS": "optimal"})
    assert (status, solver) == ("optimal", "HIGHS")
    assert x is not None and x[0] == 2.0


def test_an_inaccurate_answer_is_kept_and_marked_when_nothing_better_comes() -> None:
    failure = cp.error.SolverError("HiGHS broke")
    status, solver, x = run_fake({"CLARABEL": "optimal_inaccurate", "HIGHS": failure})
    assert (status, solver) == ("optimal_inaccurate", "CLARABEL")
    assert x is not None and x[0] == 1.0


def test_a_solver_exception_moves_to_the_fallback() -> None:
    failure = cp.error.SolverError("Clarabel broke")
    assert run_fake({"CLARABEL": failure, "HIGHS": "optimal"})[:2] == ("optimal", "HIGHS")


def test_every_solver_failing_raises_solver_error_with_the_cause() -> None:
    failure = cp.error.SolverError("HiGHS broke")
    with pytest.raises(SolverError, match="CLARABEL: unbounded; HIGHS: HiGHS broke") as info:
        run_fake({"CLARABEL": "unbounded", "HIGHS": failure})
    assert info.value.__cause__ is failure


def test_inaccurate_infeasibility_counts_as_infeasible_only_when_nothing_is_sure() -> None:
    status, _, x = run_fake({"CLARABEL": "infeasible_inaccurate", "HIGHS": "solver_error"})
    assert status == "infeasible" and x is None
    assert run_fake({"CLARABEL": "infeasible_inaccurate", "HIGHS": "optimal"})[0] == "optimal"


# -- diagnosis ---------------------------------------------------------------------------------


def test_diagnosis_names_the_turnover_that_stops_the_target_and_how_much_is_needed() -> None:
    data = universe(30, 3)
    lim = limits_for(data, max_turnover=0.01)
    target = Target(small_cap_share=0.40, band=0.02)
    found = diagnose(data, target, lim)
    assert [b.name for b in found.blockers] == ["max_turnover"]
    needed = found.blockers[0].needed
    assert found.blockers[0].source == "user"
    assert found.closest is not None and found.closest < 0.38
    assert found.lines()[0] == (
        f"max_turnover 0.01 allows small_cap_share {found.closest:.3f}; "
        f"reaching 0.380 needs max_turnover >= {needed:.4g}"
    )
    # About right: the suggested turnover reaches the band, 2% less does not.
    reached = solve(data, target, lim.replace(max_turnover=needed))
    assert reached.feasible
    assert abs(small_share(reached.values, data) - 0.40) <= 0.02 + 1e-6
    assert not solve(data, target, lim.replace(max_turnover=0.98 * needed)).feasible


def test_closest_is_as_close_as_the_limits_allow() -> None:
    data = universe(30, 3)
    lim = limits_for(data, max_turnover=0.05)
    target = Target(small_cap_share=0.40, band=0.0)
    found = diagnose(data, target, lim)
    assert found.closest is not None
    # A band whose lower edge sits just past `closest` is out of reach; just short of it is not.
    past = Target(small_cap_share=0.40, band=0.40 - (found.closest + 0.002))
    short = Target(small_cap_share=0.40, band=0.40 - (found.closest - 0.002))
    assert not solve(data, past, lim).feasible
    assert solve(data, short, lim).feasible


def test_diagnosis_names_every_limit_that_must_move() -> None:
    data = universe(30, 3)
    debt = checks.today(data)["floating_debt"]  # small caps carry more floating-rate debt
    lim = limits_for(data, max_turnover=0.05, floating_debt_max=debt + 0.002)
    found = diagnose(data, Target(small_cap_share=0.40, band=0.02), lim)
    names = {b.name for b in found.blockers}
    assert names == {"max_turnover", "floating_debt_max"}
    assert all("(with " in line for line in found.lines())
    relaxed = lim.replace(**{b.name: b.needed for b in found.blockers})
    assert solve(data, Target(small_cap_share=0.40, band=0.02), relaxed).feasible


def test_diagnosis_blames_the_trading_restrictions_when_no_limit_would_help() -> None:
    data = universe(30, 3)
    can_buy = pd.Series(data.values > 0, index=data.tickers)  # buy_from: holdings
    small_held = data.exposures["small_cap_share"][data.values > 0] > 0
    can_buy[small_held[small_held].index] = False
    data = dataclasses.replace(data, can_buy=can_buy)
    found = diagnose(data, Target(small_cap_share=0.40, band=0.02), limits_for(data))
    assert found.restricted
    assert "buy_from, no_buy, no_sell" in found.message()
