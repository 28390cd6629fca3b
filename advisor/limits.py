"""Effective limits: what the user wrote, else the documented default.

The rule: a default never forces a trade on its own. Where the user left a limit out and today's
portfolio is already beyond the default, the effective limit is loosened to today's level, so the
default can stop a trade from making things worse but never demands a trade to make them better.
A limit the user wrote is enforced as written, even when it forces trades.

How each default is loosened:

- the risk limits (refinancing, floating debt, weak coverage, unprofitable, economic
  sensitivity): to today's value of the measure;
- max_position (a company's look-through share: held directly, in any share class, and through
  funds): a company already above the default may be kept but not added to;
- cash_min: min(default, today's cash share);
- cash_max: with no user value, cash may not rise above max(today's cash share, cash_min), plus
  CASH_ROOM for whole shares; an account holding nothing but cash, with a target, invests all
  but cash_min (plus CASH_ROOM);
- max_turnover, sector_drift_max, min_trade_value, min_trade_share, min_position: never binding
  on a portfolio that does not trade, so never loosened.

A company or fund that no_sell keeps above max_position (or max_fund_position) is kept too: it
may stay, not grow, and everything else still proceeds.
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
TODAY_CASH: Final = "default: today's cash share (or cash_min), + 0.25 pt for whole shares"
INVEST: Final = "default: an account of cash alone invests all but cash_min, + 0.25 pt"
CASH_ROOM: Final = 0.0025  # whole shares cannot land cash exactly on a ceiling
ABOVE_DEFAULT: Final = "above the default max_position today"
NO_SELL: Final = "no_sell keeps it above the limit"

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
            "any one company's share of value after trades, held directly and through funds",
            "a company above it today may be kept, not added to",
        ),
        "sector_drift_max": Default(
            0.10, "each sector's share of equity within this of today's", "never needed"
        ),
        "cash_min": Default(
            0.01, "cash kept after trades and costs, as a share of value", "to today's cash share"
        ),
        "cash_max": Default(
            CASH_ROOM,
            "cash after trades at most this share of value",
            "today's cash share (or cash_min) + 0.25 pt: cash is never raised unasked",
        ),
        "min_trade_value": Default(100.0, "no trade smaller than this (USD)", "never needed"),
        "min_trade_share": Default(
            0.002, "no trade smaller than this share of value", "never needed"
        ),
        "min_position": Default(
            0.005, "no new position smaller than this share of value", "never needed"
        ),
    }
)

# Measures that `today` must give to effective_limits.
TODAY_KEYS: Final = (*RISK_LIMITS.values(), "cash")


@dataclass(frozen=True)
class Kept:
    """A company or fund allowed above its cap: it may stay at `cap` (share of today's value),
    not grow."""

    cap: float
    why: str
    limit: str = "max_position"  # or max_fund_position

    def note(self, name: str, value: float) -> str:
        """The kept position said in the user's words."""
        return (
            f"{name} stays at {100 * self.cap:.1f}% of value, above {self.limit} "
            f"{100 * value:g}%: {self.why}; it may stay, not grow"
        )


@dataclass(frozen=True)
class Positions:
    """Today's look-through positions, shares of value: each company's (held directly and
    through funds) and each fund's, with the part of each that no_sell keeps."""

    companies: pd.Series
    companies_unsold: pd.Series
    funds: pd.Series
    funds_unsold: pd.Series

    @classmethod
    def none(cls) -> Positions:
        empty = pd.Series(dtype=float)
        return cls(empty, empty, empty, empty)


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
    cash_max: float = 1.0
    min_trade_share: float = 0.0
    min_position: float = 0.0
    whole_shares: bool = True
    max_names: int | None = None  # the user's only: no default, so it never forces a trade
    max_fund_position: float | None = None  # the user's only
    # Companies (max_position) and funds (max_fund_position) allowed above the cap.
    kept: Mapping[str, Kept] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)

    def min_trade(self, total: float) -> float:
        """The smallest trade, in USD, in an account worth `total`."""
        return max(self.min_trade_value, self.min_trade_share * total)

    def min_new(self, total: float) -> float:
        """The smallest buy of a security not held, in USD."""
        return max(self.min_trade(total), self.min_position * total)

    def risk(self) -> dict[str, float]:
        """Measure name -> its maximum, for the five risk limits."""
        return {measure: getattr(self, name) for name, measure in RISK_LIMITS.items()}

    def source(self, name: str) -> str:
        return self.sources.get(name, DEFAULT)

    def replace(self, **changes: Any) -> EffectiveLimits:
        """A copy with some values set by the user (e.g. to try a diagnosis's suggestion)."""
        sources = {**self.sources, **dict.fromkeys(changes, USER)}
        kept = self.kept
        if "max_position" in changes or "max_fund_position" in changes:
            kept = {name: k for name, k in kept.items() if k.why == NO_SELL}
        return dataclasses.replace(self, **changes, sources=sources, kept=kept)


def effective_limits(
    limits: Limits,
    today: Mapping[str, float],
    positions: Positions,
    *,
    invest: bool = False,
) -> EffectiveLimits:
    """The limits to enforce, given the user's `limits` and today's portfolio.

    `today` maps each of TODAY_KEYS to today's value: the five risk measures (ratios to equity
    value) and 'cash' (cash / portfolio value). `positions` are today's look-through weights.
    `invest`: the account holds nothing but cash and has a target, so the cash is invested.
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
    for name in ("max_turnover", "sector_drift_max", "min_trade_value", "max_position",
                 "min_trade_share", "min_position"):  # fmt: skip
        pick(name, None)
    kept = _kept(limits, values["max_position"], positions)
    if any(k.why == ABOVE_DEFAULT for k in kept.values()):
        sources["max_position"] = LOOSENED
    for name in ("max_names", "max_fund_position"):
        if getattr(limits, name) is not None:
            sources[name] = USER
    cash_share = max(0.0, float(today["cash"]))
    if limits.cash_min is not None:
        values["cash_min"], sources["cash_min"] = float(limits.cash_min), USER
    else:
        default = DEFAULTS["cash_min"].value
        values["cash_min"] = min(default, cash_share)
        sources["cash_min"] = LOOSENED if cash_share < default else DEFAULT
    if limits.cash_max is not None:
        values["cash_max"], sources["cash_max"] = float(limits.cash_max), USER
    elif invest:
        values["cash_max"], sources["cash_max"] = values["cash_min"] + CASH_ROOM, INVEST
    else:
        values["cash_max"] = max(cash_share, values["cash_min"]) + CASH_ROOM
        sources["cash_max"] = TODAY_CASH
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
        cash_max=values["cash_max"],
        min_trade_share=values["min_trade_share"],
        min_position=values["min_position"],
        whole_shares=limits.whole_shares,
        max_names=limits.max_names,
        max_fund_position=limits.max_fund_position,
        kept=kept,
        sources=sources,
    )


def _kept(limits: Limits, max_position: float, positions: Positions) -> dict[str, Kept]:
    """Companies and funds allowed above their cap today: above a default max_position, or
    kept above either cap by no_sell. Each may stay at today's share, not grow."""
    kept: dict[str, Kept] = {}
    by_default = limits.max_position is None
    caps = [(positions.companies, positions.companies_unsold, max_position, "max_position")]
    if limits.max_fund_position is not None:
        caps.append((positions.funds, positions.funds_unsold, limits.max_fund_position,
                     "max_fund_position"))  # fmt: skip
    for weights, unsold, cap, rule in caps:
        for name, weight in weights[weights > cap].items():
            if float(unsold.get(name, 0.0)) > cap:
                kept[str(name)] = Kept(float(weight), NO_SELL, rule)
            elif by_default and rule == "max_position":
                kept[str(name)] = Kept(float(weight), ABOVE_DEFAULT)
    return kept
