"""Why each trade is proposed: which target or limit it serves."""

from __future__ import annotations

import pandas as pd

from advisor import checks
from advisor.limits import RISK_LIMITS, EffectiveLimits
from advisor.optimize.data import ProblemData
from advisor.portfolio import Target


def reasons(
    data: ProblemData, quantities: pd.Series, limits: EffectiveLimits, target: Target | None
) -> pd.Series:
    """Which target or limit each trade serves, from its direction and the security's
    exposures relative to the portfolio's (before trades for what was broken today, after
    trades for limits the trades keep at bay)."""
    quantities = quantities.reindex(data.tickers, fill_value=0.0)
    before = checks.measures(data.values, data.exposures).fillna(0.0).to_dict()
    state = checks.after(data, quantities)
    now = checks.measures(state.values, data.exposures).fillna(0.0).to_dict()
    weight = (data.values / data.total_value).to_dict()
    cash_short = data.cash < limits.cash_min * data.total_value
    traded = quantities[quantities != 0]
    rows = data.exposures.loc[traded.index].to_dict("index")  # plain dicts: read per trade
    out: dict[object, str] = {}
    for ticker, amount in traded.items():
        side = 1.0 if amount > 0 else -1.0
        expo = rows[ticker]
        found: list[str] = []
        if side < 0 and weight[ticker] > limits.max_position + checks.RATIO_TOL:
            found.append(f"max_position: trim below {limits.max_position:g}")
        for name, measure in RISK_LIMITS.items():
            cap = getattr(limits, name)
            if (
                before[measure] > cap + checks.RATIO_TOL
                and side * (expo[measure] - before[measure]) < 0
            ):
                found.append(f"cut {measure} below limit {cap:g}")
        if target is not None:
            m, goal = before[target.measure], target.value
            if abs(m - goal) > target.band and side * (expo[target.measure] - m) * (goal - m) > 0:
                verb = "raise" if goal > m else "lower"
                found.append(f"{verb} {target.measure} toward {goal:g}")
        if cash_short and side < 0:
            found.append(f"raise cash to cash_min {limits.cash_min:g}")
        for name, measure in RISK_LIMITS.items():
            cap = getattr(limits, name)
            near = now[measure] >= cap - 0.02 * max(abs(cap), 0.01)
            if near and side * (expo[measure] - now[measure]) < 0:
                found.append(f"keep {measure} within limit {cap:g}")
        if not found:
            found.append(
                "fund the other trades" if side < 0 else "invest cash from the other trades"
            )
        out[ticker] = "; ".join(dict.fromkeys(found[:2]))
    return pd.Series(out, index=data.tickers, dtype=object).fillna("")
