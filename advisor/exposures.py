"""Every portfolio measure, as a function of holdings' values. No cvxpy here.

A measure is the value-weighted mean of the securities' per-$ exposures: linear in values, so
`values @ table / values.sum()` gives every measure at once, funds looked through exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from advisor import measures
from advisor.measures import BANDS, RISK_COLUMNS

# Exposure column -> the JSON / table name of each risk measure.
RISK_KEYS = {m.name: m.key for m in measures.RISK_MEASURES}


@dataclass(frozen=True)
class Exposures:
    value: float  # cash + securities
    cash: float
    equity_value: float
    measures: pd.Series  # every column of the exposure table, value-weighted
    # The largest companies' look-through shares of value (concentration.largest).
    companies: Mapping[str, float] = field(default_factory=dict)

    @property
    def bands(self) -> dict[str, float]:
        return {band: float(self.measures[f"band:{band}"]) for band in BANDS}

    @property
    def small_cap_share(self) -> float:
        return float(self.measures["small_cap_share"])

    @property
    def size_score(self) -> float:
        return float(self.measures["size_score"])

    @property
    def geometric_mean_cap(self) -> float:
        """Value-weighted geometric mean market cap of the stocks held (look-through)."""
        return float(np.exp(self.measures["log_market_cap"]))

    @property
    def sectors(self) -> dict[str, float]:
        return {
            c.split(":", 1)[1]: float(v)
            for c, v in self.measures.items()
            if c.startswith("sector:") and v > 0
        }

    def risk(self, measure: str) -> float:
        return float(self.measures[measure])

    @property
    def estimated_share(self) -> dict[str, float]:
        """Per measure, the share of equity value whose figure rests on an estimate."""
        shares = {"size": float(self.measures["est:size"])}
        shares.update({RISK_KEYS[m]: float(self.measures[f"est:{m}"]) for m in RISK_COLUMNS})
        return shares


def portfolio_exposures(values: pd.Series, cash: float, table: pd.DataFrame) -> Exposures:
    """Measures of holdings worth `values` ($ by ticker) plus `cash`, from a per-$ table."""
    values = values[values != 0]
    equity = float(values.sum())
    if equity > 0:
        measures = values @ table.loc[values.index] / equity
    else:
        measures = pd.Series(0.0, index=table.columns)
    return Exposures(value=equity + cash, cash=cash, equity_value=equity, measures=measures)
