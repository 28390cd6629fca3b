"""The compiled, parameterized problem is the plain one: same optimum, same answer, re-used."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor import checks
from advisor.limits import effective_limits
from advisor.optimize import compiled
from advisor.optimize.problem import Adjust, SolveOptions, build
from advisor.optimize.solve import run, solution
from advisor.portfolio import Limits, Target
from tests.synthetic import universe

OPTIONS = SolveOptions(solvers=("CLARABEL",))


@pytest.fixture(autouse=True)
def reuse() -> Any:
    compiled.reuse()
    yield
    compiled.reuse(False)


def both(data: Any, target: Target | None, limits: Any, adjust: Adjust) -> tuple[Any, Any]:
    form = build(data, target, limits, OPTIONS, adjust)
    assert compiled.fits(form)
    plain = solution(form, *run(form.problem(), form.x, OPTIONS.solvers))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a problem that is not DPP warns: make it fail here
        reused = solution(form, *compiled.solve(form, OPTIONS))
    return plain, reused


@pytest.mark.slow
@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(
    n=st.integers(5, 60),
    seed=st.integers(0, 10_000),
    target=st.sampled_from([None, Target(small_cap_share=0.25, band=0.02),
                            Target(size_score=0.2, band=0.1)]),
    turnover=st.sampled_from([None, 0.15, 0.6]),
    position=st.sampled_from([None, 0.08]),
    reserve=st.sampled_from([0.0, 0.002]),
    margin=st.sampled_from([{}, {"target": 0.005, "max_position": 0.001, "cash_min": 0.001}]),
)
def test_the_compiled_problem_reaches_the_plain_problems_optimum(
    n: int, seed: int, target: Target | None, turnover: float | None, position: float | None,
    reserve: float, margin: dict[str, float],
) -> None:
    data = universe(n, seed)
    limits = effective_limits(Limits(max_turnover=turnover, max_position=position),
                              checks.today(data), checks.weights(data))  # fmt: skip
    frozen = frozenset(str(t) for t in data.tickers[:2])
    plain, reused = both(data, target, limits, Adjust(reserve, margin, frozen))
    assert plain.status == reused.status
    if plain.feasible:
        assert reused.objective == pytest.approx(plain.objective, rel=1e-5, abs=1e-8)
        gap = np.abs(reused.values - plain.values).max() / data.total_value
        assert gap < 1e-3  # the same portfolio, to solver accuracy


def test_one_compile_serves_every_problem_of_a_size() -> None:
    compiled._CACHE.clear()
    for seed in range(4):
        data = universe(40 + seed, seed)
        limits = effective_limits(Limits(), checks.today(data), checks.weights(data))
        form = build(data, Target(small_cap_share=0.3, band=0.02), limits, OPTIONS)
        compiled.solve(form, OPTIONS)
    assert len(compiled._CACHE) == 1  # 40-43 names all pad to 64


def test_large_soft_and_power_problems_and_single_accounts_are_built_afresh() -> None:
    data = universe(compiled.MAX_NAMES + 1, 1)
    limits = effective_limits(Limits(), checks.today(data), checks.weights(data))
    assert not compiled.fits(build(data, None, limits, OPTIONS))
    small = universe(30, 1)
    limits = effective_limits(Limits(), checks.today(small), checks.weights(small))
    soft = Adjust(soft_target=100.0)
    assert not compiled.fits(build(small, Target(small_cap_share=0.3), limits, OPTIONS, soft))
    compiled.reuse(False)
    assert not compiled.fits(build(small, Target(small_cap_share=0.3), limits, OPTIONS))
