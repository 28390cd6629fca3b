"""Repair after rounding: when whole shares break a rule the solution kept, the next solve aims
inside that rule by what rounding cost it, reserves the realised costs and freezes the trades
rounding dropped."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Final

import pandas as pd

from advisor import checks
from advisor.checks import Check
from advisor.enums import Sense
from advisor.limits import RISK_LIMITS, EffectiveLimits
from advisor.optimize.data import ProblemData
from advisor.optimize.inputs import Adjust
from advisor.optimize.solve import Solution
from advisor.portfolio import Target
from advisor.trades.rounding import minimum

MAX_REPAIRS: Final = 8
# Rules the repair can aim inside of by a margin (others hold by construction).
MARGINS: Final = (
    *RISK_LIMITS,
    "max_turnover",
    "max_position",
    "max_fund_position",
    "sector_drift_max",
    "cash_min",
    "cash_max",
    "equity_kept",
    "target",
    "gains_budget",
)
_FLOORS: Final = ("cash_min", "equity_kept")


def sense(name: str) -> Sense:
    """Which way the rule of a check binds."""
    return Sense.MIN if name in _FLOORS else Sense.MAX


@dataclass(frozen=True)
class Rounded:
    """A solution rounded to whole shares over `data`: its quantities, the small trades
    rounding dropped (their signs), and the checks of the result."""

    data: ProblemData
    solution: Solution
    quantities: pd.Series
    dropped: pd.Series
    checks: list[Check]

    def tightened(self, adjust: Adjust, target: Target | None, limits: EffectiveLimits) -> Adjust:
        """Aim inside each failed rule by what rounding cost it: at least half a share of the
        dearest security traded, else 1.5 x the miss, doubling if it fails again. Reserve the
        realised costs; freeze the trades rounding dropped."""
        data, quantities = self.data, self.quantities
        total = data.total_value
        realised = float(checks.trade_costs(data, quantities).sum()) / total
        reserve = max(adjust.reserve, 1.1 * realised)
        traded = quantities[quantities != 0].index
        share = float(data.prices[traded].max()) / total if len(traded) else 0.0
        exact = dataclasses.replace(limits, whole_shares=False)
        wanted = self.solution.trades / data.prices
        smooth = {c.name: c for c in checks.check_trades(data, exact, target, wanted)}
        margins = dict(adjust.margins)
        for check in checks.failures(self.checks):
            if check.name not in MARGINS:
                continue
            missed = excess(check, target)
            shift = missed - excess(smooth[check.name], target)
            if not math.isfinite(missed) or not math.isfinite(shift):
                continue  # a ratio with no equity to measure it on: no margin helps it
            old = margins.get(check.name, 0.0)
            margins[check.name] = max(old + 1.5 * missed, 1.5 * shift, 2 * old, 0.5 * share)
            margins[check.name] += 1e-6
        frozen = adjust.frozen | frozenset(str(t) for t in self.dropped.index)
        return dataclasses.replace(adjust, reserve=reserve, margins=margins, frozen=frozen)

    def at_least(self, limits: EffectiveLimits, adjust: Adjust) -> Adjust:
        """Instead of freezing the dropped trades (which went too far), ask for them at
        minimum size."""
        half = 0.51 * self.data.prices * limits.whole_shares  # still the minimum once rounded
        size = 1.02 * (minimum(self.data, limits) + half) / self.data.total_value
        least = {str(t): size[t] if s > 0 else -size[t] for t, s in self.dropped.items()}
        return dataclasses.replace(adjust, frozen=frozenset(), at_least=least)


def excess(check: Check, target: Target | None) -> float:
    """How far past its rule a check's value is (negative: inside), in the rule's units."""
    if sense(check.name) is Sense.MIN:
        return check.limit - check.value
    if check.name == "target" and target is not None:
        return abs(check.value - target.value) - target.band
    return check.value - check.limit
