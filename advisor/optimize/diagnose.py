"""Diagnosis when the target and the limits cannot all be met.

Two problems, both found by solving, not by guessing:

1. closest: how near the target the hard limits allow, min |m - target| with m = e'x / 1'x a
   ratio, solved exactly by Dinkelbach's method (a few LPs).
2. needs: the target made hard again and every limit given a nonnegative slack with a cost (its
   relative size); each limit whose slack is > 0 must move, and the portfolio found says to
   what value. Trading restrictions (no_buy, no_sell, buy_from, order caps) get no slack: if
   even that problem is infeasible, they are what stops the target.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import cvxpy as cp
import numpy as np

from advisor.enums import Sense
from advisor.limits import EffectiveLimits
from advisor.optimize.data import ProblemData
from advisor.optimize.inputs import Adjust, Inputs
from advisor.optimize.problem import Formulation
from advisor.optimize.solve import Solver, run
from advisor.portfolio import Target

SLACK_TOL = 1e-7  # a slack (share of V) above this means the limit must move
DINKELBACH_STEPS = 30


@dataclass(frozen=True)
class Blocker:
    """A limit that stops the target, and the value that would let the target be reached."""

    name: str
    limit: float
    needed: float
    sense: Sense  # MAX: needs `name` >= needed; MIN: needs `name` <= needed
    source: str

    def needs(self) -> str:
        if self.sense == Sense.MIN and self.needed <= 0:
            return f"{self.name} 0 (none kept)"  # a floor goes no lower
        return f"{self.name} {'>=' if self.sense == Sense.MAX else '<='} {self.needed:.4g}"


@dataclass(frozen=True)
class Diagnosis:
    measure: str | None
    target: float | None
    band: float | None
    closest: float | None  # nearest measure value the hard limits allow (None: limits conflict)
    edge: float | None  # the band edge the blockers' values reach
    blockers: tuple[Blocker, ...]
    restricted: bool  # unreachable even with every limit relaxed
    whole_shares: bool = False  # reachable in the continuum, not in whole shares
    sizes: str = ""  # what rounds the trades: whole shares and the minimum sizes, told

    def lines(self) -> list[str]:
        """The diagnosis in the user's words, one finding a line."""
        if self.whole_shares:
            return [self._rounding_line()]
        if self.restricted:
            goal = f"{self.measure} {self.edge:.3f}" if self.measure else "every limit"
            return [
                f"even with every limit relaxed, {goal} cannot be reached: what may be traded "
                "(buy_from, no_buy, no_sell, order-size caps, keeping half of today's equity "
                "invested) does not allow it"
            ]
        if not self.blockers:
            return ["the limits allow the target; nothing to relax"]
        needs = " and ".join(b.needs() for b in self.blockers)
        if self.measure is None:
            return [f"the limits cannot all be met together; meeting them needs {needs}"]
        if self.closest is None:
            return [
                f"the limits cannot all be met together, even leaving the target aside; "
                f"meeting them with {self.measure} at {self.edge:.3f} needs {needs}"
            ]
        out = []
        joint = len(self.blockers) > 1
        for b in self.blockers:
            line = (
                f"{b.name} {b.limit:.4g} allows {self.measure} {self.closest:.3f}; "
                f"reaching {self.edge:.3f} needs {b.needs()}"
            )
            if joint:
                others = " and ".join(o.needs() for o in self.blockers if o is not b)
                line += f" (with {others})"
            out.append(line)
        return out

    def _rounding_line(self) -> str:
        where = self.sizes or "whole shares"
        if not self.blockers:
            if self.measure is None:
                reach = "the limits cannot all be kept"
            elif self.closest is None or not math.isfinite(self.closest):
                reach = f"no trade list reaches {self.measure} {self.edge:.3f}"
            else:
                reach = f"{self.measure} reaches {self.closest:.3f}, not {self.edge:.3f}"
            return (
                f"{where} stop it: {reach}; lower min_trade_value, min_trade_share or "
                "min_position, or allow cheaper securities (buy_from)"
            )
        needs = " and ".join(b.needs() for b in self.blockers)
        names = " and ".join(f"{b.name} {b.limit:.4g}" for b in self.blockers)
        if self.measure is None:
            return f"{where} cannot keep {names}; the closest attempt needs {needs}"
        allows = f" allows {self.measure} {self.closest:.3f};" if self.closest is not None else ""
        return f"{names}{allows} reaching {self.measure} {self.edge:.3f} with {where} needs {needs}"

    def message(self) -> str:
        return "; ".join(self.lines())

    def best_target(self) -> Target | None:
        """The target with its band widened to what the limits allow (for the best proposal)."""
        if self.measure is None or self.closest is None or self.target is None:
            return None
        assert self.band is not None
        reach = abs(self.closest - self.target) + max(1e-3, 0.05 * self.band)
        # Not validated: the widened band may exceed the band a user may write.
        fields: dict[str, Any] = {self.measure: self.target, "band": reach}
        return Target.model_construct(**fields)


def names_diagnosis(
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    solver: Solver,
    restricted: Adjust,
    needed: int,
) -> Diagnosis:
    """max_names is what stops the target: `needed` names (the relaxation's) meet every rule;
    the closest the target comes with the names kept is found as in `diagnose`."""
    found = diagnose(data, target, limits, solver, restricted)
    assert limits.max_names is not None
    blocker = Blocker("max_names", limits.max_names, needed, Sense.MAX, limits.source("max_names"))
    return dataclasses.replace(found, blockers=(blocker,), restricted=False)


def rounding_diagnosis(
    target: Target | None,
    blockers: tuple[Blocker, ...],
    closest: float | None = None,
    sizes: str = "",
) -> Diagnosis:
    """The target and limits meet in the continuum but whole shares and the minimum trade
    sizes (`sizes`, told) cannot keep `blockers` (each with the value the closest whole-share
    attempt reached)."""
    rounded = tuple(dataclasses.replace(b, needed=outward(b.needed, b.sense)) for b in blockers)
    if target is None:
        return Diagnosis(None, None, None, None, None, rounded, False, True, sizes)
    below = closest is None or closest < target.value
    edge = target.value - target.band if below else target.value + target.band
    return Diagnosis(
        target.measure, target.value, target.band, closest, edge, rounded, False, True, sizes
    )


def diagnose(
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    solver: Solver | None = None,
    adjust: Adjust | None = None,
) -> Diagnosis:
    """Why the target and the limits cannot all be met, and what would have to move."""
    solver = solver or Solver()
    options = solver.options
    form = solver.formulation(Inputs(data, target, limits, options, solver.known(data, adjust)))
    closest = _closest(form, target, options.solvers) if target is not None else None
    slacks = {limit.name: cp.Variable(nonneg=True, name=limit.name) for limit in form.limits}
    cost = sum((s / max(abs(_limit(form, name)), 0.01) for name, s in slacks.items()), start=0.0)
    # A floor moves at most to zero (cash_min 0), never below: no suggestion is negative.
    floors = [slacks[m.name] <= max(m.limit, 0.0) for m in form.limits if m.sense == Sense.MIN]
    problem = cp.Problem(cp.Minimize(cost), form.constraints(slacks) + floors)
    _, _, x = run(problem, form.x, options.solvers)
    measure = target.measure if target is not None else None
    value = target.value if target is not None else None
    band = target.band if target is not None else None
    edge = None
    if target is not None:
        below = closest is None or closest < target.value
        edge = target.value - target.band if below else target.value + target.band
    if x is None:
        return Diagnosis(measure, value, band, closest, edge, (), restricted=True)
    x = x[: data.n]  # the padding holds nothing
    blockers = []
    for limit in form.limits:
        slack = slacks[limit.name].value
        if slack is None or float(slack) <= SLACK_TOL:
            continue
        level = limit.level(x, x - form.x0)
        needed = outward(level, limit.sense)
        blockers.append(
            Blocker(limit.name, limit.limit, needed, limit.sense, limits.source(limit.name))
        )
    return Diagnosis(measure, value, band, closest, edge, tuple(blockers), restricted=False)


def _limit(form: Formulation, name: str) -> float:
    return next(limit.limit for limit in form.limits if limit.name == name)


def outward(level: float, sense: Sense) -> float:
    """`level` rounded at the 4th decimal away from the limit, so that it is surely enough."""
    scaled = level * 1e4
    return (math.ceil(scaled - 1e-6) if sense == Sense.MAX else math.floor(scaled + 1e-6)) / 1e4


def _closest(form: Formulation, target: Target, solvers: tuple[str, ...]) -> float | None:
    """min |m(x) - target| over the hard limits, m = e'x / 1'x, by Dinkelbach's iteration
    (over the padded names, which hold nothing and cannot trade)."""
    assert form.inputs is not None
    gap = form.inputs.pad(form.inputs.target_gap)  # the formulation is bound to `target`
    x = form.x
    hard = form.constraints(with_target=False)
    _, _, point = run(cp.Problem(cp.Minimize(form.objective()), hard), x, solvers)
    if point is None:
        return None
    ratio = _distance(gap, point)
    for _ in range(DINKELBACH_STEPS):
        objective: Any = cp.abs(gap @ x) - ratio * cp.sum(x)
        _, _, found = run(cp.Problem(cp.Minimize(objective), hard), x, solvers)
        if found is None:
            break
        value = abs(float(gap @ found)) - ratio * float(found.sum())
        point = found if _distance(gap, found) <= ratio else point
        ratio = _distance(gap, point)
        if value >= -1e-9:
            break
    equity = float(point.sum())
    return float(form.inputs.pad(form.data.exposure(target.measure)) @ point) / equity


def _distance(gap: np.ndarray, x: np.ndarray) -> float:
    return abs(float(gap @ x)) / max(float(x.sum()), 1e-12)
