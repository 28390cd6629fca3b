"""Checks on a loaded model beyond its file format: fund weights, headline figures, and the
published aggregates its estimation rules are calibrated to, measured on the figures the tool
uses (reported where a company has the figure, estimated elsewhere)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import Location, ModelError
from advisor.exposures import portfolio_exposures
from advisor.market.model import MarketModel
from advisor.market.risk import PUBLISHED
from advisor.measures import RISK_COLUMNS

# What the shipped funds must score (the tests state the same against the shipped model).
EXPECTED = {
    "IWM": lambda e: e.small_cap_share >= 0.85 and e.size_score < -1,
    "IWB": lambda e: e.small_cap_share <= 0.08,
    "IVV": lambda e: e.small_cap_share <= 0.08,
    "IWV": lambda e: abs(e.size_score) <= 0.3,
}


def source_counts(model: MarketModel) -> dict[str, Any]:
    stocks = model.stocks
    listed = stocks["listed"].astype(bool)
    counts: dict[str, Any] = {
        "stocks": len(stocks),
        "ranked": int(stocks["ranked"].astype(bool).sum()),
        "not_listed": int((~listed).sum()),
        "sources": {},
    }
    fields = {
        "market_cap": "market_cap_source",
        "debt": "debt_source",
        **{m: f"{m}_source" for m in RISK_COLUMNS},
    }
    for field, column in fields.items():
        reported = float((stocks[column] == "reported").mean())
        counts["sources"][field] = {"reported": reported, "estimated": 1 - reported}
    return counts


def check_model(model: MarketModel) -> list[str]:
    """Lines describing what was checked; raises ModelError on the first failure."""
    lines = [f"model {model.name} as of {model.as_of}: {len(model.securities):,} securities"]
    table = model.exposures()
    for fund, weights in sorted(model.fund_weights.items()):
        if not model.is_fund(fund):
            raise ModelError(
                Location(model.folder / "funds" / f"{fund}.csv"),
                "is not typed fund in securities.csv",
                fix="rebuild the model",
            )
        funds_inside = [t for t in weights.index if model.is_fund(t)]
        if funds_inside:
            raise ModelError(
                Location(model.folder / "funds" / f"{fund}.csv"),
                f"holds funds {funds_inside[:3]}",
                fix="look through to stocks",
            )
        scored = portfolio_exposures(pd.Series({fund: 1.0}), 0.0, table)
        verdict = ""
        if fund in EXPECTED:
            verdict = "ok" if EXPECTED[fund](scored) else "FAILS its expected range"
            if verdict != "ok":
                raise ModelError(
                    Location(model.folder, None, fund),
                    f"scores small_cap_share {scored.small_cap_share:.3f}, size "
                    f"score {scored.size_score:.2f}: outside its expected range",
                    fix="check the universe and the fund file",
                )
        lines.append(
            f"{fund}: {len(weights):,} holdings, small_cap_share "
            f"{scored.small_cap_share:.3f}, size score {scored.size_score:+.2f} {verdict}"
        )
    return lines


@dataclass(frozen=True)
class Aggregate:
    """A published aggregate: what it says, the groups it is measured on, and how."""

    label: str
    key: str
    groups: tuple[str, str]
    published: tuple[str, str]
    weighting: str
    measure: Callable[[pd.DataFrame, pd.Series], float]


def _debt_weighted(share: Callable[[pd.DataFrame], pd.Series]) -> Callable[..., float]:
    def measure(stocks: pd.DataFrame, weights: pd.Series) -> float:
        debt = stocks["debt"].astype(float)
        return float((debt * share(stocks)).sum() / debt.sum())

    return measure


AGGREGATES = (
    Aggregate(
        "unprofitable companies",
        "unprofitable_share_of_companies",
        ("IWM", "IVV"),
        ("about 40%", "about 6%"),
        "share of the fund's holdings, each counted once (a reported loss is 1, an estimate "
        "its probability)",
        lambda stocks, weights: float(stocks["unprofitable"].astype(float).mean()),
    ),
    Aggregate(
        "debt at floating rates",
        "floating_share_of_debt",
        ("IWM", "IVV"),
        ("30-45%", "about 9%"),
        "floating-rate share of the holdings' debt, each company weighted by its debt",
        _debt_weighted(lambda s: s["floating_debt"] * s["market_cap"] / s["debt"]),
    ),
    Aggregate(
        "debt due within 5 years",
        "debt_due_within_5y",
        ("IWM", "IVV"),
        ("about 75%", "about 50%"),
        "share of each holding's debt due within 5 years (debt_due_5y), weighted by its debt",
        _debt_weighted(lambda s: s["debt_due_5y"]),
    ),
    Aggregate(
        "domestic revenue",
        "domestic_revenue_share",
        ("IWM", "IWB"),
        ("about 80%", "about 60%"),
        "fund-weighted mean of domestic_revenue",
        lambda stocks, weights: float(weights @ stocks["domestic_revenue"].astype(float)),
    ),
)


def published_aggregates(model: MarketModel) -> list[str]:
    """Each published aggregate beside the model's figure on the same group, and how that
    figure is computed. Groups the model lacks, or columns of an older model, are said so."""
    lines = ["published aggregates (published | this model | measured as):"]
    stocks = model.stocks
    for aggregate in AGGREGATES:
        figures = []
        for fund, published in zip(aggregate.groups, aggregate.published, strict=True):
            figures.append(f"{fund} {published} | {_figure(model, fund, aggregate, stocks)}")
        lines.append(f"  {aggregate.label}: " + "; ".join(figures))
        lines.append(f"    ({aggregate.weighting})")
    small, large = (_sensitivity(model, f, stocks) for f in ("IWM", "IWB"))
    ratio = f"{small / large:.2f}" if np.isfinite(small / large) else "n/a (fund missing)"
    target = PUBLISHED["earnings_sensitivity_small_over_large"]
    lines.append(f"  small-cap earnings sensitivity, IWM / IWB: about {target} | {ratio}")
    lines.append("    (ratio of the fund-weighted means of economic_sensitivity)")
    return lines


def _figure(model: MarketModel, fund: str, aggregate: Aggregate, stocks: pd.DataFrame) -> str:
    weights = model.fund_weights.get(fund)
    if weights is None:
        return "n/a (fund not in the model)"
    try:
        value = aggregate.measure(stocks.loc[weights.index], weights)
    except KeyError as missing:
        return f"n/a (no {missing} column: rebuild the model)"
    target = PUBLISHED[aggregate.key][fund]
    residual = value - target
    if abs(residual) < 0.005:
        return f"{value:.1%} (fitted to {target:.0%})"
    # The rules cannot reach it: reported figures alone put it out of reach (model.yaml).
    return f"{value:.1%} (fitted to {target:.0%}, {residual:+.1%} out of the rules' reach)"


def _sensitivity(model: MarketModel, fund: str, stocks: pd.DataFrame) -> float:
    weights = model.fund_weights.get(fund)
    if weights is None:
        return float("nan")
    return float(weights @ stocks.loc[weights.index, "economic_sensitivity"].astype(float))
