"""A taxable account's side of a plan: its tax data for the optimizer, each sell's lots, and
the proposal's tax figures against the tax-blind plan."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

from advisor import checks
from advisor.limits import EffectiveLimits
from advisor.market import MarketModel
from advisor.optimize.data import ProblemData
from advisor.optimize.inputs import Adjust, Inputs
from advisor.optimize.problem import evaluation
from advisor.optimize.solve import Solver
from advisor.portfolio import Portfolio, Target
from advisor.proposal import LotSale, Realized, TaxBlind, TaxSummary
from advisor.tax import liability
from advisor.tax.lots import TaxData, allocate, lot_table
from advisor.tax.wash import identical, wash_rules
from advisor.trades.plan import TradePlan


def tax_data(
    portfolio: Portfolio,
    model: MarketModel,
    holdings: Iterable[str],
    tickers: pd.Index,
    run_date: date,
) -> TaxData:
    """The lots (holdings: each holding's resolved ticker, in file order), rates, this year's
    gains, the wash-sale rules of the file and the groups of substantially identical
    securities among `tickers`."""
    tax = portfolio.tax
    lots, unknown = lot_table(portfolio, list(holdings), run_date)
    rules = wash_rules(portfolio, model, run_date)
    group: dict[str, str] = {}
    for ticker in map(str, tickers):
        if ticker not in group:
            members = sorted(identical(model, ticker) & set(map(str, tickers)) | {ticker})
            for member in members:
                group.setdefault(member, members[0])
    return TaxData(
        lots=lots,
        short_rate=tax.short_term_rate,
        long_rate=tax.long_term_rate,
        realized_short=tax.realized_this_year.short_term,
        realized_long=tax.realized_this_year.long_term,
        budget=tax.gains_budget,
        weight=tax.tax_weight,
        group=group,
        no_loss_sale=dict(rules.no_loss_sale),
        no_buy={t: why for t, why in rules.no_buy.items() if t in set(map(str, tickers))},
        unknown_basis=unknown,
    )


def matters(tax: TaxData) -> bool:
    """Whether taxes can change the plan: a lot of known basis, a gains budget or a rule."""
    known = bool(tax.lots["cost_basis"].notna().any())
    return known or tax.budget is not None or bool(tax.no_buy) or bool(tax.no_loss_sale)


def lot_sales(data: ProblemData, quantities: pd.Series) -> dict[str, list[LotSale]]:
    """Each sell's lots the file lists: acquired, shares, cost basis, gain and term."""
    tax = data.tax
    assert tax is not None
    sold = allocate(tax, quantities, data.prices)
    gains = tax.gain_per_share(data.prices)
    out: dict[str, list[LotSale]] = {}
    for i, row in enumerate(tax.lots.itertuples(index=False)):
        if sold[i] <= 0 or not row.in_file:  # a holding without lots has none to name
            continue
        basis = None if np.isnan(row.cost_basis) else float(row.cost_basis)
        out.setdefault(str(row.ticker), []).append(
            LotSale(
                acquired="" if row.acquired is None else row.acquired.isoformat(),
                shares=float(sold[i]),
                cost_basis=basis,
                gain=float(gains[i] * sold[i]),
                term="short" if row.short else "long",
            )
        )
    return out


def _figures(data: ProblemData, tax: TaxData, quantities: pd.Series) -> tuple[float, Realized]:
    by_plan = liability.realized(tax, allocate(tax, quantities, data.prices), data.prices)
    due = liability.estimated_tax(tax, by_plan)
    return due, Realized(short_term=by_plan.short_term, long_term=by_plan.long_term)


def _risk_and_target(
    data: ProblemData,
    plan: TradePlan,
    target: Target | None,
    limits: EffectiveLimits,
    solver: Solver | None,
) -> tuple[float, float | None]:
    """The optimizer's risk-change term at the plan's trades, and the target measure after."""
    options = (solver or Solver()).options
    inputs = Inputs(data, target, limits, options, Adjust())
    risk = next(t for t in evaluation(inputs) if t.name == "risk")
    quantities = plan.quantities.reindex(data.tickers, fill_value=0.0)
    dx = quantities.to_numpy(dtype=float) * data.prices.to_numpy(dtype=float) / data.total_value
    reached = None
    if target is not None:
        state = checks.after(data, quantities)
        value = float(checks.measures(state.values, data.exposures)[target.measure])
        reached = value if np.isfinite(value) else None
    return float(risk(dx)), reached


def summary(
    data: ProblemData,
    plan: TradePlan,
    blind_plan: TradePlan,
    target: Target | None,
    limits: EffectiveLimits,
    solver: Solver | None,
) -> TaxSummary:
    """The proposal's tax figures, and the tax-blind plan's for comparison."""
    tax = data.tax
    assert tax is not None
    due, by_plan = _figures(data, tax, plan.quantities)
    blind_due, blind_realized = _figures(data, tax, blind_plan.quantities)
    risk, reached = _risk_and_target(data, blind_plan, target, limits, solver)
    blocked = [f"{t}: {why}" for t, why in sorted(tax.no_buy.items())]
    # A security the file forbids selling at a loss, where it has a lot at a loss.
    losing = set(tax.lot_tickers[tax.gain_per_share(data.prices) < 0])
    blocked += [f"{t}: not sold at a loss: {why}" for t, why in sorted(tax.no_loss_sale.items())
                if t in losing]  # fmt: skip
    adjust = plan.solution.adjust if plan.solution is not None else None
    if adjust is not None:
        blocked += list(adjust.wash_blocked)
    return TaxSummary(
        account="taxable",
        short_term_rate=tax.short_rate,
        long_term_rate=tax.long_rate,
        estimated_tax=due,
        realized=by_plan,
        year_realized=Realized(
            short_term=tax.realized_short + by_plan.short_term,
            long_term=tax.realized_long + by_plan.long_term,
        ),
        gains_budget=tax.budget,
        unknown_basis=list(tax.unknown_basis),
        wash_sale_blocked=blocked,
        tax_blind=TaxBlind(
            estimated_tax=blind_due,
            realized=blind_realized,
            trades=len(blind_plan.trades),
            target_value=reached,
            risk_change=risk,
        ),
    )
