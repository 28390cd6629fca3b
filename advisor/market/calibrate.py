"""Estimation rules calibrated to published aggregates.

A measure without company data is estimated as link(a + b * z), z being the size score. The two
coefficients are chosen so that two groups' weighted averages hit two published figures, e.g.
"about 40% of Russell 2000 companies are unprofitable against about 6% of the S&P 500".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, least_squares

Link = Callable[[np.ndarray], np.ndarray]


def logistic(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


@dataclass(frozen=True)
class Anchor:
    """A published aggregate: the weighted mean of a measure over a group should be `target`."""

    label: str
    z: np.ndarray
    weights: np.ndarray
    target: float

    def mean(self, values: np.ndarray) -> float:
        return float(self.weights @ values / self.weights.sum())


def fit_two_anchors(link: Link, first: Anchor, second: Anchor) -> tuple[float, float]:
    """(a, b) such that each anchor's weighted mean of link(a + b z) equals its target."""

    def residuals(p: np.ndarray) -> list[float]:
        return [
            anchor.mean(link(p[0] + p[1] * anchor.z)) - anchor.target for anchor in (first, second)
        ]

    fit = least_squares(residuals, x0=np.zeros(2), xtol=1e-12, ftol=1e-12)
    if np.max(np.abs(fit.fun)) > 1e-6:
        raise ValueError(f"calibration to {first.label} and {second.label} did not converge")
    return float(fit.x[0]), float(fit.x[1])


def fit_ratio(base: Callable[[float], tuple[float, float]], ratio: float) -> float:
    """g such that base(g) = (small group mean, large group mean) has the given ratio."""
    return float(brentq(lambda g: base(g)[0] / base(g)[1] - ratio, -5.0, 5.0, xtol=1e-12))
