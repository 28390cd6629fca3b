"""The registry of portfolio measures: one entry per measure with its names, labels, unit and
the limit that caps it. Every table of measures elsewhere (limits, model columns, the problem's
columns, reports) is derived from here, so a measure is added or renamed in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from advisor.enums import Sense

# Size bands, largest first; small_cap_share is the share of equity in the last two.
BANDS: Final = ("giant", "large", "mid", "small", "micro")
SMALL_BANDS: Final = ("small", "micro")

Kind = Literal["%", "$", "x", "score"]  # share, $ per $ owned, ratio to the market, z-score


@dataclass(frozen=True)
class Cap:
    """A limit on a measure, with its documented default (README) and what it means."""

    key: str  # as written under `limits:` in the portfolio file
    default: float
    meaning: str
    sense: Sense = Sense.MAX


@dataclass(frozen=True)
class Measure:
    name: str  # column of the model's exposure table
    key: str  # key in JSON (`score --json`, a proposal's before/after)
    label: str  # in tables
    short: str  # in charts, with `unit` under it
    unit: str
    kind: Kind  # how a figure is shown (see report.saved.figure)
    estimated: str = ""  # in the "rests on estimates" tables
    cap: Cap | None = None


SIZE_MEASURES: Final = (
    Measure("small_cap_share", "small_cap_share", "Small-cap share", "Small-cap share",
            "share of equity", "%"),
    Measure("size_score", "size_score", "Size score", "Size score", "market = 0", "score"),
)  # fmt: skip
RISK_MEASURES: Final = (
    Measure("refinancing", "refinancing", "Refinancing (debt due < 24m per $ owned)",
            "Refinancing", "$ due < 24m per $", "$", "Refinancing",
            Cap("refinancing_max", 0.10, "$ of debt due within 24 months per $ of equity owned")),
    Measure("floating_debt", "floating_debt", "Floating-rate debt per $ owned",
            "Floating-rate debt", "$ per $ owned", "$", "Floating-rate debt",
            Cap("floating_debt_max", 0.10, "$ of floating-rate debt per $ of equity owned")),
    Measure("weak_coverage", "weak_coverage", "Weak interest coverage (< 1.5x), share",
            "Weak coverage", "share < 1.5x", "%", "Weak interest coverage",
            Cap("weak_coverage_max", 0.25,
                "share of equity in companies with interest coverage < 1.5")),
    Measure("unprofitable", "unprofitable", "Unprofitable companies, share",
            "Unprofitable", "share of value", "%", "Unprofitable",
            Cap("unprofitable_max", 0.25, "share of equity in companies with negative earnings")),
    Measure("economic_sensitivity", "economic_sensitivity", "Economic sensitivity (market = 1)",
            "Economic sensitivity", "market = 1", "x", "Economic sensitivity",
            Cap("economic_sensitivity_max", 1.40,
                "weighted earnings sensitivity to US growth (market = 1)")),
    Measure("domestic_revenue", "domestic_revenue_share", "Domestic revenue share",
            "Domestic revenue", "share of revenue", "%", "Domestic revenue share"),
)  # fmt: skip
MEASURES: Final = (*SIZE_MEASURES, *RISK_MEASURES)

# Derived tables.
RISK_COLUMNS: Final = tuple(m.name for m in RISK_MEASURES)  # per security, in the model
CAPPED: Final = tuple(m for m in RISK_MEASURES if m.cap is not None)
# Limit key -> the measure (exposure column) it caps.
RISK_LIMITS: Final[Mapping[str, str]] = MappingProxyType(
    {m.cap.key: m.name for m in CAPPED if m.cap is not None}
)
# Columns every rebalancing problem needs: the target's measures and every capped one.
PROBLEM_COLUMNS: Final = (*(m.name for m in SIZE_MEASURES), *RISK_LIMITS.values())
SIZE_ESTIMATE: Final = "Market cap (size bands, size score)"  # estimated_share['size']
ESTIMATE_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {"size": SIZE_ESTIMATE, **{m.key: m.estimated for m in RISK_MEASURES}}
)
