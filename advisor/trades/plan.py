"""From optimal dollar values to a whole-share trade list that passes every check.

The Planner is the loop: nothing to do if today's portfolio already passes every rule; else
solve, round to whole shares (rounding.py), re-check independently (checks.py), and repair a
rule rounding broke by solving again with it tightened (repair.py); a plan whose checks still
fail says so (ok is False). When the target is out of reach the diagnosis is attached to the
best proposal the limits allow. Each trade carries its reason (reasons.py).
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
from advisor.enums import Status
from advisor.limits import EffectiveLimits
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
from advisor.optimize.inputs import Adjust, Inputs, SolveOptions
from advisor.optimize.problem import evaluation
from advisor.optimize.solve import Solution, Solver
from advisor.portfolio import Target
from advisor.trades.reasons import reasons
from advisor.trades.repair import MARGINS, MAX_REPAIRS, Rounded, sense
from advisor.trades.rounding import (
    NOISE,
    minimum,
    round_trades,
    spend_cash_to_ceiling,
    trim_buys_for_cash,
    within_lots,
)

SOFT_TARGET: Final = 100.0  # weight of the target miss in the best proposal when out of reach
PUT_BACK: Final = 16  # dropped trades tried back where a rule needs them
NUDGE: Final = 4.0  # trades below this times their minimum size are tried for noise
COSTS: Final = ("spread", "impact")  # the optimizer's cost terms: reported costs stand in
SIZE_ROUNDS: Final = 12  # relax-and-fix rounds for the minimum sizes (most need one or two)
SIZE_SOLVES: Final = 8  # solves relax-and-fix may take in all
# A problem of more names than this takes about a second a solve: relax-and-fix and the repairs
# get LARGE_SOLVES each, so that even 10,000 holdings end within seconds, not minutes.
LARGE: Final = 1000
LARGE_SOLVES: Final = 2
FEW: Final = 8  # small trades fixed at zero all at once; more are fixed the smaller half first
ROOM: Final = 0.25  # share of the target band aimed inside by the first solve
NOTHING_TO_DO: Final = Status.NOTHING_TO_DO
UNREACHABLE: Final = Status.UNREACHABLE


@dataclass(frozen=True)
class TradePlan:
    """Whole-share trades with their reasons, the independent checks, and how they were found."""

    trades: pd.DataFrame  # per traded ticker: side, shares, price, value, cost, reason
    quantities: pd.Series  # signed shares for every ticker (0 = no trade)
    checks: tuple[Check, ...]
    status: Status
    diagnosis: Diagnosis | None = None
    solution: Solution | None = None
    repairs: int = 0

    @property
    def ok(self) -> bool:
        """Every rule holds, the target included."""
        return not checks.failures(self.checks)

    def failures(self) -> list[Check]:
        return checks.failures(self.checks)


def plan_trades(
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    options: SolveOptions | None = None,
    *,
    solver: Solver | None = None,
) -> TradePlan:
    """The trade list for `data`, or no trades when today's portfolio already passes (see
    Planner); `solver` carries formulations across accounts (a batch)."""
    return Planner(data, target, limits, solver or Solver(options)).plan()


@dataclass(frozen=True)
class Planner:
    """The planning loop for one account (or the part of it max_names keeps)."""

    data: ProblemData
    target: Target | None
    limits: EffectiveLimits
    solver: Solver

    def plan(self) -> TradePlan:
        """The plan, each trade with its reason (reasons.py: worked out once, for the plan
        given, not for each attempt on the way)."""
        found = self._planned()
        if found.trades.empty:
            return found
        why = reasons(self.data, found.quantities, self.limits, self.target)
        trades = found.trades.assign(reason=why[found.trades.index])
        return dataclasses.replace(found, trades=trades)

    def _planned(self) -> TradePlan:
        """Out of reach (the convex problem is infeasible, or whole shares cannot keep every
        rule), the plan is the best proposal within the limits with the target soft, and a
        diagnosis."""
        nothing = self._nothing()
        today = self._checks(nothing)
        if not checks.failures(today):
            return self._plan(nothing, today, NOTHING_TO_DO)
        if self._no_trade_fits():  # no order may be as large as the smallest trade
            found = rounding_diagnosis(self.target, (), None, self._sizes())
            return self._plan(nothing, today, UNREACHABLE, found)
        room = self._rounding_room()
        first = self._solve(self.target, room)
        if not first.feasible and room.margins:
            room = Adjust()
            first = self._solve(self.target, room)
        if not first.feasible:
            found = diagnose(self.data, self.target, self.limits, self.solver)
            return self._best(found, found.best_target())
        room = first.adjust or room  # a taxable account's directions, fixed once, kept
        part, restricted, base, within = self._within_names(self.target, first, room)
        if not within and room.margins:  # perhaps the rounding room is what max_names can't give
            plain = self._solve(self.target, Adjust())
            if plain.feasible:
                part, restricted, base, within = self._within_names(self.target, plain, Adjust())
        if within:
            part, restricted, base = part._sized(restricted, base)
            plan = part._from_feasible(restricted, base)
        else:
            names = int(cardinality.held_after(self.data, first, self.limits).sum())
            found = names_diagnosis(part.data, self.target, self.limits, self.solver, base, names)
            plan = part._best(found, found.best_target(), base)
        return self._lift(plan)

    # -- steps ---------------------------------------------------------------------------------

    def _solve(self, aim: Target | None, adjust: Adjust) -> Solution:
        return self.solver.solve(self.data, aim, self.limits, adjust)

    def _checks(self, quantities: pd.Series) -> list[Check]:
        return checks.check_trades(self.data, self.limits, self.target, quantities)

    def _nothing(self) -> pd.Series:
        return pd.Series(0.0, index=self.data.tickers)

    def _rounding_room(self) -> Adjust:
        """Aim a quarter of the band inside the target band, and inside the position cap by
        half a share of the dearest security that may trade (at most a tenth of the cap), so
        that rounding and dropping trades below min_trade_value seldom break them and need no
        second solve."""
        data, limits = self.data, self.limits
        tradable = data.can_buy.to_numpy(dtype=bool) | (data.values.to_numpy(dtype=float) > 0)
        if not limits.whole_shares or not tradable.any():
            return Adjust()
        share = 0.5 * float(data.prices[tradable].max()) / data.total_value
        margins = {"max_position": min(share, 0.1 * limits.max_position)}
        if self.target is not None:
            margins["target"] = ROOM * self.target.band
        return Adjust(margins=margins)

    def _within_names(
        self, aim: Target | None, solution: Solution, adjust: Adjust
    ) -> tuple[Planner, Solution, Adjust, bool]:
        """`solution` brought within max_names: the planner over the names kept and today's
        holdings, its solution, the adjustment selling out the rest, and whether it keeps the
        limit (the inputs as they are when the solution already does)."""
        found = cardinality.restrict(self.data, aim, self.limits, solution, self.solver, adjust)
        if found is None:
            return self, solution, adjust, True
        within = cardinality.keeps_limit(found.data, found.solution, self.limits)
        part = dataclasses.replace(self, data=found.data)
        return part, found.solution, found.adjust, within

    def _sized(self, solution: Solution, adjust: Adjust) -> tuple[Planner, Solution, Adjust]:
        """Relax-and-fix for the minimum sizes (min_trade_value, min_trade_share, min_position):
        of the trades below their minimum, those under half of it are fixed at zero (names not
        held leave the problem) and the others at the minimum, and the problem solved again.
        Where that is infeasible: only the first fixed at zero (all, then, as when the
        relaxation spreads money thinly over hundreds of names, the smaller half, the smaller
        quarter), else only the others at the minimum. When no fixing is feasible, rounding and
        repair deal with what is left. At most SIZE_ROUNDS rounds."""
        part, found, base = self, solution, adjust
        solves = 0
        for _ in range(SIZE_ROUNDS):
            data = part.data
            trades = found.trades.reindex(data.tickers, fill_value=0.0).to_numpy(dtype=float)
            size = np.abs(trades)
            least = minimum(data, self.limits).to_numpy(dtype=float)
            small = (size > NOISE * data.total_value) & (size < least * (1 - 1e-9))
            if not small.any():
                break
            under = small & (size < least / 2)
            none = np.zeros(len(small), dtype=bool)
            tries = [*((d, none) for d in _smallest(under, size)), (none, small)]
            if under.sum() <= FEW:
                tries.insert(0, (under, small & ~under))
            for drop, lift in tries:
                sub, fixed = part._fixed(drop, lift, base, trades)
                if sub is None or solves >= part._budget(SIZE_SOLVES):
                    continue
                solves += 1
                again = sub._solve(sub.target, fixed)
                if again.feasible:
                    part, found, base = sub, again, fixed
                    break
            else:
                break
        return part, found, base

    def _fixed(
        self, drop: np.ndarray, lift: np.ndarray, base: Adjust, trades: np.ndarray
    ) -> tuple[Planner | None, Adjust]:
        """The planner and adjustment with the `drop` trades fixed at zero (holdings frozen,
        other names out of the problem, with those the answer leaves untraded) and the `lift`
        trades at their minimum, plus half a share so that rounding keeps them there. None
        when nothing would be left to trade, or nothing is fixed."""
        data, total = self.data, self.data.total_value
        held = data.values.to_numpy(dtype=float) > 0
        idle = ~held & ((np.abs(trades) <= NOISE * total) | drop)
        if idle.all() or not (drop.any() or lift.any()):
            return None, base
        least = minimum(data, self.limits).to_numpy(dtype=float)
        least = least + 0.51 * data.prices.to_numpy(dtype=float) * self.limits.whole_shares
        out = set(data.tickers[idle].astype(str))
        at_least = {t: v for t, v in base.at_least.items() if t not in out}
        at_least.update({str(t): float(np.sign(trades[i]) * 1.001 * least[i] / total)
                         for i, t in enumerate(data.tickers) if lift[i]})  # fmt: skip
        frozen = base.frozen | frozenset(str(t) for t in data.tickers[drop & held])
        fixed = dataclasses.replace(base, frozen=frozen, at_least=at_least)
        return dataclasses.replace(self, data=data.subset(~idle)) if idle.any() else self, fixed

    def _from_feasible(self, first: Solution, base: Adjust) -> TradePlan:
        """Round and repair the feasible `first`; if whole shares cannot keep every rule, the
        best proposal with the rules rounding cannot keep named."""
        plan = self._round_and_repair(self.target, first, base)
        if plan.ok:
            return plan
        # Feasible in the continuum, not in whole shares: say which rules rounding can't keep.
        blockers = tuple(
            Blocker(c.name, c.limit, c.value, sense(c.name), self.limits.source(c.name))
            for c in plan.failures()
            if c.name in MARGINS and c.name != "target"
        )
        found = rounding_diagnosis(self.target, blockers, sizes=self._sizes())
        best = self._best(found, self.target, base)
        if self.target is not None and best.diagnosis is not None:
            # How near the best proposal (perhaps standing still) comes.
            state = checks.after(self.data, best.quantities)
            reached = checks.measures(state.values, self.data.exposures)
            closest = float(reached[self.target.measure])
            if math.isfinite(closest):
                found = rounding_diagnosis(
                    self.target, best.diagnosis.blockers, closest, self._sizes()
                )
                best = dataclasses.replace(best, diagnosis=found)
        return best

    def _budget(self, solves: int) -> int:
        """How many solves a step may take on this problem (fewer on a large one)."""
        return solves if self.data.n <= LARGE else min(solves, LARGE_SOLVES)

    def _no_trade_fits(self) -> bool:
        """Whether the minimum trade is above the largest order allowed."""
        total = self.data.total_value
        return self.limits.min_trade(total) > self.solver.options.max_order_share * total

    def _sizes(self) -> str:
        """What rounds the trades (whole shares, the minimum sizes), told for a diagnosis."""
        limits, total = self.limits, self.data.total_value
        told = "whole shares and " if limits.whole_shares else ""
        told += "the minimum sizes ("
        told += (
            f"trades of at least ${limits.min_trade(total):,.0f}, the larger of min_trade_value "
            f"and min_trade_share {limits.min_trade_share:g} of value; new positions of at "
            f"least ${limits.min_new(total):,.0f}, min_position {limits.min_position:g}"
        )
        if self._no_trade_fits():
            told += f"; no order may exceed {self.solver.options.max_order_share:g} of value"
        return told + ")"

    def _lift(self, plan: TradePlan) -> TradePlan:
        """A plan over some of the names as a plan over all of them; the names left out hold
        nothing and trade nothing, so every check is the same."""
        if plan.quantities.index.equals(self.data.tickers):
            return plan
        quantities = plan.quantities.reindex(self.data.tickers, fill_value=0.0)
        return self._plan(
            quantities, list(plan.checks), plan.status, plan.diagnosis, plan.solution,
            plan.repairs,
        )  # fmt: skip

    def _standing(self, found: Diagnosis, today: list[Check]) -> Diagnosis:
        """The diagnosis of a plan that stands still, naming every rule today's portfolio
        breaks (max_names, a limit the user set below today's level) that it does not yet."""
        named = {b.name for b in found.blockers}
        broken = tuple(
            Blocker(c.name, c.limit, outward(c.value, sense(c.name)), sense(c.name),
                    self.limits.source(c.name))
            for c in today
            if not c.ok and c.name not in named and (c.name in MARGINS or c.name == "max_names")
            and c.name != "target"
        )  # fmt: skip
        return dataclasses.replace(found, blockers=found.blockers + broken) if broken else found

    def _best(self, found: Diagnosis, aim: Target | None, base: Adjust | None = None) -> TradePlan:
        """The best proposal within every limit, aiming at `aim` with the target made soft
        (and the names `base` excludes kept out)."""
        nothing = self._nothing()
        today = self._checks(nothing)
        if aim is None:
            return self._plan(nothing, today, UNREACHABLE, self._standing(found, today))
        soft = dataclasses.replace(base or Adjust(), soft_target=SOFT_TARGET)
        widened = self._solve(aim, soft)
        if not widened.feasible:
            return self._plan(nothing, today, UNREACHABLE, self._standing(found, today))
        names = int(cardinality.held_after(self.data, widened, self.limits).sum())
        part, widened, soft, within = self._within_names(aim, widened, soft)
        if not within:  # no choice of names tried keeps every limit: say so, and stand still
            hard = dataclasses.replace(soft, soft_target=0.0)
            found = names_diagnosis(part.data, self.target, self.limits, self.solver, hard, names)
            return self._plan(nothing, today, UNREACHABLE, self._standing(found, today))
        aiming = dataclasses.replace(self, target=aim)
        part, widened, soft = dataclasses.replace(part, target=aim)._sized(widened, soft)
        plan = aiming._lift(part._round_and_repair(aim, widened, soft))
        if not plan.ok and not [c for c in today if not c.ok and c.name != "target"]:
            # No whole-share move keeps every limit, and standing still does: stand still.
            return self._plan(nothing, today, UNREACHABLE, found)
        honest = self._checks(plan.quantities)
        if not checks.failures(honest):  # out of reach by a hair, met after rounding after all
            return dataclasses.replace(plan, checks=tuple(honest), status=Status(widened.status))
        # A rule even the best proposal cannot keep in whole shares is named in the diagnosis.
        named = {b.name for b in found.blockers}
        extra = tuple(
            Blocker(c.name, c.limit, outward(c.value, sense(c.name)), sense(c.name),
                    self.limits.source(c.name))
            for c in checks.failures(honest)
            if (c.name in MARGINS or c.name == "max_names") and c.name not in {*named, "target"}
        )  # fmt: skip
        if extra:
            found = dataclasses.replace(found, blockers=found.blockers + extra)
        return self._plan(plan.quantities, honest, UNREACHABLE, found, plan.solution, plan.repairs)

    def _round_and_repair(
        self, aim: Target | None, solution: Solution, adjust: Adjust | None = None
    ) -> TradePlan:
        """Round `solution`; while a rule fails, solve again with `adjust` tightened."""
        adjust = adjust or Adjust()
        best: TradePlan | None = None
        for repair in range(self._budget(MAX_REPAIRS) + 1):
            rounded = self._rounded(solution, soft=adjust.soft_target > 0)
            plan = self._plan(
                rounded.quantities,
                rounded.checks,
                Status(solution.status),
                None,
                solution,
                repair,
            )
            if plan.ok:
                return self._without_noise(plan, aim, adjust)
            if best is None or _badness(plan) < _badness(best):
                best = plan
            adjust = rounded.tightened(adjust, self.target, self.limits)
            solution = self._solve(aim, adjust)
            if not solution.feasible and adjust.frozen:
                adjust = rounded.at_least(self.limits, adjust)
                solution = self._solve(aim, adjust)
            if not solution.feasible:
                break
        assert best is not None
        return best

    def _without_noise(self, plan: TradePlan, aim: Target | None, adjust: Adjust) -> TradePlan:
        """`plan` less the trades that only nudge the risk model by less than they cost: a
        trade goes when the plan without it keeps every rule and scores better (reported
        costs plus the optimizer's other terms), the best such trade first, until none is
        left. Only trades below NUDGE times their minimum size are tried: at the convex
        optimum no trade can go to advantage, and rounding and the minimum sizes change
        the small trades, not the large ones."""
        least = minimum(self.data, self.limits)[plan.trades.index]
        small = plan.trades.index[plan.trades["value"] < NUDGE * least]
        if small.empty:
            return plan
        inputs = Inputs(self.data, aim, self.limits, self.solver.options, adjust)
        terms = evaluation(inputs, leave_out=COSTS)
        total = self.data.total_value
        prices = self.data.prices.to_numpy(dtype=float)
        position = {t: i for i, t in enumerate(self.data.tickers)}

        def score(dx: np.ndarray) -> float:
            return float(sum(float(term(dx)) for term in terms))

        quantities, found = plan.quantities, list(plan.checks)
        soft = adjust.soft_target > 0
        for _ in range(len(small)):
            dx = quantities.to_numpy(dtype=float) * prices / total
            costs = checks.trade_costs(self.data, quantities) / total  # one trade's own cost
            now = score(dx)
            trials = []
            for ticker in small[quantities[small] != 0]:
                i = position[ticker]
                without = dx.copy()
                without[i] = 0.0
                gain = now + float(costs.iloc[i]) - score(without)
                if gain > 1e-12:
                    trial = quantities.copy()
                    trial[ticker] = 0.0
                    trials.append((gain, str(ticker), trial))
            for _, _, trial in sorted(trials, key=lambda t: (-t[0], t[1])):
                tried = self._checks(trial)
                if soft:
                    tried = [c for c in tried if c.name != "target"]
                if not checks.failures(tried):
                    quantities, found = trial, tried
                    break
            else:
                break
        if quantities is plan.quantities:
            return plan
        return self._plan(quantities, found, plan.status, None, plan.solution, plan.repairs)

    def _rounded(self, solution: Solution, *, soft: bool) -> Rounded:
        """`solution` in whole shares, with buys trimmed to keep the cash floor, and checked
        (the target left out when it is soft)."""
        quantities, dropped = round_trades(self.data, solution.trades, self.limits)
        quantities = within_lots(self.data, quantities, self.limits)
        quantities = trim_buys_for_cash(self.data, quantities, self.limits)
        quantities = spend_cash_to_ceiling(self.data, quantities, self.limits)
        found = self._checks(quantities)
        if soft:
            found = [c for c in found if c.name != "target"]
        if checks.failures(found) and not dropped.empty:
            quantities, found, dropped = self._needed_back(solution, quantities, dropped, soft)
        return Rounded(self.data, solution, quantities, dropped, found)

    def _needed_back(
        self, solution: Solution, quantities: pd.Series, dropped: pd.Series, soft: bool
    ) -> tuple[pd.Series, list[Check], pd.Series]:
        """Trades dropped as below min_trade_share or min_position, put back where a rule needs
        them (a small holding sold out for max_names): one at a time, each kept if fewer rules
        fail. min_trade_value is never waived."""

        def checked(trial: pd.Series) -> list[Check]:
            found = self._checks(trial)
            return [c for c in found if c.name != "target"] if soft else found

        def failing(found: list[Check]) -> int:
            return sum(1 for c in found if not c.ok and c.name != "target")

        data, found = self.data, checked(quantities)
        wanted = (solution.trades / data.prices).reindex(data.tickers).fillna(0.0)
        # The largest first, and only a few: each is tried with every check.
        order = (wanted[dropped.index] * data.prices[dropped.index]).abs()
        for ticker in order.sort_values(ascending=False, kind="stable").index[:PUT_BACK]:
            amount = float(wanted[ticker])
            amount = float(np.round(amount)) if self.limits.whole_shares else amount
            if amount < 0 and -amount >= float(data.shares[ticker]) - 0.5:
                amount = -float(data.shares[ticker])
            if abs(amount) * float(data.prices[ticker]) < self.limits.min_trade_value:
                continue  # never waived
            trial = quantities.copy()
            trial[ticker] = amount
            tried = checked(trial)
            if failing(tried) < failing(found):
                quantities, found, dropped = trial, tried, dropped.drop(ticker)
        return quantities, found, dropped

    def _plan(
        self,
        quantities: pd.Series,
        found: list[Check],
        status: Status,
        diagnosis: Diagnosis | None = None,
        solution: Solution | None = None,
        repairs: int = 0,
    ) -> TradePlan:
        data = self.data
        quantities = quantities.reindex(data.tickers, fill_value=0.0)
        traded = quantities[quantities != 0]
        prices = data.prices[traded.index]
        costs = checks.trade_costs(data, quantities)[traded.index]
        table = pd.DataFrame(
            {
                "side": np.where(traded > 0, "buy", "sell"),
                "shares": traded.abs(),
                "price": prices,
                "value": (traded * prices).abs(),
                "cost": costs,
                "reason": "",  # filled in once, for the plan given (Planner.plan)
            },
            index=traded.index,
        )
        return TradePlan(table, quantities, tuple(found), status, diagnosis, solution, repairs)


def _smallest(drop: np.ndarray, size: np.ndarray) -> list[np.ndarray]:
    """The trades to fix at zero, to try in turn: all of `drop`; when there are many (the
    relaxation spread thinly over hundreds of names), the smaller half, then the smaller
    quarter, then all."""
    if drop.sum() <= FEW:
        return [drop] if drop.any() else []
    order = np.argsort(np.where(drop, size, np.inf), kind="stable")
    out = []
    for share in (2, 4):
        part = np.zeros(len(drop), dtype=bool)
        part[order[: int(drop.sum()) // share]] = True
        out.append(part)
    return [*out, drop]


def _badness(plan: TradePlan) -> tuple[int, float]:
    failed = plan.failures()
    return len(failed), sum(abs(c.value - c.limit) for c in failed)
