"""The `rebalance` use case: load -> score -> solve -> whole-share trades -> checks -> Proposal."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from advisor import checks
from advisor.checks import Check
from advisor.concentration import largest, look_through
from advisor.errors import InputError, TargetUnreachable
from advisor.exposures import Exposures, portfolio_exposures
from advisor.limits import EffectiveLimits, effective_limits
from advisor.market import MarketModel, SizeScheme
from advisor.optimize import ProblemData, Solver
from advisor.optimize.data import MEASURES
from advisor.portfolio import Portfolio
from advisor.portfolio.model import Account
from advisor.prices import PriceBook, PriceOptions, Quote, Stale, stale
from advisor.proposal import LotSale, TaxSummary
from advisor.scoring import Scored, score
from advisor.trades import TradePlan, plan_trades, taxes

NO_VOLUME_ADV = 1.0  # $; stands in for a missing volume so costs stay finite (never bought)


@dataclass(frozen=True)
class Proposal:
    scored: Scored  # the portfolio as it stands
    data: ProblemData
    limits: EffectiveLimits
    plan: TradePlan
    pretrade: tuple[Check, ...]
    after: Exposures
    # A taxable account's figures (None for a deferred or exempt one) and each sell's lots.
    tax: TaxSummary | None = None
    lots: Mapping[str, list[LotSale]] = dataclasses.field(default_factory=dict)
    tax_blind: TradePlan | None = None  # the same problem without the tax term

    @property
    def before(self) -> Exposures:
        return self.scored.exposures

    @property
    def status(self) -> str:
        return self.plan.status

    @cached_property
    def trade_quotes(self) -> dict[str, Quote]:
        """Each trade's price with its source and date."""
        return self.scored.quotes(self.plan.trades.index)

    def warnings(self) -> list[str]:
        """Unknown tickers in the quotes files; stale prices among holdings and trades."""
        return self.scored.warnings(self.plan.trades.index)

    def stale_trades(self) -> list[Stale]:
        """The trades priced older than the age limit (a limit-price basket refuses them)."""
        used = [(t, quote.day_text) for t, quote in self.trade_quotes.items()]
        return stale(used, self.scored.prices)


def propose(
    path: Path,
    scheme: SizeScheme = SizeScheme.cumulative,
    model_override: str | None = None,
    solver: Solver | None = None,
    prices: PriceOptions | None = None,
) -> Proposal:
    """The proposal for one portfolio file; `solver` carries formulations across accounts
    (a batch), else the account gets a solver of its own."""
    scored = score(path, scheme, model_override, prices)
    blind = problem_data(scored)
    data = taxed_data(scored, blind)
    today = checks.today(data)
    portfolio = scored.loaded.portfolio
    invest = data.equity_value <= 0 and portfolio.target is not None
    limits = effective_limits(portfolio.limits, today, checks.positions(data), invest=invest)
    # Where taxes cannot change the plan (no lot of known basis, no budget, no wash-sale rule
    # from the file), the plan is the tax-blind one, found without the tax term's machinery.
    matters = data.tax is not None and taxes.matters(data.tax)
    plan = plan_trades(data if matters else blind, portfolio.target, limits, solver=solver)
    pretrade = tuple(checks.pretrade_checks(data, plan.quantities, limits))
    state = checks.after(data, plan.quantities)
    after = portfolio_exposures(state.values, state.cash, scored.model.exposures(scheme))
    after = dataclasses.replace(after, companies=largest(scored.model, state.values, state.total))
    tax, lots, blind_plan = None, {}, None
    if data.tax is not None:
        # The tax-blind comparison: the same problem without the tax term (the same plan
        # where the term is zero: no lot of known basis and no wash-sale rule).
        blind_plan = plan
        if matters:
            blind_plan = plan_trades(blind, portfolio.target, limits, solver=solver)
        tax = taxes.summary(data, plan, blind_plan, portfolio.target, limits, solver)
        lots = taxes.lot_sales(data, plan.quantities)
    return Proposal(scored, data, limits, plan, pretrade, after, tax, lots, blind_plan)


def taxed_data(scored: Scored, data: ProblemData) -> ProblemData:
    """`data` with a taxable account's lots, rates and wash-sale rules (the file's recent
    sales block buys); a deferred or exempt account's as it is."""
    portfolio, model = scored.loaded.portfolio, scored.model
    if portfolio.tax.account is not Account.taxable:
        return data
    tax = taxes.tax_data(portfolio, model, scored.positions.index, data.tickers, scored.prices.day)
    can_buy = data.can_buy & ~data.tickers.isin(list(tax.no_buy))
    return dataclasses.replace(data, tax=tax, can_buy=can_buy)


def candidates(
    portfolio: Portfolio,
    model: MarketModel,
    held: pd.Index,
    no_buy: set[str | None],
    book: PriceBook | None = None,
) -> pd.Index:
    """Holdings, then what may be bought besides: funds, every listed stock with a price and
    volume, or named tickers (less `no_buy`, the resolved no_buy list). A price from a quotes
    file counts: a fund whose export gives no NAV may be bought at it."""
    securities = model.securities
    quoted = securities.index.isin([*(book.given if book else ()), *(book.listed if book else ())])
    buyable = securities["listed"].astype(bool) & ((securities["price"] > 0) | quoted)
    extra: list[str] = []
    for source in portfolio.limits.buy_from:
        if source == "funds":  # one fund per basket: SPY and VOO are IVV's again
            own = ~securities.index.isin(model.standing_in)
            extra += list(securities.index[buyable & own & (securities["type"] == "fund")])
        elif source == "all":
            extra += list(securities.index[buyable & (securities["adv"] > 0)])
        elif source != "holdings":
            resolved = model.tickers.resolve(source)
            if resolved is not None:
                extra.append(resolved)
    # A name not held that may not be bought stays at zero: leaving it out changes nothing.
    return held.append(pd.Index(sorted(set(extra) - set(held) - no_buy)))


def problem_data(scored: Scored) -> ProblemData:
    portfolio, model = scored.loaded.portfolio, scored.model
    held = scored.positions.groupby(level=0, sort=False)[["shares", "value"]].sum()
    prices = scored.positions.groupby(level=0, sort=False)["price"].first()
    no_buy = {model.tickers.resolve(t) for t in portfolio.limits.no_buy}
    tickers = candidates(portfolio, model, held.index, no_buy, scored.book)
    if tickers.empty and (portfolio.target is not None or portfolio.limits.cash_max is not None):
        raise TargetUnreachable(
            f"nothing may be bought: the account holds cash alone, and buy_from "
            f"{portfolio.limits.buy_from} (less no_buy) names no security to invest it in; add "
            "funds, all or tickers to limits.buy_from"
        )
    securities = model.securities.loc[tickers, ["price", "listed", "adv", "type"]]
    all_prices = securities["price"].astype(float).copy()
    for ticker in tickers.difference(prices.index):  # not held: the quotes files', else the model's
        quote = scored.book.quote(ticker)
        if quote is not None:
            all_prices[ticker] = quote.price
    all_prices[prices.index] = prices.to_numpy(dtype=float)  # typed: an account may hold none
    _require_prices(scored, all_prices)
    table = model.exposures(scored.scheme).loc[tickers]
    columns = [*MEASURES, *(c for c in table.columns if c.startswith("sector:"))]
    loadings, factor_cov, specific = model.risk_model(tickers)
    in_buy_from = "holdings" in portfolio.limits.buy_from
    no_sell = {model.tickers.resolve(t) for t in portfolio.limits.no_sell}
    more = in_buy_from | ~tickers.isin(held.index)  # holdings are bought only with 'holdings'
    can_buy = pd.Series(~tickers.isin(list(no_buy)) & securities["listed"].to_numpy(dtype=bool)
                        & more, index=tickers)  # fmt: skip
    adv = securities["adv"].astype(float)
    return ProblemData(
        tickers=tickers,
        values=held["value"].reindex(tickers, fill_value=0.0),
        shares=held["shares"].reindex(tickers, fill_value=0.0),
        prices=all_prices,
        cash=float(portfolio.cash),
        exposures=table[columns],
        loadings=loadings,
        factor_cov=factor_cov,
        specific_var=specific,
        half_spread=model.half_spread(tickers),
        adv=adv.where(adv > 0, NO_VOLUME_ADV),
        impact_coef=float(model.meta.get("costs", {}).get("impact_coefficient", 0.02)),
        commission=float(model.meta.get("costs", {}).get("commission_per_trade", 0.0)),
        is_fund=securities["type"] == "fund",
        can_buy=can_buy & (adv > 0).to_numpy(),
        can_sell=pd.Series([t not in no_sell for t in tickers], index=tickers),
        lookthrough=look_through(model, tickers),
    )


def _require_prices(scored: Scored, prices: pd.Series) -> None:
    """A ticker named in buy_from needs a price to be bought (a fund the model prices not)."""
    unpriced = prices.index[~(prices.to_numpy(dtype=float) > 0)]
    if unpriced.empty:
        return
    loaded, model = scored.loaded, scored.model
    named = [model.tickers.resolve(t) for t in loaded.portfolio.limits.buy_from]
    ticker = str(unpriced[0])
    field = f"limits.buy_from[{named.index(ticker)}]" if ticker in named else "limits.buy_from"
    raise InputError(
        loaded.where(field),
        f"names {ticker} ({model.securities.at[ticker, 'name']}), which model {model.name} "
        "has no price for",
        value=ticker,
        fix="give its price in a quotes file (--prices FILE, or prices: FILE in the portfolio "
        "file), or leave it out",
    )


def turnover(proposal: Proposal) -> float:
    value = proposal.before.value
    return float(np.abs(proposal.plan.trades["value"]).sum() / value) if value else 0.0
