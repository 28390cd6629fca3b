"""Effective limits: what the user wrote, else the documented default.

The rule: a default never forces a trade on its own. Where the user left a limit out and today's
portfolio is already beyond the default, the effective limit is loosened to today's level, so the
default can stop a trade from making things worse but never demands a trade to make them better.
A limit the user wrote is enforced as written, even when it forces trades.

How each default is loosened:

- the risk limits (refinancing, floating debt, weak coverage, unprofitable, economic
  sensitivity): to today's value of the measure;
- max_position: a security already above the default may be kept but not added to (no buys);
- cash_min: min(default, today's cash share);
- max_turnover, sector_drift_max, min_trade_value: never binding on a portfolio that does not
  trade, so never loosened.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

import pandas as pd

from advisor import measures
from advisor.portfolio import Limits

USER: Final = "user"
DEFAULT: Final = "default"
LOOSENED: Final = "default, loosened to today"

# Limit name -> the portfolio measure it caps (a ratio to equity value, see checks.measures).
RISK_LIMITS: Final[Mapping[str, str]] = measures.RISK_LIMITS


@dataclass(frozen=True)
class Default:
    """A documented default limit: its value, what it means, and how it is loosened."""

    value: float
    meaning: str
    loosened: str


DEFAULTS: Final[Mapping[str, Default]] = MappingProxyType(
    {
        **{
            m.cap.key: Default(m.cap.default, m.cap.meaning, "to today's value")
            for m in measures.CAPPED
            if m.cap is not None
        },
        "max_turnover": Default(1.00, "sum of |trade value| / portfolio value", "never needed"),
        "max_position": Default(
            0.20,
            "any one holding's share of portfolio value after trades",
            "a holding above it today may be kept, not added to",
        ),
        "sector_drift_max": Default(
            0.10, "each sector's share of equity within this of today's", "never needed"
        ),
        "cash_min": Default(
            0.01, "cash kept after trades and costs, as a share of value", "to today's cash share"
        ),
        "min_trade_value": Default(100.0, "no trade smaller than this (USD)", "never needed"),
    }
)

# Measures that `today` must give to effective_limits.
TODAY_KEYS: Final = (*RISK_LIMITS.values(), "cash")


@dataclass(frozen=True)
class EffectiveLimits:
    """The limits the optimizer and the checks enforce, with where each value came from.

    Shares of portfolio value (max_position, cash_min) are of the value after trades and costs;
    max_turnover is of today's value; the risk limits are ratios to equity value.
    """

    refinancing_max: float
    floating_debt_max: float
    weak_coverage_max: float
    unprofitable_max: float
    economic_sensitivity_max: float
    max_turnover: float
    max_position: float
    sector_drift_max: float
    cash_min: float
    min_trade_value: float
    whole_shares: bool = True
    max_names: int | None = None  # the user's only: no default, so it never forces a trade
    # Securities above a default max_position today: kept as they are, not added to.
    position_held: frozenset[str] = frozenset()
    sources: Mapping[str, str] = field(default_factory=dict)

    def risk(self) -> dict[str, float]:
        """Measure name -> its maximum, for the five risk limits."""
        return {measure: getattr(self, name) for name, measure in RISK_LIMITS.items()}

    def source(self, name: str) -> str:
        return self.sources.get(name, DEFAULT)

    def replace(self, **changes: Any) -> EffectiveLimits:
        """A copy with some values set by the user (e.g. to try a diagnosis's suggestion)."""
        sources = {**self.sources, **dict.fromkeys(changes, USER)}
        held = frozenset() if "max_position" in changes else self.position_held
        return dataclasses.replace(self, **changes, sources=sources, position_held=held)


def effective_limits(
    limits: Limits, today: Mapping[str, float], weights_today: pd.Series
) -> EffectiveLimits:
    """The limits to enforce, given the user's `limits` and today's portfolio.

    `today` maps each of TODAY_KEYS to today's value: the five risk measures (ratios to equity
    value) and 'cash' (cash / portfolio value). `weights_today` is each security's value /
    portfolio value, indexed by ticker.
    """
    missing = [key for key in TODAY_KEYS if key not in today]
    if missing:
        raise ValueError(f"`today` must give {list(TODAY_KEYS)}; missing {missing}")
    values: dict[str, float] = {}
    sources: dict[str, str] = {}

    def pick(name: str, today_level: float | None) -> None:
        given = getattr(limits, name)
        if given is not None:
            values[name], sources[name] = float(given), USER
            return
        default = DEFAULTS[name].value
        if today_level is not None and today_level > default:
            values[name], sources[name] = float(today_level), LOOSENED
        else:
            values[name], sources[name] = default, DEFAULT

    for name, measure in RISK_LIMITS.items():
        pick(name, float(today[measure]))
    for name in ("max_turnover", "sector_drift_max", "min_trade_value", "max_position"):
        pick(name, None)
    held: frozenset[str] = frozenset()
    if limits.max_position is None:
        over = weights_today[weights_today > DEFAULTS["max_position"].value]
        held = frozenset(str(t) for t in over.index)
        if held:
            sources["max_position"] = LOOSENED
    if limits.max_names is not None:
        sources["max_names"] = USER
    if limits.cash_min is not None:
        values["cash_min"], sources["cash_min"] = float(limits.cash_min), USER
    else:
        default = DEFAULTS["cash_min"].value
        cash_share = max(0.0, float(today["cash"]))
        values["cash_min"] = min(default, cash_share)
        sources["cash_min"] = LOOSENED if cash_share < default else DEFAULT
    return EffectiveLimits(
        refinancing_max=values["refinancing_max"],
        floating_debt_max=values["floating_debt_max"],
        weak_coverage_max=values["weak_coverage_max"],
        unprofitable_max=values["unprofitable_max"],
        economic_sensitivity_max=values["economic_sensitivity_max"],
        max_turnover=values["max_turnover"],
        max_position=values["max_position"],
        sector_drift_max=values["sector_drift_max"],
        cash_min=values["cash_min"],
        min_trade_value=values["min_trade_value"],
        whole_shares=limits.whole_shares,
        max_names=limits.max_names,
        position_held=held,
        sources=sources,
    )
