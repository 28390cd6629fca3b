"""Independent checks of every hard rule, from the final trade list, with plain numpy/pandas.

Nothing here shares code with the optimizer's formulation: the state after trades is recomputed
from shares, prices, cash and the exposures table, costs from the cost model's dollar formula
(README's: half-spread, market impact by the square-root law, commission), whatever stand-in
the optimizer prices impact with.
Ratios are checked to RATIO_TOL, money to MONEY_TOL x portfolio value; a rule outside that is
failed, never rounded into a pass.

Value V is cash + sum(shares x price). Shares of value (max_position, cash_min) are of the value
after trades and estimated costs; turnover and order sizes are of today's value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from advisor.enums import CheckName
from advisor.limits import RISK_LIMITS, EffectiveLimits, Positions
from advisor.portfolio import Target
from advisor.tax.liability import realized, year_realized
from advisor.tax.lots import allocate

if TYPE_CHECKING:
    from advisor.optimize.data import ProblemData

RATIO_TOL: Final = 1e-7
MONEY_TOL: Final = 1e-9
SHARE_TOL: Final = 1e-9
MAX_ORDER_SHARE: Final = 0.25  # pre-trade: no buy above this share of V (sells: the position)
MAX_ADV_SHARE: Final = 0.05  # pre-trade: no order above this share of the security's ADV
WAIVERS: Final = 16  # small trades tried for a rule that needs them (each re-runs the rules)
EQUITY_KEPT: Final = 0.5  # a rebalance keeps this share of today's equity invested (at least)


@dataclass(frozen=True)
class Check:
    """One rule, checked: its value against its limit, and which securities break it."""

    name: CheckName
    ok: bool
    value: float
    limit: float
    detail: str = ""


@dataclass(frozen=True)
class After:
    """The portfolio after trades: shares, values, cash, costs, totals."""

    shares: pd.Series
    values: pd.Series
    trade_values: pd.Series
    costs: pd.Series
    cash: float
    total: float


def measures(values: pd.Series, exposures: pd.DataFrame) -> pd.Series:
    """Every exposure column as a ratio to equity value (NaN when nothing is held)."""
    weights = _aligned(values, exposures.index)
    equity = float(weights.sum())
    if equity <= 0:
        return pd.Series(np.nan, index=exposures.columns)
    return pd.Series(weights @ exposures.to_numpy(dtype=float) / equity, index=exposures.columns)


def today(data: ProblemData) -> dict[str, float]:
    """Today's risk measures and cash share: the `today` that limits.effective_limits takes."""
    now = measures(data.values, data.exposures).fillna(0.0)
    out = {measure: float(now[measure]) for measure in RISK_LIMITS.values()}
    out["cash"] = data.cash / data.total_value
    return out


def positions(data: ProblemData) -> Positions:
    """Today's look-through positions: each company's and each fund's share of value, and the
    part of each that no_sell keeps."""
    values = data.values.to_numpy(dtype=float) / data.total_value
    unsold = np.where(data.can_sell.to_numpy(dtype=bool), 0.0, values)
    through = data.through
    fund = data.is_fund.to_numpy(dtype=bool)
    return Positions(
        companies=pd.Series(through.values(values), index=through.companies),
        companies_unsold=pd.Series(through.values(unsold), index=through.companies),
        funds=pd.Series(values[fund], index=data.tickers[fund]),
        funds_unsold=pd.Series(unsold[fund], index=data.tickers[fund]),
    )


def trade_costs(data: ProblemData, quantities: pd.Series) -> pd.Series:
    """Estimated $ cost of each trade: half-spread, market impact and commission (see _costs).
    Indexed by data.tickers: a ticker `quantities` lacks costs 0; a label not in data.tickers is
    ignored."""
    return pd.Series(_costs(data, _on_tickers(data, quantities)), index=data.tickers)


def after(data: ProblemData, quantities: pd.Series) -> After:
    """The state after trading `quantities` (signed shares per ticker) at today's prices."""
    traded = _on_tickers(data, quantities)
    prices = data.prices.to_numpy(dtype=float)
    shares = data.shares.to_numpy(dtype=float) + traded
    trade_values = traded * prices
    costs = _costs(data, traded)
    cash = data.cash - float(trade_values.sum()) - float(costs.sum())
    values = shares * prices

    def by_ticker(array: np.ndarray) -> pd.Series:
        return pd.Series(array, index=data.tickers)

    return After(
        by_ticker(shares), by_ticker(values), by_ticker(trade_values), by_ticker(costs),
        cash, cash + float(values.sum()),
    )  # fmt: skip


# Plain arrays below: these run several times per account while rounding, and pandas' index
# alignment cost more than the arithmetic itself.
def _aligned(series: pd.Series, index: pd.Index) -> np.ndarray:
    """`series` as an array in the order of `index`, 0 for a label it lacks."""
    if not series.index.equals(index):
        series = series.reindex(index, fill_value=0.0)
    out: np.ndarray = series.to_numpy(dtype=float, na_value=np.nan)
    return out


def _on_tickers(data: ProblemData, quantities: pd.Series) -> np.ndarray:
    """`quantities` aligned on data.tickers, refused unless every one is a finite number."""
    traded = _aligned(quantities, data.tickers)
    bad = ~np.isfinite(traded)
    if bad.any():  # a caller's bug, which the sums would carry into cash
        found = dict(zip(data.tickers[bad], traded[bad], strict=True))
        raise ValueError(f"trade quantities must be finite: {found}")
    return traded


def _costs(data: ProblemData, traded: np.ndarray) -> np.ndarray:
    """The documented cost of a trade of $t: half-spread x t, plus impact_coef x sqrt(t / adv)
    x t (the square-root law), plus commission. Always this law: data.impact_form only says how
    the optimizer approximates it."""
    amount = np.abs(traded * data.prices.to_numpy(dtype=float))
    spread = data.half_spread.to_numpy(dtype=float) * amount
    impact = data.impact_coef * amount**1.5 / np.sqrt(data.adv.to_numpy(dtype=float))
    commission = data.commission * (traded != 0)
    out: np.ndarray = spread + impact + commission
    return out


def apply_trades(data: ProblemData, quantities: pd.Series) -> tuple[pd.Series, float]:
    """New shares per ticker and new cash once `quantities` are executed as estimated."""
    state = after(data, quantities)
    return state.shares, state.cash


def check_trades(
    data: ProblemData,
    limits: EffectiveLimits,
    target: Target | None,
    quantities: pd.Series,
) -> list[Check]:
    """Every hard rule on the portfolio after `quantities`; today's portfolio if all zero.

    A trade below its minimum size passes where another rule needs it: without it, a rule
    (the target aside) fails that holds with it, such as max_names needing a small holding
    sold out."""
    quantities = quantities.reindex(data.tickers, fill_value=0.0)
    state = after(data, quantities)
    traded = quantities != 0
    rules = _rules(data, limits, target, quantities, state)
    broken = {c.name for c in rules if not c.ok}

    def needed(ticker: object) -> bool:
        without = quantities.copy()
        without[ticker] = 0.0
        found = _rules(data, limits, None, without, after(data, without))
        return bool({c.name for c in found if not c.ok} - broken)

    sizes = [
        _min_trade(data, state, traded, limits, needed),
        _min_position(data, state, traded, limits, needed),
    ]
    return [*rules[:2], *sizes, *rules[2:], *tax_checks(data, quantities)]


def tax_checks(data: ProblemData, quantities: pd.Series) -> list[Check]:
    """A taxable account's rules on the lots the trade list sells (advisor/tax/lots.py's
    `allocate`): every lot sold exists and holds the shares, the lots add up to each sell; no
    wash sale (no buy the file's recent sales forbid, no loss lot sold of a security the file
    forbids selling at a loss or whose group the list buys); net gains of the year within
    gains_budget."""
    tax = data.tax
    if tax is None:
        return []
    lots, prices = tax.lots, data.prices
    sold = allocate(tax, quantities, prices)
    held = lots["shares"].to_numpy(dtype=float)
    by_ticker = pd.Series(sold).groupby(lots["ticker"].to_numpy()).sum()
    sells = (-quantities[quantities < 0]).astype(float)
    taken = by_ticker.reindex(sells.index, fill_value=0.0)
    off = (taken - sells).abs() > SHARE_TOL * np.maximum(1.0, sells)
    over = (sold > held * (1 + SHARE_TOL)) | (sold < 0)
    bad = sorted({*map(str, sells.index[off.to_numpy()]), *map(str, lots["ticker"][over])})
    out = [
        Check(CheckName.LOTS, not bad, float(len(bad)), 0.0,
              f"sells whose lots do not add up: {_names(bad)}" if bad else
              "every lot sold exists and the lots add up to each sell")
    ]  # fmt: skip
    gains = tax.gain_per_share(prices)
    bought = quantities.index[quantities.to_numpy(dtype=float) > 0].astype(str)
    groups = {tax.group_of(t) for t in bought}
    tickers = lots["ticker"].astype(str)
    loss_sold = (sold > 0) & (gains < 0)
    washes = sorted(
        {*(t for t in bought if t in tax.no_buy)}
        | set(tickers[loss_sold & tickers.isin(list(tax.no_loss_sale)).to_numpy()])
        | set(tickers[loss_sold & tickers.map(tax.group_of).isin(groups).to_numpy()])
    )
    out.append(
        Check(CheckName.WASH_SALE, not washes, float(len(washes)), 0.0,
              f"wash sales: {_names(washes)}" if washes else "no wash sale")
    )  # fmt: skip
    if tax.budget is not None:
        year = year_realized(tax, realized(tax, sold, prices)).net
        out.append(
            Check(CheckName.GAINS_BUDGET, year <= tax.budget + MONEY_TOL * data.total_value,
                  year, tax.budget, "net gains realized this year, this proposal's included")
        )  # fmt: skip
    return out


def _rules(
    data: ProblemData,
    limits: EffectiveLimits,
    target: Target | None,
    quantities: pd.Series,
    state: After,
) -> list[Check]:
    """Every rule but the minimum sizes."""
    out = [
        _no_short(data, state),
        _whole_shares(data, quantities, limits.whole_shares),
        _cash_floor(state, limits.cash_min),
        _cash_ceiling(state, limits.cash_max),
        *_restricted(data, quantities),
    ]
    now_after = measures(state.values, data.exposures).fillna(0.0)
    for name, measure in RISK_LIMITS.items():
        level, cap = float(now_after[measure]), getattr(limits, name)
        out.append(
            Check(CheckName(name), level <= cap + RATIO_TOL, level, cap, f"{measure} after trades")
        )
    turnover = float(state.trade_values.abs().sum()) / data.total_value
    out.append(
        Check(
            CheckName.MAX_TURNOVER,
            turnover <= limits.max_turnover + RATIO_TOL,
            turnover,
            limits.max_turnover,
            "sum of |trade value| / value today",
        )
    )
    out.append(_positions(data, state, limits))
    if limits.max_fund_position is not None:
        out.append(_fund_positions(data, state, limits))
    if limits.max_names is not None:
        out.append(names_check(state.shares, limits.max_names))
    out.append(_equity_kept(data, state, limits.cash_min))
    out.append(_sector_drift(data, state, limits.sector_drift_max))
    if target is not None:
        out.append(target_check(state.values, data.exposures, target))
    return out


def target_check(values: pd.Series, exposures: pd.DataFrame, target: Target) -> Check:
    level = float(measures(values, exposures)[target.measure])
    if not np.isfinite(level):
        return Check(CheckName.TARGET, False, level, target.value, "no equity held: no measure")
    miss = abs(level - target.value)
    ok = miss <= target.band + RATIO_TOL
    return Check(
        CheckName.TARGET,
        ok,
        level,
        target.value,
        f"{target.measure} {level:.4f}, target {target.value:g} ± {target.band:g}",
    )


def pretrade_checks(
    data: ProblemData,
    quantities: pd.Series,
    limits: EffectiveLimits,
    *,
    max_order_share: float = MAX_ORDER_SHARE,
    max_adv_share: float = MAX_ADV_SHARE,
) -> list[Check]:
    """Checks before an order list goes to a broker: prices, holdings, cash, order sizes.

    Only buys are capped at `max_order_share` of value: a concentrated position must be
    sellable, and a sale is bounded by the shares held (no_short) and by `max_adv_share`."""
    quantities = quantities.reindex(data.tickers, fill_value=0.0)
    traded = quantities != 0
    prices = data.prices[traded]
    bad_price = prices.index[~(np.isfinite(prices) & (prices > 0))]
    state = after(data, quantities)
    amount = state.trade_values.abs()
    order_share = amount / data.total_value
    bought, sold = order_share[quantities > 0], order_share[quantities < 0]
    too_big = bought[bought > max_order_share + RATIO_TOL]
    order_detail = _names(too_big.index)
    largest_sale = float(sold.max()) if len(sold) else 0.0
    if largest_sale > max_order_share + RATIO_TOL:  # allowed, but said: it is a large order
        order_detail += "; " if order_detail else ""
        order_detail += (
            f"largest sale {largest_sale:.1%} of value (sales are bounded by the position, "
            f"not by {max_order_share:.0%})"
        )
    participation = amount / data.adv
    too_thick = participation > max_adv_share + RATIO_TOL
    return [
        Check(CheckName.PRICES, bad_price.empty, float(len(bad_price)), 0.0, _names(bad_price)),
        _no_short(data, state),
        _cash_floor(state, limits.cash_min),
        Check(
            CheckName.ORDER_SHARE,
            too_big.empty,
            float(bought.max()) if len(bought) else 0.0,  # the buys': the cap is theirs
            max_order_share,
            order_detail,
        ),
        Check(
            CheckName.ADV_SHARE,
            not too_thick.any(),
            float(participation.max()),
            max_adv_share,
            _names(too_thick.index[too_thick]),
        ),
        *_restricted(data, quantities),
    ]


def failures(checks: Iterable[Check]) -> list[Check]:
    return [check for check in checks if not check.ok]


# -- the rules ---------------------------------------------------------------------------------


def _names(index: Iterable[object], most: int = 5) -> str:
    names = [str(t) for t in index]
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def _no_short(data: ProblemData, state: After) -> Check:
    oversold = -state.shares[state.shares < -SHARE_TOL]
    worst = float(oversold.max()) if len(oversold) else 0.0
    return Check(CheckName.NO_SHORT, oversold.empty, worst, 0.0, _names(oversold.index))


def _whole_shares(data: ProblemData, quantities: pd.Series, whole: bool) -> Check:
    if not whole:
        return Check(CheckName.WHOLE_SHARES, True, 0.0, 0.0, "fractional shares allowed")
    fractional = (quantities - quantities.round()).abs() > SHARE_TOL
    sells_all = (quantities + data.shares).abs() <= SHARE_TOL
    bad = fractional & ~sells_all
    return Check(
        CheckName.WHOLE_SHARES, not bad.any(), float(bad.sum()), 0.0, _names(bad.index[bad])
    )


def _min_trade(
    data: ProblemData,
    state: After,
    traded: pd.Series,
    limits: EffectiveLimits,
    needed: Callable[[object], bool],
) -> Check:
    minimum = limits.min_trade(data.total_value)
    amount = state.trade_values.abs()[traded]
    return _sized(CheckName.MIN_TRADE_VALUE, amount, minimum, limits.min_trade_value, needed,
                  f"the larger of min_trade_value ${limits.min_trade_value:,.0f} and "
                  f"min_trade_share {limits.min_trade_share:g} of value")  # fmt: skip


def _min_position(
    data: ProblemData,
    state: After,
    traded: pd.Series,
    limits: EffectiveLimits,
    needed: Callable[[object], bool],
) -> Check:
    """A security not held today is bought for at least min_position of value (in USD)."""
    minimum = limits.min_position * data.total_value
    new = traded & (data.shares <= SHARE_TOL) & (state.trade_values > 0)
    amount = state.trade_values[new]
    rule = f"new positions, at least min_position {limits.min_position:g} of value"
    return _sized(CheckName.MIN_POSITION, amount, minimum, limits.min_trade_value, needed, rule)


def _sized(
    name: CheckName,
    amount: pd.Series,
    minimum: float,
    floor: float,
    needed: Callable[[object], bool],
    rule: str,
) -> Check:
    """Trades of `amount` at least `minimum`, but where another rule needs a smaller one (of
    at least `floor`, min_trade_value, which is never waived)."""
    small = amount[amount < minimum * (1 - MONEY_TOL)]
    # Each waiver re-runs every rule: the largest WAIVERS small trades are tried, no more.
    tried = small[small >= floor * (1 - MONEY_TOL)].sort_values(ascending=False).index[:WAIVERS]
    waived = [t for t in tried if needed(t)]
    bad = small.drop(waived)
    kept = amount.drop(waived)
    least = float(kept.min()) if len(kept) else 0.0
    detail = rule
    if len(bad):
        detail = f"{_names(bad.index)} below it; " + detail
    if waived:
        detail += f"; smaller where another rule needs it: {_names(waived)}"
    return Check(name, bad.empty, least, minimum, detail)


def _cash_floor(state: After, cash_min: float) -> Check:
    share = state.cash / state.total if state.total > 0 else 0.0
    ok = state.cash >= cash_min * state.total - MONEY_TOL * max(state.total, 1.0)
    detail = f"cash after trades and costs ${state.cash:,.2f}"
    return Check(CheckName.CASH_MIN, ok, share, cash_min, detail)


def _cash_ceiling(state: After, cash_max: float) -> Check:
    share = state.cash / state.total if state.total > 0 else 0.0
    ok = state.cash <= cash_max * state.total + MONEY_TOL * max(state.total, 1.0)
    detail = f"cash after trades and costs ${state.cash:,.2f}"
    return Check(CheckName.CASH_MAX, ok, share, cash_max, detail)


def _restricted(data: ProblemData, quantities: pd.Series) -> list[Check]:
    bad_sell = (quantities < 0) & ~data.can_sell.astype(bool)
    bad_buy = (quantities > 0) & ~data.can_buy.astype(bool)
    return [
        Check(
            CheckName.NO_SELL,
            not bad_sell.any(),
            float(bad_sell.sum()),
            0.0,
            _names(bad_sell.index[bad_sell]),
        ),
        Check(
            CheckName.NO_BUY,
            not bad_buy.any(),
            float(bad_buy.sum()),
            0.0,
            _names(bad_buy.index[bad_buy]),
        ),
    ]


def _positions(data: ProblemData, state: After, limits: EffectiveLimits) -> Check:
    """Each company's look-through share of the value after trades (directly, in any share
    class, and through funds) at most max_position; a kept company no larger than today."""
    through = data.through
    after = through.values(state.values.to_numpy(dtype=float))
    today = through.values(data.values.to_numpy(dtype=float))
    share = after / state.total if state.total > 0 else after * 0.0
    kept = through.companies.isin(list(limits.kept))
    over = ~kept & (share > limits.max_position + RATIO_TOL)
    grown = kept & (after > today * (1 + RATIO_TOL) + MONEY_TOL * data.total_value)
    worst = int(np.argmax(share)) if len(share) else -1
    value = float(share[worst]) if worst >= 0 else 0.0
    parts = []
    if over.any():
        parts.append(_shares(through.companies[over], share[over]) + " above it")
    if grown.any():
        parts.append(_shares(through.companies[grown], share[grown]) + " kept, yet added to")
    if worst >= 0:
        parts.append(f"largest {through.companies[worst]} {100 * value:.1f}%")
    above = np.flatnonzero(kept & (share > limits.max_position + RATIO_TOL))
    held = [f"{through.companies[i]} {100 * share[i]:.1f}% "
            f"({limits.kept[str(through.companies[i])].why})" for i in above]  # fmt: skip
    if held:
        parts.append("kept: " + ", ".join(held))
    ok = not over.any() and not grown.any()
    return Check(CheckName.MAX_POSITION, ok, value, limits.max_position, "; ".join(parts))


def _fund_positions(data: ProblemData, state: After, limits: EffectiveLimits) -> Check:
    """Each fund's share of the value after trades at most max_fund_position."""
    cap = limits.max_fund_position
    assert cap is not None
    fund = data.is_fund.to_numpy(dtype=bool)
    after = state.values.to_numpy(dtype=float)[fund]
    today = data.values.to_numpy(dtype=float)[fund]
    names = data.tickers[fund]
    share = after / state.total if state.total > 0 else after * 0.0
    kept = names.isin(list(limits.kept))
    bad = (~kept & (share > cap + RATIO_TOL)) | (kept & (after > today * (1 + RATIO_TOL)))
    value = float(share.max()) if len(share) else 0.0
    detail = _shares(names[bad], share[bad]) + " above it" if bad.any() else "each fund"
    return Check(CheckName.MAX_FUND_POSITION, not bad.any(), value, cap, detail)


def _shares(names: Iterable[object], shares: np.ndarray) -> str:
    return _names(f"{n} {100 * float(v):.1f}%" for n, v in zip(names, shares, strict=True))


def names_check(shares: pd.Series, max_names: int) -> Check:
    """At most `max_names` securities held after trades (a fund is one name; cash is none)."""
    held = int((shares > SHARE_TOL).sum())
    ok = held <= max_names
    return Check(CheckName.MAX_NAMES, ok, float(held), float(max_names), "names held after")


def _equity_kept(data: ProblemData, state: After, cash_min: float) -> Check:
    """A rebalance rotates, it does not liquidate: equity after keeps EQUITY_KEPT of today's
    (or what the cash floor leaves, when that is less). In shares of today's value."""
    total = data.total_value
    equity = float(state.values.sum()) / total
    least = min(EQUITY_KEPT * data.equity_value, 0.9 * (1 - cash_min) * state.total) / total
    ok = equity >= least - RATIO_TOL
    return Check(CheckName.EQUITY_KEPT, ok, equity, least, "equity after trades / value today")


def _sector_drift(data: ProblemData, state: After, limit: float) -> Check:
    sectors = [c for c in data.exposures.columns if str(c).startswith("sector:")]
    if not sectors or data.values.sum() <= 0:
        return Check(CheckName.SECTOR_DRIFT_MAX, True, 0.0, limit, "no sectors today")
    before = measures(data.values, data.exposures[sectors])
    now = measures(state.values, data.exposures[sectors]).fillna(0.0)
    drift = (now - before).abs()
    worst = float(drift.max())
    bad = drift[drift > limit + RATIO_TOL]
    return Check(CheckName.SECTOR_DRIFT_MAX, bad.empty, worst, limit, _names(bad.index))
