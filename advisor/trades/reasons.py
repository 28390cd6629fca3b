"""Why each trade is proposed: the target or rule it serves, with the figure it moves.

A reason is true of the trade list, not guessed from a direction: a trade serves a rule when the
rule is broken today and the trade moves it toward its limit, or when the list without that one
trade would break it. Every figure is the whole list's, before -> after, e.g. "trim AAPL 18.3%
-> 8.0% (max_position 8%)". A trade that serves no rule and no target keeps the risk profile
close to today's (the only other thing the optimizer weighs; the noise filter has dropped the
trades worth less than they cost).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Final

import numpy as np
import pandas as pd

from advisor import checks
from advisor.limits import RISK_LIMITS, EffectiveLimits
from advisor.measures import RISK_MEASURES
from advisor.optimize.data import ProblemData
from advisor.portfolio import Target

MOST: Final = 2  # reasons shown per trade
RISK_KIND: Final = {m.name: m.kind for m in RISK_MEASURES}
TOL: Final = checks.RATIO_TOL


def shown(value: float, kind: str) -> str:
    """A figure as the reports show it: shares as percents, ratios with their decimals."""
    if not np.isfinite(value):
        return "none"  # a ratio to equity where nothing is held
    if kind == "%":
        return f"{100 * value:.1f}%"
    if kind == "$":
        return f"{value:.4f}"
    if kind == "score":
        return f"{value:+.2f}"
    return f"{value:.2f}"


def limit_text(value: float, kind: str) -> str:
    return f"{100 * value:.3g}%" if kind == "%" else f"{value:.3g}"


@dataclass(frozen=True)
class Trades:
    """The trade list's state before and after, and after without each trade alone."""

    data: ProblemData
    quantities: pd.Series
    limits: EffectiveLimits

    @cached_property
    def after(self) -> checks.After:
        return checks.after(self.data, self.quantities)

    @cached_property
    def traded(self) -> np.ndarray:
        return np.flatnonzero(self.quantities.to_numpy(dtype=float) != 0)

    @cached_property
    def moved(self) -> np.ndarray:
        """Each trade's value (signed $), in the order of `traded`."""
        return np.asarray(self.after.trade_values.to_numpy(dtype=float)[self.traded])

    def ratios(self, column: str) -> tuple[float, float, np.ndarray]:
        """A measure's value before, after, and after without each trade."""
        data, after = self.data, self.after
        exposure = data.exposures[column].to_numpy(dtype=float)
        values_before = data.values.to_numpy(dtype=float)
        values = after.values.to_numpy(dtype=float)
        before = _ratio(exposure @ values_before, values_before.sum())
        equity = float(values.sum())
        now = _ratio(exposure @ values, equity)
        left = equity - self.moved
        without = np.divide(
            exposure @ values - self.moved * exposure[self.traded],
            left,
            out=np.full(len(left), np.nan),
            where=left > 0,
        )
        return before, now, without

    def cash(self) -> tuple[float, float, np.ndarray]:
        """Cash's share of value before, after, and after without each trade."""
        data, after = self.data, self.after
        costs = after.costs.to_numpy(dtype=float)[self.traded]
        cash = after.cash + self.moved + costs
        total = after.total + costs
        return data.cash / data.total_value, after.cash / after.total, cash / total


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator > 0 else float("nan")


def reasons(
    data: ProblemData, quantities: pd.Series, limits: EffectiveLimits, target: Target | None
) -> pd.Series:
    """The reason of each trade (empty for names not traded)."""
    quantities = quantities.reindex(data.tickers, fill_value=0.0)
    trades = Trades(data, quantities, limits)
    found: dict[int, list[str]] = {int(i): [] for i in trades.traded}
    for finder in (_positions, _funds, _risks, _sectors, _cash_floor, _target, _cash_ceiling):
        for i, text in finder(trades, target):
            found[i].append(text)
    out = pd.Series("", index=data.tickers, dtype=object)
    for i, texts in found.items():
        if not texts:
            texts = ["keep the risk profile close to today's (market, size, sector factors)"]
        out.iloc[i] = "; ".join(list(dict.fromkeys(texts))[:MOST])
    return out


Found = list[tuple[int, str]]


def _positions(trades: Trades, target: Target | None) -> Found:
    """Sales that bring a company within max_position, or keep it there."""
    data, limits, after = trades.data, trades.limits, trades.after
    through = data.through
    cap = limits.max_position
    today = through.values(data.values.to_numpy(dtype=float)) / data.total_value
    values = through.values(after.values.to_numpy(dtype=float))
    now = values / after.total
    kept = through.companies.isin(list(limits.kept))
    columns = through.matrix.tocsc()
    out: Found = []
    for i, moved in zip(trades.traded, trades.moved, strict=True):
        if moved >= 0:
            continue
        rows = columns.indices[columns.indptr[i] : columns.indptr[i + 1]]
        weight = columns.data[columns.indptr[i] : columns.indptr[i + 1]]
        without = (values[rows] - moved * weight) / (after.total - moved)
        served = ~kept[rows] & ((today[rows] > cap + TOL) | (without > cap + TOL))
        for c in rows[served]:
            verb = "trim" if today[c] > cap + TOL else "keep"
            moves = f"{shown(today[c], '%')} -> {shown(now[c], '%')}"
            company = through.companies[c]
            out.append((int(i), f"{verb} {company} {moves} (max_position {limit_text(cap, '%')})"))
    return out


def _funds(trades: Trades, target: Target | None) -> Found:
    """Sales that bring a fund within max_fund_position."""
    cap = trades.limits.max_fund_position
    if cap is None:
        return []
    data, after = trades.data, trades.after
    out: Found = []
    for i, moved in zip(trades.traded, trades.moved, strict=True):
        ticker = str(data.tickers[i])
        if moved >= 0 or not data.is_fund.iloc[i] or ticker in trades.limits.kept:
            continue
        before = float(data.values.iloc[i]) / data.total_value
        now = float(after.values.iloc[i]) / after.total
        if before > cap + TOL:
            text = f"trim {ticker} {shown(before, '%')} -> {shown(now, '%')} "
            out.append((i, text + f"(max_fund_position {limit_text(cap, '%')})"))
    return out


def _risks(trades: Trades, target: Target | None) -> Found:
    """Trades that bring a risk measure within its limit, or keep it there."""
    out: Found = []
    for name, measure in RISK_LIMITS.items():
        cap = float(getattr(trades.limits, name))
        before, now, without = trades.ratios(measure)
        kind = RISK_KIND[measure]
        figure = f"{measure} {shown(before, kind)} -> {shown(now, kind)} ({name} {cap:.3g})"
        for k, i in enumerate(trades.traded):
            if before > cap + TOL and without[k] > now + TOL:
                out.append((int(i), f"cut {figure}"))
            elif without[k] > cap + TOL:
                out.append((int(i), f"keep {figure}"))
    return out


def _sectors(trades: Trades, target: Target | None) -> Found:
    """Trades without which a sector would drift further than sector_drift_max."""
    data, limits = trades.data, trades.limits
    if data.equity_value <= 0:
        return []
    cap = limits.sector_drift_max
    out: Found = []
    for column in data.sectors:
        before, now, without = trades.ratios(column)
        sector = column.split(":", 1)[1]
        for k, i in enumerate(trades.traded):
            if abs(without[k] - before) > cap + TOL >= abs(now - before):
                out.append((int(i), f"keep {sector} {shown(before, '%')} -> {shown(now, '%')} "
                                    f"within sector_drift_max {100 * cap:g} pts"))  # fmt: skip
    return out


def _cash_floor(trades: Trades, target: Target | None) -> Found:
    """Sales that raise cash to cash_min, or whose proceeds the buys need to keep it."""
    floor = trades.limits.cash_min
    before, now, without = trades.cash()
    figure = f"cash {shown(before, '%')} -> {shown(now, '%')} (cash_min {limit_text(floor, '%')})"
    out: Found = []
    for k, i in enumerate(trades.traded):
        if trades.moved[k] >= 0:
            continue
        if before < floor - TOL:
            out.append((int(i), f"raise {figure}"))
        elif without[k] < floor - TOL:
            out.append((int(i), f"fund the buys: {figure}"))
    return out


def _cash_ceiling(trades: Trades, target: Target | None) -> Found:
    """Buys that invest cash above cash_max, or the proceeds of the sales."""
    ceiling = trades.limits.cash_max
    before, now, without = trades.cash()
    figure = f"cash {shown(before, '%')} -> {shown(now, '%')} "
    figure += f"(cash_max {limit_text(ceiling, '%')})"
    out: Found = []
    for k, i in enumerate(trades.traded):
        if trades.moved[k] <= 0:
            continue
        if before > ceiling + TOL:
            out.append((int(i), f"invest {figure}"))
        elif without[k] > ceiling + TOL:
            out.append((int(i), f"invest the proceeds: {figure}"))
    return out


def _target(trades: Trades, target: Target | None) -> Found:
    """Trades that move the target measure toward the target, or keep it in its band."""
    if target is None:
        return []
    kind = "score" if target.measure == "size_score" else "%"
    before, now, without = trades.ratios(target.measure)
    band = f"{limit_text(target.value, kind)} ± {limit_text(target.band, kind)}"
    figure = f"{target.measure} {shown(before, kind)} -> {shown(now, kind)} (target {band})"
    outside = not abs(before - target.value) <= target.band + TOL
    goal = target.value - (before if np.isfinite(before) else 0.0)
    out: Found = []
    for k, i in enumerate(trades.traded):
        toward = (now - without[k]) * goal > 0 or not np.isfinite(without[k])
        lost = not abs(without[k] - target.value) <= target.band + TOL
        if outside and toward:
            verb = "raise" if goal > 0 else "lower"
            text = (
                f"{verb} {figure}" if trades.moved[k] > 0 else f"sell toward the target: {figure}"
            )
            out.append((int(i), text))
        elif lost and abs(now - target.value) <= target.band + TOL:
            out.append((int(i), f"keep {figure}"))
    return out
