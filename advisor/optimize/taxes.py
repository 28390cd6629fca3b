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
    its rules tie them to the trade (`rules`).

    Compiled, the lots sit in `slots` columns per name (a name's lots in file order, the rest
    of its row capped at zero), so the structure is the shape's and every number a parameter;
    stated with numbers (a large problem), one variable per lot and a sparse owner matrix."""

    name = "tax"

    def __init__(self, n: int, lots: int, compiled: bool) -> None:
        self.compiled = compiled
        cells = (n, lots) if compiled else (lots,)
        self.sold = cp.Variable(cells, nonneg=True, name="lot_sold")
        self.short = cp.Variable(name="net_short")
        self.long = cp.Variable(name="net_long")
        self.gain_short = cp.Parameter(cells, name="gain_short")
        self.gain_long = cp.Parameter(cells, name="gain_long")
        self.cap = cp.Parameter(cells, nonneg=True, name="lot_cap")
        self.buy_cap = cp.Parameter(n, nonneg=True, name="buy_cap")
        self.base_short = cp.Parameter(name="base_short")
        self.base_long = cp.Parameter(name="base_long")
        self.low = cp.Parameter(nonneg=True, name="rate_low")  # weight x the lower rate
        self.extra_short = cp.Parameter(nonneg=True, name="rate_extra_short")
        self.extra_long = cp.Parameter(nonneg=True, name="rate_extra_long")
        self.base_tax = cp.Parameter(name="base_tax")
        self.budget = cp.Parameter(name="gains_budget")
        self.owner: Any = None
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
        gain = tax.gain_per_share(data.prices) / price
        short = lots["short"].to_numpy(dtype=bool)
        cap = lots["shares"].to_numpy(dtype=float) * price / total
        no_loss = set(tax.no_loss_sale) | set(adjust.no_loss)
        cap[(gain < 0) & tickers.isin(list(no_loss)).to_numpy()] = 0.0
        cap[tickers.isin(list(adjust.buy_only)).to_numpy()] = 0.0
        self.cells = self._cells(owner, inputs.size)
        self.gain_short.value = self._place(np.where(short, gain, 0.0))
        self.gain_long.value = self._place(np.where(short, 0.0, gain))
        self.cap.value = self._place(cap)
        buy = np.full(inputs.size, BIG)
        buy[: data.n][inputs.mask(adjust.sell_only)] = 0.0
        self.buy_cap.value = buy
        base_short, base_long = tax.realized_short / total, tax.realized_long / total
        self.base_short.value, self.base_long.value = base_short, base_long
        low = min(tax.short_rate, tax.long_rate)
        self.low.value = tax.weight * low
        self.extra_short.value = tax.weight * (tax.short_rate - low)
        self.extra_long.value = tax.weight * (tax.long_rate - low)
        self.rates = (tax.short_rate, tax.long_rate)
        self.base_tax.value = tax.weight * convex_tax(base_short, base_long, *self.rates)
        budget = tax.budget
        margin = adjust.margin("gains_budget")
        self.budget.value = NO_BUDGET if budget is None else (budget - margin) / total

    def _cells(self, owner: np.ndarray, size: int) -> Any:
        """Where each lot sits: (name, slot) compiled, else its column of the owner matrix."""
        count = len(owner)
        if not self.compiled:
            self.owner = sparse.csr_matrix(
                (np.ones(count), (owner, np.arange(count))), shape=(size, count)
            )
            return np.arange(count)
        slot = pd.Series(owner).groupby(owner).cumcount().to_numpy()
        return owner, slot

    def _place(self, values: np.ndarray) -> np.ndarray:
        if not self.compiled:
            return values
        out = np.zeros(self.sold.shape)
        out[self.cells] = values
        return out

    def rules(self, dx: Any) -> list[Any]:
        if self.compiled:
            per_name = cp.sum(self.sold, axis=1)
            short = cp.sum(cp.multiply(self.p(self.gain_short), self.sold))
            long = cp.sum(cp.multiply(self.p(self.gain_long), self.sold))
        else:
            per_name = self.owner @ self.sold
            short = self.p(self.gain_short) @ self.sold
            long = self.p(self.gain_long) @ self.sold
        bought = dx + per_name
        out = [
            self.short == self.p(self.base_short) + short,
            self.long == self.p(self.base_long) + long,
            self.sold <= self.p(self.cap),
            bought >= 0,
            bought <= self.p(self.buy_cap),
        ]
        if self.compiled or float(self.budget.value) < NO_BUDGET:
            out.append(self.short + self.long <= self.p(self.budget))
        return out

    def __call__(self, dx: Any) -> Any:
        if isinstance(dx, cp.Expression):
            inner = self.p(self.low) * (self.short + self.long)
            inner += self.p(self.extra_short) * cp.pos(self.short)
            inner += self.p(self.extra_long) * cp.pos(self.long)
            return cp.pos(inner) - self.p(self.base_tax)
        # At numbers: the lots the trade list takes (advisor/tax/lots.py), net of this year's.
        assert self.tax is not None, "bind the term first"
        n = len(self.prices)
        quantities = pd.Series(np.asarray(dx)[:n] * self.total, index=self.prices.index)
        quantities = quantities / self.prices
        sold = allocate(self.tax, quantities, self.prices) * self.prices.reindex(
            self.tax.lots["ticker"]
        ).to_numpy(dtype=float)
        gain = self.tax.gain_per_share(self.prices) / self.prices.reindex(
            self.tax.lots["ticker"]
        ).to_numpy(dtype=float)
        short_lot = self.tax.lots["short"].to_numpy(dtype=bool)
        short = float(self.base_short.value) + float(gain[short_lot] @ sold[short_lot]) / self.total
        long = float(self.base_long.value) + float(gain[~short_lot] @ sold[~short_lot]) / self.total
        due = convex_tax(short, long, *self.rates) * self.tax.weight
        return due - float(self.base_tax.value)

    def in_problem(self, x: cp.Variable, dx: cp.Variable) -> tuple[Any, list[Any]]:
        return self(dx), []  # its rules are among the constraints (Formulation.constraints)

    def lot_values(self) -> np.ndarray | None:
        """The value sold from each lot at the last solve (share of V), in tax.lots order."""
        value = self.sold.value
        if value is None:
            return None
        return np.asarray(np.asarray(value, dtype=float)[self.cells], dtype=float).copy()


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
        sellers = sorted({str(t) for t in lot_tickers[open_loss & rows & selling][loss_sold > TOL]})
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
