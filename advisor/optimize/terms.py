"""Objective terms: each a small object that owns its cvxpy parameters, binds one account's
numbers to them, and is called on the trade `dx` (a share of today's value V).

`term(dx)` takes a numpy array or a cvxpy expression, so the same code states the problem and
reports the figures of a solution afterwards. `term.in_problem(x, dx)` is the form a compiled
problem is built from: the quadratic terms put their square on a variable of its own, so that
the squared part holds no parameter and stays a QP's objective (a parameter inside a square
makes cones of it, about four times slower). All terms are in units of V and zero at dx = 0.
"""

from __future__ import annotations

from typing import Any, Protocol

import cvxpy as cp
import numpy as np

from advisor.optimize.data import REFERENCE_PARTICIPATION, ImpactForm
from advisor.optimize.inputs import Inputs, Part

Vector = Any  # a numpy array or a cvxpy expression


class Term(Protocol):
    @property
    def name(self) -> str: ...

    def bind(self, inputs: Inputs) -> None: ...

    def __call__(self, dx: Vector) -> Any: ...

    def in_problem(self, x: cp.Variable, dx: cp.Variable) -> tuple[Any, list[Any]]: ...


def _is_expr(x: Vector) -> bool:
    return isinstance(x, cp.Expression)


def _abs(x: Vector) -> Any:
    return cp.abs(x) if _is_expr(x) else np.abs(x)


def _sum_squares(x: Vector) -> Any:
    return cp.sum_squares(x) if _is_expr(x) else float(np.dot(x, x))


def _sum(x: Vector) -> Any:
    return cp.sum(x) if _is_expr(x) else float(np.sum(x))


class SpreadCost(Part):
    """Half the bid-ask spread on every dollar traded."""

    name = "spread"

    def __init__(self, n: int) -> None:
        self.half_spread = cp.Parameter(n, nonneg=True, name="half_spread")

    def bind(self, inputs: Inputs) -> None:
        self.half_spread.value = inputs.pad(inputs.data.half_spread)

    def __call__(self, dx: Vector) -> Any:
        return self.coef(self.half_spread, dx) @ _abs(dx)

    def in_problem(self, x: cp.Variable, dx: cp.Variable) -> tuple[Any, list[Any]]:
        return self(dx), []


class ImpactCost(Part):
    """Market impact, growing faster than linearly in trade size: c_i * |dx_i| ** power
    (`coefficient`); quadratic, compiled: (root_i dx_i) ** 2 with root = sqrt(c)."""

    name = "impact"

    def __init__(self, n: int, power: float) -> None:
        self.power = power
        self.root = cp.Parameter(n, nonneg=True, name="impact_root")  # power 2
        self.coefficient = cp.Parameter(n, nonneg=True, name="impact_coef")  # power 1.5

    def bind(self, inputs: Inputs) -> None:
        data = inputs.data
        adv = data.adv.to_numpy(dtype=float)
        if data.impact_form is ImpactForm.QUADRATIC:
            per = data.impact_coef / np.sqrt(REFERENCE_PARTICIPATION) * inputs.total / adv
        else:
            per = data.impact_coef * np.sqrt(inputs.total / adv)
        self.coefficient.value = inputs.pad(per)
        self.root.value = inputs.pad(np.sqrt(per))

    def __call__(self, dx: Vector) -> Any:
        if not _is_expr(dx):
            return self.coef(self.coefficient, dx) @ np.abs(dx) ** self.power
        if self.power == 2:
            return self.coef(self.coefficient, dx) @ cp.square(dx)
        return self.coef(self.coefficient, dx) @ cp.power(cp.abs(dx), self.power)

    def in_problem(self, x: cp.Variable, dx: cp.Variable) -> tuple[Any, list[Any]]:
        if self.power != 2:
            return self(dx), []
        scaled = cp.Variable(dx.shape, name="impact_scaled")
        return cp.sum_squares(scaled), [scaled == cp.multiply(self.root, dx)]


def _times(a: Any, dx: Vector) -> Any:
    return cp.multiply(a, dx) if _is_expr(dx) else a * dx


class RiskChange(Part):
    """Risk aversion x the variance of the trade itself: (dx)' (B F B' + S) (dx).

    Zero when nothing trades, and it grows with how far the trades move the portfolio's risk
    profile from today's. Kept in factor form: `root` is sqrt(aversion) G B' with G'G = F
    (k x n), never n x n.
    """

    name = "risk"

    def __init__(self, n: int, factors: int, aversion: float) -> None:
        self.aversion = aversion
        self.root = cp.Parameter((factors, n), name="risk_root")
        self.specific_sd = cp.Parameter(n, nonneg=True, name="specific_sd")

    def bind(self, inputs: Inputs) -> None:
        data = inputs.data
        scale = np.sqrt(self.aversion)
        root = factor_root(data.factor_cov.to_numpy(dtype=float))
        exposure_root = root @ data.loadings.to_numpy(dtype=float).T
        padded = np.zeros(self.root.shape)
        padded[:, : data.n] = scale * exposure_root
        self.root.value = padded
        self.specific_sd.value = inputs.pad(scale * np.sqrt(data.specific_var.to_numpy(float)))

    def __call__(self, dx: Vector) -> Any:
        factor = self.coef(self.root, dx, axis=1) @ dx
        specific = _times(self.coef(self.specific_sd, dx), dx)
        return _sum_squares(factor) + _sum_squares(specific)

    def in_problem(self, x: cp.Variable, dx: cp.Variable) -> tuple[Any, list[Any]]:
        factor = cp.Variable(self.root.shape[0], name="risk_factor")
        specific = cp.Variable(dx.shape, name="risk_specific")
        rules = [factor == self.root @ dx, specific == cp.multiply(self.specific_sd, dx)]
        return cp.sum_squares(factor) + cp.sum_squares(specific), rules


class TargetPull(Part):
    """A small pull toward the target's centre: weight * ((e - target)' x) ** 2, x = x0 + dx.

    (e - target)' x is (measure - target) x equity share, linear in x; the pull breaks ties
    inside the band and leaves a margin for rounding to whole shares.
    """

    name = "target_pull"

    def __init__(self, n: int, weight: float) -> None:
        self.weight = weight
        self.gap = cp.Parameter(n, name="gap")
        self.x0 = cp.Parameter(n, name="pull_x0")

    def bind(self, inputs: Inputs) -> None:
        self.gap.value = inputs.pad(inputs.target_gap)
        self.x0.value = inputs.pad(inputs.x0)

    def __call__(self, dx: Vector) -> Any:
        miss = self.coef(self.gap, dx) @ (self.coef(self.x0, dx) + dx)
        return self.weight * (cp.square(miss) if _is_expr(miss) else float(miss) ** 2)

    def in_problem(self, x: cp.Variable, dx: cp.Variable) -> tuple[Any, list[Any]]:
        miss = cp.Variable(name="target_miss")
        return self.weight * cp.square(miss), [miss == self.gap @ x]


class TargetMiss(Part):
    """The target band as a soft penalty: weight x how far (e - target)' x lies outside
    +-band x 1'x. Used for the best proposal when the target is out of reach. The weight is
    folded into the gap and the band, so no parameter multiplies another (as DPP requires)."""

    name = "target_miss"

    def __init__(self, n: int) -> None:
        self.gap = cp.Parameter(n, name="miss_gap")  # weight x (e - target)
        self.x0 = cp.Parameter(n, name="miss_x0")
        self.band = cp.Parameter(nonneg=True, name="miss_band")  # weight x band

    def bind(self, inputs: Inputs) -> None:
        weight = inputs.adjust.soft_target
        self.gap.value = inputs.pad(weight * inputs.target_gap)
        self.x0.value = inputs.pad(inputs.x0)
        self.band.value = weight * inputs.target_band

    def __call__(self, dx: Vector) -> Any:
        x = self.coef(self.x0, dx) + dx
        outside = _abs(self.coef(self.gap, dx) @ x) - self.coef(self.band, dx) * _sum(x)
        return cp.pos(outside) if _is_expr(dx) else max(float(outside), 0.0)

    def in_problem(self, x: cp.Variable, dx: cp.Variable) -> tuple[Any, list[Any]]:
        return cp.pos(cp.abs(self.gap @ x) - self.band * cp.sum(x)), []


class CashDrift(Part):
    """weight x how far cash moves from today's share (kept within cash_min and cash_max): cash
    is not a lever. Selling to cash is a cheap way to lift a ratio to equity, and spending it
    saves the cost of a sale, but a rotation keeps the cash it had."""

    name = "cash_drift"

    def __init__(self, weight: float) -> None:
        self.weight = weight
        self.cash = cp.Parameter(name="cash")  # today's cash, share of V
        self.anchor = cp.Parameter(name="cash_anchor")  # where cash is meant to stay

    def bind(self, inputs: Inputs) -> None:
        cash = inputs.data.cash / inputs.total
        limits = inputs.limits
        self.cash.value = cash
        self.anchor.value = min(max(cash, limits.cash_min), limits.cash_max)

    def __call__(self, dx: Vector) -> Any:
        moved = self.coef(self.cash, dx) - _sum(dx) - self.coef(self.anchor, dx)
        return self.weight * _abs(moved)

    def in_problem(self, x: cp.Variable, dx: cp.Variable) -> tuple[Any, list[Any]]:
        return self(dx), []


def factor_root(cov: np.ndarray) -> np.ndarray:
    """G with G'G = cov, for a symmetric positive semidefinite cov (tiny negatives clipped)."""
    eigval, eigvec = np.linalg.eigh((cov + cov.T) / 2)
    root: np.ndarray = np.sqrt(np.clip(eigval, 0.0, None))[:, None] * eigvec.T
    return root


def objective(terms: list[Any], dx: Vector) -> Any:
    """The sum of the terms at dx."""
    return sum((term(dx) for term in terms), start=0.0)
