"""Estimation rules calibrated to published aggregates.

A measure without company data is estimated as link(a + b * z), z being the size score. The two
coefficients are chosen so that two groups' weighted averages hit two published figures, e.g.
"about 40% of Russell 2000 companies are unprofitable against about 6% of the S&P 500".

The averages are taken over the figures the tool uses: where a company reports the figure, it
enters the anchor as a fixed part (`fixed`, with `scale` 0), so the fit moves only the estimates
and the blend of reported and estimated figures hits the target.
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
    # Each member's figure is fixed + scale x link(a + b z): fixed 0 and scale 1 where the
    # figure is wholly estimated, scale 0 where it is reported.
    fixed: np.ndarray | float = 0.0
    scale: np.ndarray | float = 1.0

    def mean(self, values: np.ndarray) -> float:
        return float(self.weights @ values / self.weights.sum())

    def blended(self, link: Link, a: float, b: float) -> float:
        """The weighted mean of the figures the tool uses under coefficients (a, b)."""
        return self.mean(self.fixed + self.scale * link(a + b * self.z))

    def reachable(self) -> tuple[float, float]:
        """The lowest and highest blended mean any estimate in [0, 1] can give."""
        lowest = np.zeros_like(self.z) + self.fixed
        return self.mean(lowest), self.mean(lowest + self.scale)


@dataclass(frozen=True)
class Fit:
    a: float
    b: float
    achieved: dict[str, float]  # each anchor's blended mean under (a, b)


def fit_two_anchors(link: Link, first: Anchor, second: Anchor) -> tuple[float, float]:
    """(a, b) such that each anchor's blended mean equals its target."""
    fit = fit_blended(link, first, second)
    if max(abs(fit.achieved[x.label] - x.target) for x in (first, second)) > 1e-6:
        raise ValueError(f"calibration to {first.label} and {second.label} did not converge")
    return fit.a, fit.b


def fit_blended(link: Link, first: Anchor, second: Anchor) -> Fit:
    """The (a, b) whose blended means come nearest the targets (least squares).

    Where reported figures alone put a target out of reach, the fit gets as close as the rule
    allows and `achieved` states where it landed. The coefficients are bounded so that an
    unreachable target gives a steep curve rather than an unbounded one."""

    def residuals(p: np.ndarray) -> list[float]:
        return [anchor.blended(link, p[0], p[1]) - anchor.target for anchor in (first, second)]

    fit = least_squares(
        residuals, x0=np.zeros(2), bounds=([-20, -20], [20, 20]), xtol=1e-12, ftol=1e-12
    )
    a, b = float(fit.x[0]), float(fit.x[1])
    return Fit(a, b, {x.label: x.blended(link, a, b) for x in (first, second)})


def fit_ratio(base: Callable[[float], tuple[float, float]], ratio: float) -> float:
    """g such that base(g) = (small group mean, large group mean) has the given ratio."""
    return float(brentq(lambda g: base(g)[0] / base(g)[1] - ratio, -5.0, 5.0, xtol=1e-12))
