"""Checks on a loaded model beyond its file format: fund weights and headline figures."""

from __future__ import annotations

from typing import Any

import pandas as pd

from advisor.errors import Location, ModelError
from advisor.exposures import portfolio_exposures
from advisor.market.model import MarketModel
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
