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
from advisor.optimize.inputs import Adjust, SolveOptions
from advisor.optimize.solve import Solution, Solver
from advisor.portfolio import Target
from advisor.trades.reasons import reasons
from advisor.trades.repair import MARGINS, MAX_REPAIRS, Rounded, sense
from advisor.trades.rounding import round_trades, trim_buys_for_cash

SOFT_TARGET: Final = 100.0  # weight of the target miss in the best proposal when out of reach
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
        """Out of reach (the convex problem is infeasible, or whole shares cannot keep every
        rule), the plan is the best proposal within the limits with the target soft, and a
        diagnosis."""
        nothing = self._nothing()
        today = self._checks(nothing)
        if not checks.failures(today):
            return self._plan(nothing, today, NOTHING_TO_DO)
        room = self._rounding_room()
        first = self._solve(self.target, room)
        if not first.feasible and room.margins:
            room = Adjust()
            first = self._solve(self.target, room)
        if not first.feasible:
            found = diagnose(self.data, self.target, self.limits, self.solver)
            return self._best(found, found.best_target())
        part, restricted, base, within = self._within_names(self.target, first, room)
        if not within and room.margins:  # perhaps the rounding room is what max_names can't give
            plain = self._solve(self.target, Adjust())
            if plain.feasible:
                part, restricted, base, within = self._within_names(self.target, plain, Adjust())
        if within:
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
        found = rounding_diagnosis(self.target, blockers)
        best = self._best(found, self.target, base)
        if self.target is not None and best.diagnosis is not None:
            # How near the best proposal (perhaps standing still) comes.
            state = checks.after(self.data, best.quantities)
            reached = checks.measures(state.values, self.data.exposures)
            closest = float(reached[self.target.measure])
            if math.isfinite(closest):
                found = rounding_diagnosis(self.target, best.diagnosis.blockers, closest)
                best = dataclasses.replace(best, diagnosis=found)
        return best

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

    def _names_blocker(self, found: Diagnosis, today: list[Check]) -> Diagnosis:
        """The diagnosis naming max_names too when standing still breaks it."""
        broken = [c for c in today if c.name == "max_names" and not c.ok]
        if not broken or "max_names" in {b.name for b in found.blockers}:
            return found
        needed = Blocker("max_names", broken[0].limit, broken[0].value, sense("max_names"),
                         self.limits.source("max_names"))  # fmt: skip
        return dataclasses.replace(found, blockers=(*found.blockers, needed))

    def _best(self, found: Diagnosis, aim: Target | None, base: Adjust | None = None) -> TradePlan:
        """The best proposal within every limit, aiming at `aim` with the target made soft
        (and the names `base` excludes kept out)."""
        nothing = self._nothing()
        today = self._checks(nothing)
        if aim is None:
            return self._plan(nothing, today, UNREACHABLE, self._names_blocker(found, today))
        soft = dataclasses.replace(base or Adjust(), soft_target=SOFT_TARGET)
        widened = self._solve(aim, soft)
        if not widened.feasible:
            return self._plan(nothing, today, UNREACHABLE, self._names_blocker(found, today))
        names = int(cardinality.held_after(self.data, widened, self.limits).sum())
        part, widened, soft, within = self._within_names(aim, widened, soft)
        if not within:  # no choice of names tried keeps every limit: say so, and stand still
            hard = dataclasses.replace(soft, soft_target=0.0)
            found = names_diagnosis(part.data, self.target, self.limits, self.solver, hard, names)
            return self._plan(nothing, today, UNREACHABLE, found)
        aiming = dataclasses.replace(self, target=aim)
        plan = aiming._lift(
            dataclasses.replace(part, target=aim)._round_and_repair(aim, widened, soft)
        )
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
        for repair in range(MAX_REPAIRS + 1):
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
                return plan
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

    def _rounded(self, solution: Solution, *, soft: bool) -> Rounded:
        """`solution` in whole shares, with buys trimmed to keep the cash floor, and checked
        (the target left out when it is soft)."""
        quantities, dropped = round_trades(self.data, solution.trades, self.limits)
        quantities = trim_buys_for_cash(self.data, quantities, self.limits)
        found = self._checks(quantities)
        if soft:
            found = [c for c in found if c.name != "target"]
        return Rounded(self.data, solution, quantities, dropped, found)

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
        why = reasons(data, quantities, self.limits, self.target)
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


def _badness(plan: TradePlan) -> tuple[int, float]:
    failed = plan.failures()
    return len(failed), sum(abs(c.value - c.limit) for c in failed)
