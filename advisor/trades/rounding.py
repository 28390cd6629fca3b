"""Dollar trades to whole shares: never selling more than held, never trading what may not be
traded, no trade below its minimum size, and buys trimmed to keep the cash floor."""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import pandas as pd

from advisor import checks
from advisor.limits import EffectiveLimits
from advisor.optimize.data import ProblemData
from advisor.tax.lots import sellable

NOISE: Final = 1e-6  # a trade below this share of value is solver noise, not a decision


def round_trades(
    data: ProblemData, trade_values: pd.Series, limits: EffectiveLimits
) -> tuple[pd.Series, pd.Series]:
    """Dollar trades -> signed share quantities, and the dropped small trades (their signs).

    Whole shares to the nearest (a sale rounding to the whole holding sells it all, fractional
    remainder included), never selling more than held, never trading what may not be traded;
    trades below their minimum (`minimum`) are dropped.
    """
    wanted = (trade_values / data.prices).reindex(data.tickers).fillna(0.0)
    held = data.shares
    sells_all = (wanted < 0) & (-wanted > held - (0.5 if limits.whole_shares else 1e-6))
    if limits.whole_shares:
        quantities = wanted.round()
        quantities = quantities.where(~sells_all, -held)
    else:
        quantities = wanted.round(6)
    quantities = quantities.clip(lower=-held)
    quantities = quantities.where(~((quantities > 0) & ~data.can_buy.astype(bool)), 0.0)
    quantities = quantities.where(~((quantities < 0) & ~data.can_sell.astype(bool)), 0.0)
    amount = (quantities * data.prices).abs()
    quantities = quantities.where(~((quantities != 0) & (amount < minimum(data, limits))), 0.0)
    meant = ((wanted * data.prices).abs() > NOISE * data.total_value) | sells_all
    dropped = np.sign(wanted[meant & (quantities == 0)])
    return quantities + 0.0, dropped


def minimum(data: ProblemData, limits: EffectiveLimits) -> pd.Series:
    """The smallest trade in each name, in USD: min_trade_value or min_trade_share of value,
    and for a name not held, min_position of value."""
    total = data.total_value
    held = data.shares.to_numpy(dtype=float) > 0
    least = np.where(held, limits.min_trade(total), limits.min_new(total))
    return pd.Series(least, index=data.tickers)


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
        least = (
            limits.min_trade(state.total)
            if data.shares[ticker] > 0
            else limits.min_new(data.total_value)
        )
        keep = left * price >= least and left > 0
        quantities[ticker] = left if keep else 0.0
    return quantities


def spend_cash_to_ceiling(
    data: ProblemData, quantities: pd.Series, limits: EffectiveLimits
) -> pd.Series:
    """Add shares to buys while cash after trades is above cash_max: rounding each trade to
    whole shares leaves cash a little off where the optimizer put it. To the dearest buy whose
    share fits under the ceiling's excess, as many shares as fit at once, else one share of the
    cheapest buy that keeps the cash floor; the state is worked out again after each."""
    quantities = quantities.copy()
    if not limits.whole_shares:
        return quantities
    prices = data.prices
    # An added share keeps each order under the pre-trade caps (checks.pretrade_checks).
    largest = np.minimum(checks.MAX_ORDER_SHARE * data.total_value, checks.MAX_ADV_SHARE * data.adv)
    for _ in range(4 * len(quantities) + 10):
        state = checks.after(data, quantities)
        excess = state.cash - limits.cash_max * state.total
        spare = state.cash - limits.cash_min * state.total
        room = np.floor(largest / prices - quantities)  # shares each buy may still take
        buys = quantities.index[(quantities > 0) & (room >= 1)]
        if excess <= 0 or buys.empty:
            break
        price = prices[buys]
        within = price[price <= excess]
        if len(within):
            ticker = within.idxmax()
            # Costs grow with the trade, so a little under what the excess would buy.
            count = max(1.0, min(float(room[ticker]), math.floor(0.98 * excess / price[ticker])))
        elif float(price.min()) * 1.01 < spare:
            ticker, count = price.idxmin(), 1.0
        else:
            break
        quantities[ticker] += count
    return quantities


def within_lots(data: ProblemData, quantities: pd.Series, limits: EffectiveLimits) -> pd.Series:
    """Sells cut to the lots they may take: rounding up may reach a loss lot the wash-sale
    rule keeps (a taxable account's; see advisor/tax/lots.py)."""
    if data.tax is None:
        return quantities
    most = sellable(data.tax, quantities, data.prices).reindex(data.tickers, fill_value=0.0)
    if limits.whole_shares:
        most = most.where(most >= data.shares - 1e-9, np.floor(most + 1e-9))
    return quantities.clip(lower=-most) + 0.0
