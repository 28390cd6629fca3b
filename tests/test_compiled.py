"""One formulation per shape, compiled once and re-bound for every account: an account's answer
does not depend on what the solver solved before it (a batch gives what a single run gives), and
the compiled problem is the plain one."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor import checks
from advisor.limits import effective_limits
from advisor.optimize import Adjust, ImpactForm, SolveOptions, Solver
from advisor.optimize.solve import run, solution
from advisor.portfolio import Limits, Target
from tests.synthetic import universe

OPTIONS = SolveOptions(solvers=("CLARABEL",))
# One compiled solver across every example: re-binding must leave nothing of the last account.
SHARED = Solver(OPTIONS)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(
    n=st.integers(5, 60),
    seed=st.integers(0, 10_000),
    target=st.sampled_from(
        [None, Target(small_cap_share=0.25, band=0.02), Target(size_score=0.2, band=0.1)]
    ),
    turnover=st.sampled_from([None, 0.15, 0.6]),
    position=st.sampled_from([None, 0.08]),
    reserve=st.sampled_from([0.0, 0.002]),
    margin=st.sampled_from([{}, {"target": 0.005, "max_position": 0.001, "cash_min": 0.001}]),
    soft=st.sampled_from([0.0, 100.0]),
)
def test_a_shared_solver_gives_what_a_fresh_one_gives_to_the_bit(
    n: int,
    seed: int,
    target: Target | None,
    turnover: float | None,
    position: float | None,
    reserve: float,
    margin: dict[str, float],
    soft: float,
) -> None:
    data = universe(n, seed)
    limits = effective_limits(Limits(max_turnover=turnover, max_position=position),
                              checks.today(data), checks.positions(data))  # fmt: skip
    frozen = frozenset(str(t) for t in data.tickers[:2])
    adjust = Adjust(reserve, margin, frozen, soft_target=soft)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a problem that is not DPP warns: make it fail here
        fresh = Solver(OPTIONS).solve(data, target, limits, adjust)
        shared = SHARED.solve(data, target, limits, adjust)
    assert shared.status == fresh.status
    np.testing.assert_array_equal(shared.values.to_numpy(), fresh.values.to_numpy())
    assert shared.terms == fresh.terms
    # The compiled problem is the plain one: solved with the numbers as constants, the same.
    form = SHARED.formulation(_inputs(data, target, limits, adjust))
    plain = solution(form, *run(form.problem(), form.x, OPTIONS.solvers, plain=True))
    assert plain.status == shared.status
    if plain.feasible:
        assert plain.objective == pytest.approx(shared.objective, rel=1e-6, abs=1e-9)
        gap = np.abs(plain.values - shared.values).max() / data.total_value
        assert gap < 1e-6


def _inputs(data: Any, target: Target | None, limits: Any, adjust: Adjust) -> Any:
    from advisor.optimize.inputs import Inputs

    return Inputs(data, target, limits, OPTIONS, adjust)


def test_one_formulation_serves_every_problem_of_a_shape() -> None:
    solver = Solver(OPTIONS)
    answers: list[Any] = []
    for seed in range(4):
        data = universe(40 + seed, seed)
        limits = effective_limits(Limits(), checks.today(data), checks.positions(data))
        answers.append(solver.solve(data, Target(small_cap_share=0.3, band=0.02), limits))
    assert len(solver._forms) == 1  # 40-43 names all pad to 64
    assert all(a.feasible for a in answers)


def test_a_formulation_is_bound_not_rebuilt_between_repairs() -> None:
    solver = Solver(OPTIONS)
    data = universe(30, 1)
    limits = effective_limits(Limits(), checks.today(data), checks.positions(data))
    target = Target(small_cap_share=0.3, band=0.02)
    solver.solve(data, target, limits)
    form = next(iter(solver._forms.values()))
    tighter = solver.solve(data, target, limits, Adjust(margins={"target": 0.01}))
    assert next(iter(solver._forms.values())) is form and len(solver._forms) == 1
    band = next(c for c in checks.check_trades(data, limits, target, tighter.trades / data.prices)
                if c.name == "target")  # fmt: skip
    assert abs(band.value - 0.3) <= 0.01 + 1e-6  # the margin took effect


@pytest.mark.parametrize(("form", "soft"), [(ImpactForm.POWER, 0.0), (ImpactForm.QUADRATIC, 100.0)])
def test_the_power_form_and_the_soft_target_match_the_problem_written_plainly(
    form: ImpactForm, soft: float
) -> None:
    """The two forms first compiled here, against tests/test_optimize.py's plain statement."""
    from tests.test_optimize import TARGET, limits_for, plain_problem

    data = universe(30, 3, impact_form=form)
    turnover = {"max_turnover": 0.03} if soft else {}  # out of reach: the penalty is at work
    lim = limits_for(data, max_position=0.15, floating_debt_max=0.05, **turnover)
    ours = Solver(OPTIONS).solve(data, TARGET, lim, Adjust(soft_target=soft))
    assert (ours.terms.get("target_miss", 0.0) > 1e-6) == bool(soft)
    plain, w = plain_problem(data, TARGET, lim, soft=soft)
    assert ours.feasible and plain.status == "optimal"
    assert ours.objective == pytest.approx(plain.value, rel=1e-4, abs=1e-8)
    np.testing.assert_allclose(ours.values / data.total_value, w.value, atol=1e-3)
