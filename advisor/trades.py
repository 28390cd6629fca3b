"""From optimal dollar values to a whole-share trade list that passes every check.

plan_trades is the loop: nothing to do if today's portfolio already passes every rule; else
solve, round to whole shares (never selling more than held), drop trades below min_trade_value,
trim buys to keep the cash floor, then re-check independently (checks.py). A failed rule is
repaired by solving again with that rule tightened by what rounding cost it, the dropped trades
frozen and the realised costs reserved; a plan whose checks still fail says so (ok is False).
When the target is out of reach the diagnosis is attached to the best proposal the limits allow.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from advisor import checks
from advisor.checks import Check
from advisor.errors import PreTradeCheckFailed, TargetUnreachable
from advisor.limits import RISK_LIMITS, EffectiveLimits
from advisor.optimize import cardinality
from advisor.optimize.data import ProblemData
from advisor.optimize.diagnose import (
    Blocker,
    Diagnosis,
    diagnose,
    names_diagnosis,
    outward,
    rounding_diagnosis,
)
from advisor.optimize.problem import Adjust, SolveOptions
from advisor.optimize.solve import Solution, solve
from advisor.portfolio import Target

MAX_REPAIRS: Final = 8
SOFT_TARGET: Final = 100.0  # weight of the target miss in the best proposal when out of reach
NOISE: Final = 1e-6  # a trade below this share of value is solver noise, not a decision
NOTHING_TO_DO: Final = "nothing to do"
UNREACHABLE: Final = "unreachable"
# Rules the repair can aim inside of by a margin (others hold by construction).
_MARGINS: Final = (
    *RISK_LIMITS,
    "max_turnover",
    "max_position",
    "sector_drift_max",
    "cash_min",
    "equity_kept",
    "target",
)


@dataclass(frozen=True)
class TradePlan:
    """Whole-share trades with their reasons, the independent checks, and how they were found."""

    trades: pd.DataFrame  # per traded ticker: side, shares, price, value, cost, reason
    quantities: pd.Series  # signed shares for every ticker (0 = no trade)
    checks: tuple[Check, ...]
    status: str  # 'nothing to do', 'optimal', 'optimal_inaccurate' or 'unreachable'
    diagnosis: Diagnosis | None = None
    solution: Solution | None = None
    repairs: int = 0

    @property
    def ok(self) -> bool:
        """Every rule holds, the target included."""
        return not checks.failures(self.checks)

    def failures(self) -> list[Check]:
        return checks.failures(self.checks)

    def raise_for_checks(self) -> None:
        """TargetUnreachable with the diagnosis when there is one (exit 3), else
        PreTradeCheckFailed naming every failed rule (exit 4); nothing when all is well."""
        failed = [c for c in self.failures() if not (self.diagnosis and c.name == "target")]
        text = "; ".join(f"{c.name} {c.value:.6g} vs {c.limit:.6g} {c.detail}" for c in failed)
        if self.diagnosis is not None:
            extra = f"; the best proposal also fails: {text}" if text else ""
            raise TargetUnreachable(self.diagnosis.message() + extra)
        if failed:
            raise PreTradeCheckFailed(f"the trade list fails checks: {text}")


def plan_trades(
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    options: SolveOptions | None = None,
) -> TradePlan:
    """The trade list for `data`, or no trades when today's portfolio already passes.

    Out of reach (the convex problem is infeasible, or whole shares cannot keep every rule),
    the plan is the best proposal within the limits with the target soft, and a diagnosis.
    """
    nothing = pd.Series(0.0, index=data.tickers)
    today = checks.check_trades(data, limits, target, nothing)
    if not checks.failures(today):
        return _plan(data, limits, target, nothing, today, NOTHING_TO_DO)
    room = _rounding_room(data, target, limits)
    first = solve(data, target, limits, options, room)
    if not first.feasible and room.margins:
        room = Adjust()
        first = solve(data, target, limits, options)
    if not first.feasible:
        found = diagnose(data, target, limits, options)
        return _best(data, target, limits, options, found, found.best_target())
    sub, restricted, base, within = _within_names(data, target, limits, options, first, room)
    if not within and room.margins:  # perhaps the rounding room is what max_names cannot give
        plain = solve(data, target, limits, options)
        if plain.feasible:
            sub, restricted, base, within = _within_names(
                data, target, limits, options, plain, Adjust()
            )
    if within:
        plan = _plan_from(sub, target, limits, options, restricted, base)
    else:
        names = int(cardinality.held_after(data, first, limits).sum())
        found = names_diagnosis(sub, target, limits, options, base, names)
        plan = _best(sub, target, limits, options, found, found.best_target(), base)
    return _lift(data, limits, target, plan)


def _rounding_room(data: ProblemData, target: Target | None, limits: EffectiveLimits) -> Adjust:
    """Aim a quarter of the band inside the target band, and inside the position cap by half a
    share of the dearest security that may trade (at most a tenth of the cap), so that rounding
    and dropping trades below min_trade_value seldom break them and need no second solve."""
    tradable = data.can_buy.to_numpy(dtype=bool) | (data.values.to_numpy(dtype=float) > 0)
    if not limits.whole_shares or not tradable.any():
        return Adjust()
    share = 0.5 * float(data.prices[tradable].max()) / data.total_value
    margins = {"max_position": min(share, 0.1 * limits.max_position)}
    if target is not None:
        margins["target"] = ROOM * target.band
    return Adjust(margins=margins)


ROOM: Final = 0.25  # share of the target band aimed inside by the first solve


def _plan_from(
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    options: SolveOptions | None,
    first: Solution,
    base: Adjust,
) -> TradePlan:
    """Round and repair the feasible `first`; if whole shares cannot keep every rule, the best
    proposal with the rules rounding cannot keep named."""
    plan = _round_and_repair(data, target, limits, options, first, base)
    if plan.ok:
        return plan
    # Feasible in the continuum, not in whole shares: say which rules rounding cannot keep.
    blockers = tuple(
        Blocker(c.name, c.limit, c.value, _SENSES.get(c.name, "max"), limits.source(c.name))
        for c in plan.failures()
        if c.name in _MARGINS and c.name != "target"
    )
    found = rounding_diagnosis(target, blockers)
    best = _best(data, target, limits, options, found, target, base)
    if target is not None and best.diagnosis is not None:
        # How near the best proposal (perhaps standing still) comes.
        reached = checks.measures(checks.after(data, best.quantities).values, data.exposures)
        closest = float(reached[target.measure])
        if math.isfinite(closest):
            found = rounding_diagnosis(target, best.diagnosis.blockers, closest)
            best = dataclasses.replace(best, diagnosis=found)
    return best


_SENSES: Final = {"cash_min": "min", "equity_kept": "min"}


def _within_names(
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    options: SolveOptions | None,
    solution: Solution,
    adjust: Adjust,
) -> tuple[ProblemData, Solution, Adjust, bool]:
    """`solution` brought within max_names: the problem over the names kept and today's
    holdings, its solution, the adjustment selling out the rest, and whether it keeps the limit
    (the inputs as they are when the solution already does)."""
    found = cardinality.restrict(data, target, limits, solution, options, adjust)
    if found is None:
        return data, solution, adjust, True
    within = cardinality.keeps_limit(found.data, found.solution, limits)
    return found.data, found.solution, found.adjust, within


def _lift(data: ProblemData, limits: EffectiveLimits, target: Target | None,
          plan: TradePlan) -> TradePlan:
    """A plan over some of `data`'s names as a plan over all of them; the names left out hold
    nothing and trade nothing, so every check is the same."""
    if plan.quantities.index.equals(data.tickers):
        return plan
    quantities = plan.quantities.reindex(data.tickers, fill_value=0.0)
    return _plan(data, limits, target, quantities, list(plan.checks), plan.status,
                 plan.diagnosis, plan.solution, plan.repairs)  # fmt: skip


def _names_blocker(found: Diagnosis, today: list[Check], limits: EffectiveLimits) -> Diagnosis:
    """The diagnosis naming max_names too when standing still breaks it."""
    broken = [c for c in today if c.name == "max_names" and not c.ok]
    if not broken or "max_names" in {b.name for b in found.blockers}:
        return found
    needed = Blocker("max_names", broken[0].limit, broken[0].value, "max",
                     limits.source("max_names"))  # fmt: skip
    return dataclasses.replace(found, blockers=(*found.blockers, needed))


def _best(
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    options: SolveOptions | None,
    found: Diagnosis,
    aim: Target | None,
    base: Adjust | None = None,
) -> TradePlan:
    """The best proposal within every limit, aiming at `aim` with the target made soft
    (and the names `base` excludes kept out)."""
    nothing = pd.Series(0.0, index=data.tickers)
    today = checks.check_trades(data, limits, target, nothing)
    if aim is None:
        found = _names_blocker(found, today, limits)
        return _plan(data, limits, target, nothing, today, UNREACHABLE, found)
    soft = dataclasses.replace(base or Adjust(), soft_target=SOFT_TARGET)
    widened = solve(data, aim, limits, options, soft)
    if not widened.feasible:
        found = _names_blocker(found, today, limits)
        return _plan(data, limits, target, nothing, today, UNREACHABLE, found)
    names = int(cardinality.held_after(data, widened, limits).sum())
    sub, widened, soft, within = _within_names(data, aim, limits, options, widened, soft)
    if not within:  # no choice of names tried keeps every limit: say so, and stand still
        hard = dataclasses.replace(soft, soft_target=0.0)
        found = names_diagnosis(sub, target, limits, options, hard, names)
        return _plan(data, limits, target, nothing, today, UNREACHABLE, found)
    plan = _lift(data, limits, aim, _round_and_repair(sub, aim, limits, options, widened, soft))
    if not plan.ok and not [c for c in today if not c.ok and c.name != "target"]:
        # No whole-share move keeps every limit, and standing still does: stand still.
        return _plan(data, limits, target, nothing, today, UNREACHABLE, found)
    honest = checks.check_trades(data, limits, target, plan.quantities)
    if not checks.failures(honest):  # out of reach by a hair, met after rounding after all
        return dataclasses.replace(plan, checks=tuple(honest), status=widened.status)
    # A rule even the best proposal cannot keep in whole shares is named in the diagnosis too.
    named = {b.name for b in found.blockers}
    extra = tuple(
        Blocker(c.name, c.limit, outward(c.value, _SENSES.get(c.name, "max")),
                _SENSES.get(c.name, "max"), limits.source(c.name))
        for c in checks.failures(honest)
        if (c.name in _MARGINS or c.name == "max_names") and c.name not in {*named, "target"}
    )  # fmt: skip
    if extra:
        found = dataclasses.replace(found, blockers=found.blockers + extra)
    return _plan(
        data, limits, target, plan.quantities, honest, UNREACHABLE, found, plan.solution,
        plan.repairs,
    )  # fmt: skip


def _round_and_repair(
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    options: SolveOptions | None,
    solution: Solution,
    adjust: Adjust | None = None,
) -> TradePlan:
    """Round `solution`; while a rule fails, solve again with `adjust` tightened."""
    adjust = adjust or Adjust()
    best: TradePlan | None = None
    for repair in range(MAX_REPAIRS + 1):
        quantities, dropped = round_trades(data, solution.trades, limits)
        quantities = trim_buys_for_cash(data, quantities, limits)
        found = checks.check_trades(data, limits, target, quantities)
        if adjust.soft_target:
            found = [c for c in found if c.name != "target"]
        plan = _plan(
            data, limits, target, quantities, found, solution.status, None, solution, repair
        )
        if plan.ok:
            return plan
        if best is None or _badness(plan) < _badness(best):
            best = plan
        adjust = _tighten(adjust, data, target, limits, solution, found, quantities, dropped)
        solution = solve(data, target, limits, options, adjust)
        if not solution.feasible and adjust.frozen:
            # Freezing the dropped trades went too far: ask for them at minimum size instead.
            least = {
                str(t): math.copysign(1.02 * limits.min_trade_value / data.total_value, s)
                for t, s in dropped.items()
            }
            adjust = dataclasses.replace(adjust, frozen=frozenset(), at_least=least)
            solution = solve(data, target, limits, options, adjust)
        if not solution.feasible:
            break
    assert best is not None
    return best


def _badness(plan: TradePlan) -> tuple[int, float]:
    failed = plan.failures()
    return len(failed), sum(abs(c.value - c.limit) for c in failed)


def _tighten(
    adjust: Adjust,
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    solution: Solution,
    found: list[Check],
    quantities: pd.Series,
    dropped: pd.Series,
) -> Adjust:
    """Aim inside each failed rule by what rounding cost it: at least half a share of the
    dearest security traded, else 1.5 x the miss, doubling if it fails again. Reserve the
    realised costs; freeze the trades rounding dropped."""
    total = data.total_value
    realised = float(checks.trade_costs(data, quantities).sum()) / total
    reserve = max(adjust.reserve, 1.1 * realised)
    traded = quantities[quantities != 0].index
    share = float(data.prices[traded].max()) / total if len(traded) else 0.0
    exact = dataclasses.replace(limits, whole_shares=False)
    wanted = solution.trades / data.prices
    smooth = {c.name: c for c in checks.check_trades(data, exact, target, wanted)}
    margins = dict(adjust.margins)
    for check in checks.failures(found):
        if check.name not in _MARGINS:
            continue
        missed = _excess(check, target)
        shift = missed - _excess(smooth[check.name], target)
        old = margins.get(check.name, 0.0)
        margins[check.name] = max(old + 1.5 * missed, 1.5 * shift, 2 * old, 0.5 * share) + 1e-6
    frozen = adjust.frozen | frozenset(str(t) for t in dropped.index)
    return dataclasses.replace(adjust, reserve=reserve, margins=margins, frozen=frozen)


def _excess(check: Check, target: Target | None) -> float:
    """How far past its rule a check's value is (negative: inside), in the rule's units."""
    if check.name in ("cash_min", "equity_kept"):
        return check.limit - check.value
    if check.name == "target" and target is not None:
        return abs(check.value - target.value) - target.band
    return check.value - check.limit


# -- rounding ------------------------------------------------------------------------------------


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


# -- the plan and its reasons ----------------------------------------------------------------


def _plan(
    data: ProblemData,
    limits: EffectiveLimits,
    target: Target | None,
    quantities: pd.Series,
    found: list[Check],
    status: str,
    diagnosis: Diagnosis | None = None,
    solution: Solution | None = None,
    repairs: int = 0,
) -> TradePlan:
    quantities = quantities.reindex(data.tickers, fill_value=0.0)
    traded = quantities[quantities != 0]
    prices = data.prices[traded.index]
    costs = checks.trade_costs(data, quantities)[traded.index]
    why = reasons(data, quantities, limits, target)
    table = pd.DataFrame(
        {
            "side": np.where(traded > 0, "buy", "sell"),
            "shares": traded.abs(),
            "price": prices,
            "value": (traded * prices).abs(),
            "cost": costs,
            "reason": why[traded.index],
        },
        index=traded.index,
    )
    return TradePlan(table, quantities, tuple(found), status, diagnosis, solution, repairs)


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
