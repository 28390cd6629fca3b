"""Objective terms: each a small object called on the trade `dx` (a share of today's value V).

Every term accepts a numpy array or a cvxpy expression, so the same code builds the problem and
reports the figures of a solution afterwards. All terms are in units of V (0.001 = 0.1% of V)
and are zero at dx = 0, so a portfolio with nothing to do costs nothing to leave alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import cvxpy as cp
import numpy as np

from advisor.optimize.data import REFERENCE_PARTICIPATION, ImpactForm, ProblemData

Vector = Any  # a numpy array or a cvxpy expression


class Term(Protocol):
    @property
    def name(self) -> str: ...

    def __call__(self, dx: Vector) -> Any: ...


def _is_expr(x: Vector) -> bool:
    return isinstance(x, cp.Expression)


def _abs(x: Vector) -> Any:
    return cp.abs(x) if _is_expr(x) else np.abs(x)


def _sum_squares(x: Vector) -> Any:
    return cp.sum_squares(x) if _is_expr(x) else float(np.dot(x, x))


@dataclass(frozen=True)
class SpreadCost:
    """Half the bid-ask spread on every dollar traded."""

    half_spread: np.ndarray
    name: str = "spread"

    def __call__(self, dx: Vector) -> Any:
        return self.half_spread @ _abs(dx)


@dataclass(frozen=True)
class ImpactCost:
    """Market impact, growing faster than linearly in trade size: coef_i * |dx_i| ** power."""

    coef: np.ndarray
    power: float
    name: str = "impact"

    def __call__(self, dx: Vector) -> Any:
        if not _is_expr(dx):
            return self.coef @ np.abs(dx) ** self.power
        if self.power == 2:
            return self.coef @ cp.square(dx)
        return self.coef @ cp.power(cp.abs(dx), self.power)

    @classmethod
    def of(cls, data: ProblemData) -> ImpactCost:
        """Impact of a trade dx (share of V): the data's dollar formula divided by V."""
        total = data.total_value
        adv = data.adv.to_numpy(dtype=float)
        if data.impact_form is ImpactForm.QUADRATIC:
            coef = data.impact_coef / np.sqrt(REFERENCE_PARTICIPATION) * total / adv
            return cls(coef, 2.0)
        return cls(data.impact_coef * np.sqrt(total / adv), 1.5)


@dataclass(frozen=True)
class RiskChange:
    """Risk aversion x the variance of the trade itself: (dx)' (B F B' + S) (dx).

    Zero when nothing trades, and it grows with how far the trades move the portfolio's risk
    profile from today's. Kept in factor form: `root` is G B' with G'G = F (k x n), never n x n.
    """

    root: np.ndarray
    specific_sd: np.ndarray
    aversion: float
    name: str = "risk"

    def __call__(self, dx: Vector) -> Any:
        factor = self.root @ dx
        specific = cp.multiply(self.specific_sd, dx) if _is_expr(dx) else self.specific_sd * dx
        return self.aversion * (_sum_squares(factor) + _sum_squares(specific))

    @classmethod
    def of(cls, data: ProblemData, aversion: float) -> RiskChange:
        root = factor_root(data.factor_cov.to_numpy(dtype=float))
        exposure_root = root @ data.loadings.to_numpy(dtype=float).T
        return cls(exposure_root, np.sqrt(data.specific_var.to_numpy(dtype=float)), aversion)


@dataclass(frozen=True)
class TargetPull:
    """A small pull toward the target's centre: weight * ((e - target)' x) ** 2, x = x0 + dx.

    (e - target)' x is (measure - target) x equity share, linear in x; the pull breaks ties
    inside the band and leaves a margin for rounding to whole shares.
    """

    gap: np.ndarray
    x0: np.ndarray
    weight: float
    name: str = "target_pull"

    def __call__(self, dx: Vector) -> Any:
        miss = self.gap @ (self.x0 + dx)
        return self.weight * (cp.square(miss) if _is_expr(miss) else float(miss) ** 2)


@dataclass(frozen=True)
class TargetMiss:
    """The target band as a soft penalty: weight x how far (e - target)' x lies outside
    +-band x 1'x. Used for the best proposal when the target is out of reach."""

    gap: np.ndarray
    x0: np.ndarray
    band: float
    weight: float
    name: str = "target_miss"

    def __call__(self, dx: Vector) -> Any:
        x = self.x0 + dx
        if _is_expr(dx):
            return self.weight * cp.pos(cp.abs(self.gap @ x) - self.band * cp.sum(x))
        return self.weight * max(abs(float(self.gap @ x)) - self.band * float(x.sum()), 0.0)


@dataclass(frozen=True)
class CashDrift:
    """weight x the cash raised above max(today's cash, the floor): a rotation keeps money
    invested, so selling to cash (a cheap way to lift a ratio to equity) is not free."""

    cash: float  # today's cash, share of V
    ceiling: float  # cash share that is free to keep: max(today's, the floor)
    weight: float
    name: str = "cash_drift"

    def __call__(self, dx: Vector) -> Any:
        raised = self.cash - (cp.sum(dx) if _is_expr(dx) else float(np.sum(dx))) - self.ceiling
        return self.weight * (cp.pos(raised) if _is_expr(dx) else max(float(raised), 0.0))


def factor_root(cov: np.ndarray) -> np.ndarray:
    """G with G'G = cov, for a symmetric positive semidefinite cov (tiny negatives clipped)."""
    eigval, eigvec = np.linalg.eigh((cov + cov.T) / 2)
    root: np.ndarray = np.sqrt(np.clip(eigval, 0.0, None))[:, None] * eigvec.T
    return root


def objective(terms: list[Any], dx: Vector) -> Any:
    """The sum of the terms at dx."""
    return sum((term(dx) for term in terms), start=0.0)
