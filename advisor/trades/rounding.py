"""Dollar trades to whole shares: never selling more than held, never trading what may not be
traded, no trade below min_trade_value, and buys trimmed to keep the cash floor."""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import pandas as pd

from advisor import checks
from advisor.limits import EffectiveLimits
from advisor.optimize.data import ProblemData

NOISE: Final = 1e-6  # a trade below this share of value is solver noise, not a decision


def round_trades(
    data: ProblemData, trade_values: pd.Series, limits: EffectiveLimits
) -> tuple[pd.Series, pd.Series]:
    """Dollar trades -> signed share quantities, and the dropped small trades (their signs).

    Whole shares to the nearest (a sale rounding to the whole holding sells it all, fractional
    remainder included), never selling more than held, never trading what may not be traded;
    trades below min_trade_value are dropped.
    """
    wanted = (trade_values / data.prices).reindex(data.tickers).fillna(0.0)
    held = data.shares
    if limits.whole_shares:
        quantities = wanted.round()
        sells_all = (wanted < 0) & (-wanted > held - 0.5)
        quantities = quantities.where(~sells_all, -held)
    else:
        quantities = wanted.round(6)
    quantities = quantities.clip(lower=-held)
    quantities = quantities.where(~((quantities > 0) & ~data.can_buy.astype(bool)), 0.0)
    quantities = quantities.where(~((quantities < 0) & ~data.can_sell.astype(bool)), 0.0)
    amount = (quantities * data.prices).abs()
    quantities = quantities.where(~((quantities != 0) & (amount < limits.min_trade_value)), 0.0)
    meant = (wanted * data.prices).abs() > NOISE * data.total_value
    dropped = np.sign(wanted[meant & (quantities == 0)])
    return quantities + 0.0, dropped


def trim_buys_for_cash(
    data: ProblemData, quantities: pd.Series, limits: EffectiveLimits
) -> pd.Series:
    """Cut buys, largest first, until cash after trades and costs is at least the floor."""
    quantities = quantities.copy()
    for _ in range(4 * len(quantities) + 10):
        state = checks.after(data, quantities)
        short = limits.cash_min * state.total - state.cash
        buys = quantities[quantities > 0]
        if short <= 0 or buys.empty:
            break
        values = buys * data.prices[buys.index]
        ticker = values.idxmax()
        price = float(data.prices[ticker])
        # One share short of the estimate, then share by share: cost savings may cover the rest.
        cut = min(float(buys[ticker]), max(1, math.ceil(short / price - 1e-9) - 1))
        if not limits.whole_shares:
            cut = min(float(buys[ticker]), short / price * 1.0001)
        left = float(buys[ticker]) - cut
        keep = left * price >= limits.min_trade_value and left > 0
        quantities[ticker] = left if keep else 0.0
    return quantities
