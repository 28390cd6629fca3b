"""Taxes in the optimizer: sells taken lot by lot, the tax of the realized gains, the gains
budget, and the buy-or-sell choice per asset (Moehle, Kochenderfer, Boyd and Ang, "Tax-Aware
Portfolio Construction via Convex Optimization", 2021).

Variables: s_l, the value sold from lot l (share of V), 0 <= s_l <= the lot's value; the buy of
name i is b_i = dx_i + sum of its lots' s_l >= 0. Net realized gains N_st and N_lt (share of V)
are this year's before the proposal plus g_l s_l over the short- and long-term lots, g_l being
the lot's gain per dollar sold. The tax is the convex form

    max(r_min (N_st + N_lt) + (r_st - r_min)_+ (N_st)_+ + (r_lt - r_min)_+ (N_lt)_+, 0)

less its value before trading, times tax_weight. Against the exact US netting
(advisor/tax/liability.py) it is exact where both nets have one sign, where the term of the
lower rate has the net loss, and where the year nets to a loss; where a net loss of the
lower-rate term offsets net gains of the higher-rate term it overstates the tax by the rate
difference on the offset (the loss is credited at its own, lower, rate).

The problem is convex but for the choice, per asset, between buying and selling: relaxed (both
allowed) it could sell a loss lot and buy it back, which the wash-sale rule forbids and which
costs nothing in the relaxation. `directions` fixes each asset's direction from the relaxed
answer, and group by group (share classes of a company, funds on one index) keeps a loss sale
and a buy of the same group apart; the problem is solved again with them fixed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cvxpy as cp
import numpy as np
import pandas as pd
from scipy import sparse

from advisor.optimize.inputs import BIG, Inputs, Part
from advisor.tax.lots import TaxData, allocate

TOL = 1e-7  # share of V: a trade or a lot sale smaller than this is none
NO_BUDGET = 1e6  # share of V: a gains budget that never binds


def convex_tax(short: Any, long: Any, short_rate: float, long_rate: float) -> Any:
    """The convex form of the year's tax (see the module's docstring), for numbers or cvxpy
    expressions."""
    low = min(short_rate, long_rate)
    if isinstance(short, cp.Expression):
        inner = low * (short + long) + (short_rate - low) * cp.pos(short)
        return cp.pos(inner + (long_rate - low) * cp.pos(long))
    inner = low * (short + long) + (short_rate - low) * max(short, 0.0)
    return max(inner + (long_rate - low) * max(long, 0.0), 0.0)


class TaxTerm(Part):
    """tax_weight x the tax the trades add to the year, in units of V; with its lot variables,
    its rules tie them to the trade (`rules`). Stated with numbers (never compiled)."""

    name = "tax"
    constant = True

    def __init__(self, lots: int) -> None:
        self.sold = cp.Variable(lots, nonneg=True, name="lot_sold")
        self.short = cp.Variable(name="net_short")
        self.long = cp.Variable(name="net_long")
        self.tax: TaxData | None = None

    def bind(self, inputs: Inputs) -> None:
        data, adjust, total = inputs.data, inputs.adjust, inputs.total
        tax = data.tax
        assert tax is not None, "a tax term needs the account's lots"
        self.tax, self.total, self.prices = tax, total, data.prices
        lots = tax.lots
        tickers = lots["ticker"].astype(str)
        owner = data.tickers.get_indexer(tickers)
        price = data.prices.to_numpy(dtype=float)[owner]
        self.owner = sparse.csr_matrix(
            (np.ones(len(lots)), (owner, np.arange(len(lots)))), shape=(inputs.size, len(lots))
        )
        gain = tax.gain_per_share(data.prices) / price
        short = lots["short"].to_numpy(dtype=bool)
        self.gain_short = np.where(short, gain, 0.0)
        self.gain_long = np.where(short, 0.0, gain)
        cap = lots["shares"].to_numpy(dtype=float) * price / total
        no_loss = set(tax.no_loss_sale) | set(adjust.no_loss)
        cap[(gain < 0) & tickers.isin(list(no_loss)).to_numpy()] = 0.0
        cap[tickers.isin(list(adjust.buy_only)).to_numpy()] = 0.0
        self.cap = cap
        buy = np.full(inputs.size, BIG)
        buy[: data.n][inputs.mask(adjust.sell_only)] = 0.0
        self.buy_cap = buy
        self.base_short, self.base_long = tax.realized_short / total, tax.realized_long / total
        budget = tax.budget
        self.budget = (
            NO_BUDGET if budget is None else (budget - adjust.margin("gains_budget")) / total
        )
        self.rates = (tax.short_rate, tax.long_rate)
        self.base_tax = convex_tax(self.base_short, self.base_long, *self.rates)

    def rules(self, dx: Any) -> list[Any]:
        bought = dx + self.owner @ self.sold
        out = [
            self.short == self.base_short + self.gain_short @ self.sold,
            self.long == self.base_long + self.gain_long @ self.sold,
            self.sold <= self.cap,
            bought >= 0,
            bought <= self.buy_cap,
        ]
        if self.budget < NO_BUDGET:
            out.append(self.short + self.long <= self.budget)
        return out

    def __call__(self, dx: Any) -> Any:
        assert self.tax is not None
        weight = self.tax.weight
        if isinstance(dx, cp.Expression):
            return weight * (convex_tax(self.short, self.long, *self.rates) - self.base_tax)
        # At numbers: the lots the trade list takes (advisor/tax/lots.py), net of this year's.
        n = len(self.prices)
        quantities = pd.Series(np.asarray(dx)[:n] * self.total, index=self.prices.index)
        quantities = quantities / self.prices
        sold = allocate(self.tax, quantities, self.prices) * self.prices.reindex(
            self.tax.lots["ticker"]
        ).to_numpy(dtype=float)
        short = self.base_short + float(self.gain_short @ sold) / self.total
        long = self.base_long + float(self.gain_long @ sold) / self.total
        return weight * (convex_tax(short, long, *self.rates) - self.base_tax)

    def in_problem(self, x: cp.Variable, dx: cp.Variable) -> tuple[Any, list[Any]]:
        return self(dx), []

    def lot_values(self) -> np.ndarray | None:
        """The value sold from each lot at the last solve (share of V)."""
        value = self.sold.value
        return None if value is None else np.asarray(value, dtype=float).copy()


@dataclass(frozen=True)
class Directions:
    """Each asset's direction, fixed from a relaxed answer, and the wash-sale choices made."""

    sell_only: frozenset[str]  # may sell, not buy
    buy_only: frozenset[str]  # may buy, not sell
    no_loss: frozenset[str]  # may not sell a loss lot
    blocked: tuple[str, ...]  # trades the wash-sale rule kept out, and why


def directions(
    tickers: pd.Index,
    held: np.ndarray,
    trades: np.ndarray,
    tax: TaxData,
    prices: pd.Series,
    lot_sold: np.ndarray,
    forced: Mapping[str, int] | None = None,
) -> Directions:
    """Directions from the relaxed trades (share of V) and lot sales (share of V).

    An asset bought is buy-only, one sold or held at zero sell-only (holding still is in
    both), one neither held nor traded buy-only. A group of substantially identical securities
    with a loss lot open: where the relaxed answer both sells at a loss and buys in it, the
    larger side stays (the value bought against the value of the loss lots sold); then a group
    with a buy sells none of its loss lots, and a group without one buys nothing. `forced`
    sets the direction of some assets (+1 buy, -1 sell) whatever the relaxed answer."""
    direction = np.where(trades > TOL, 1, np.where(trades < -TOL, -1, np.where(held, -1, 1)))
    for ticker, way in (forced or {}).items():
        direction[tickers.get_loc(ticker)] = way
    lots = tax.lots
    lot_tickers = lots["ticker"].astype(str).to_numpy()
    loss = tax.gain_per_share(prices) < 0
    open_loss = loss & ~np.isin(lot_tickers, list(tax.no_loss_sale))
    position = {str(t): i for i, t in enumerate(tickers)}
    groups: dict[str, list[int]] = {}
    for i, ticker in enumerate(tickers):
        groups.setdefault(tax.group_of(str(ticker)), []).append(i)
    no_loss: set[str] = set()
    blocked: list[str] = []
    for members in groups.values():
        names = {str(tickers[i]) for i in members}
        rows = np.isin(lot_tickers, list(names))
        if not (open_loss & rows).any():
            continue
        buys = [i for i in members if direction[i] > 0 and trades[i] > TOL]
        # A net buyer's own loss sales are a round trip the direction already rules out.
        selling = np.isin(lot_tickers, [str(tickers[i]) for i in members if direction[i] < 0])
        loss_sold = lot_sold[open_loss & rows & selling]
        sellers = sorted(
            {str(t) for t in lot_tickers[open_loss & rows & selling][loss_sold > TOL]}
        )
        if buys and sellers:
            bought = float(sum(trades[i] for i in buys))
            bought_names = ", ".join(sorted(str(tickers[i]) for i in buys))
            if bought >= float(loss_sold.sum()):
                blocked += [f"{t} not sold at a loss: the proposal buys {bought_names}"
                            for t in sellers]  # fmt: skip
            else:
                blocked += [f"{tickers[i]} not bought: the proposal sells "
                            f"{', '.join(sellers)} at a loss" for i in buys]  # fmt: skip
                for i in buys:
                    direction[i] = -1
        if any(direction[i] > 0 for i in members):
            no_loss |= names
        else:
            for ticker in names:
                direction[position[ticker]] = -1
    return Directions(
        sell_only=frozenset(str(t) for t in tickers[direction < 0]),
        buy_only=frozenset(str(t) for t in tickers[(direction > 0) & held]),
        no_loss=frozenset(no_loss),
        blocked=tuple(blocked),
    )


FLIPS = 3  # round trips of the relaxation tried the other way, the largest first


def round_trips(
    tickers: pd.Index, trades: np.ndarray, tax: TaxData, lot_sold: np.ndarray
) -> list[tuple[str, int]]:
    """The assets the relaxed answer both buys and sells (lots sold and bought back), the
    largest round trips first (at most FLIPS), each with the direction opposite to the one its
    net trade gives: its direction is the doubtful one, and worth a second solve."""
    sold = pd.Series(lot_sold).groupby(tax.lots["ticker"].astype(str).to_numpy()).sum()
    sold = sold.reindex(tickers.astype(str), fill_value=0.0).to_numpy(dtype=float)
    bought = trades + sold
    both = np.minimum(bought, sold)
    order = [i for i in np.argsort(-both, kind="stable") if both[i] > TOL][:FLIPS]
    return [(str(tickers[i]), -1 if trades[i] > TOL else 1) for i in order]
