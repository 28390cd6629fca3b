"""max_names: at most k securities held after trading, met by relax-and-fix.

HiGHS solves mixed-integer linear problems and continuous QPs, not mixed-integer QPs, and this
objective is quadratic (risk change, market impact), so the limit is met by a heuristic:

1. solve without the limit: the convex relaxation, whose objective is a lower bound on the
   objective of any answer that keeps the limit;
2. keep the k names it holds most of (names that cannot be sold out come first), require every
   other name to end at zero, and solve again over the names kept and today's holdings; and,
   separately, the same halving the excess names each solve (a name the relaxation held little
   of may matter more once others are gone);
3. after each, a short local search: swap a kept name the relaxation held least for one it held
   and the answer does not, keeping a swap that lowers the objective (or makes it feasible);
   the better of the two answers is kept.

The answer's objective minus the relaxation's bounds how far it can be from the best answer with
at most k names; bench/bench_names.py measures that gap, and the gap to exhaustive search over
every choice of names on small problems.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from advisor.limits import EffectiveLimits
from advisor.optimize.data import ProblemData
from advisor.optimize.inputs import Adjust, SolveOptions
from advisor.optimize.solve import Solution, Solver
from advisor.portfolio import Target

HELD = 1e-6  # of a share: less is solver noise (when whole_shares is off)
NOISE = 1e-9  # of V: a trade below it is solver noise
MAX_STEPS = 40  # solves before the search stops shrinking (halving needs about log2(n))
SWAPS = 3  # rounds of local search after the halving
SWAP_OUT = 2  # names tried out per round, the least held by the relaxation first
SWAP_IN = 2  # names tried in per round, the most held by the relaxation first


@dataclass(frozen=True)
class Restricted:
    """The answer within max_names: over `data`, the names kept plus today's holdings (names
    fixed at zero that are not held are dropped: they cannot change the answer), with `adjust`
    selling out the holdings not kept."""

    data: ProblemData
    solution: Solution
    adjust: Adjust
    solves: int


def held_after(data: ProblemData, solution: Solution, limits: EffectiveLimits) -> np.ndarray:
    """Which of `data`'s names a solution (over them or some of them) holds once its trades are
    rounded as trades.round_trades rounds them: a holding stays unless the sale leaves less than
    half a share (a part share when whole_shares is off) and is at least min_trade_value
    (rounding puts back a smaller sale that max_names needs); a new name is held when the buy
    is at least the minimum new position and half a share."""
    trades = solution.trades.reindex(data.tickers, fill_value=0.0).to_numpy(dtype=float)
    prices = data.prices.to_numpy(dtype=float)
    today = data.shares.to_numpy(dtype=float)
    left = today + trades / prices
    size = np.abs(trades)
    least = np.where(
        today > 0, limits.min_trade(data.total_value), limits.min_new(data.total_value)
    )
    big_enough = (size >= least) & (size > NOISE * data.total_value)
    whole = 0.5 if limits.whole_shares else HELD
    # A sale of a whole holding is made even below min_trade_share (max_names needs it), never
    # below min_trade_value.
    sold = size >= max(limits.min_trade_value, NOISE * data.total_value)
    kept = (today > 0) & ((left >= whole) | ~sold)
    bought = (today <= 0) & big_enough & (trades / prices >= whole)
    return np.asarray(kept | bought)


def unsellable(data: ProblemData, limits: EffectiveLimits, options: SolveOptions) -> np.ndarray:
    """Holdings that cannot end at zero: not to be sold, a full sale below min_trade_value, or
    too large for one day's volume (max_adv_share)."""
    values = data.values.to_numpy(dtype=float)
    held = values > 0
    stuck = ~data.can_sell.to_numpy(dtype=bool)
    stuck |= values < limits.min_trade_value
    stuck |= values > options.max_adv_share * data.adv.to_numpy(dtype=float)
    return np.asarray(held & stuck)


def restrict(
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    relaxed: Solution,
    solver: Solver | None = None,
    adjust: Adjust | None = None,
    *,
    halving: bool | None = None,
) -> Restricted | None:
    """The answer within max_names from the `relaxed` one, or None when that already holds at
    most max_names. Its solution is infeasible, or holds too many names, when no choice tried
    meets every rule. Both searches run and the better answer is kept; `halving` True or
    False runs only the one (for comparison)."""
    solver = solver or Solver()
    adjust = adjust or Adjust()
    k = limits.max_names
    if k is None or held_after(data, relaxed, limits).sum() <= k:
        return None
    found = [
        _search(data, target, limits, relaxed, solver, adjust, halve)
        for halve in ((True, False) if halving is None else (halving,))
    ]
    best = found[0]
    for other in found[1:]:
        if _better(other, best, limits):
            best = other
    return dataclasses.replace(best, solves=sum(r.solves for r in found))


def _search(
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    relaxed: Solution,
    solver: Solver,
    adjust: Adjust,
    halving: bool,
) -> Restricted:
    """Keep the names held most, all at once or halving the excess each solve, then swap."""
    k = limits.max_names or 0
    held = held_after(data, relaxed, limits)
    must = unsellable(data, limits, solver.options)
    kept, last, count = held | must, relaxed, int(held.sum())
    best: Restricted | None = None
    solves = 0
    for _ in range(MAX_STEPS):
        if count <= k:
            break
        size = max(k, (count + k) // 2) if halving else k
        trial = _top(_values(data, last), kept & (held_after(data, last, limits) | must), must,
                     size)  # fmt: skip
        attempt = _solve_kept(data, target, limits, solver, adjust, trial)
        solves += 1
        if attempt.solution.feasible:
            before, best, kept, last = count, attempt, trial, attempt.solution
            count = int(held_after(attempt.data, last, limits).sum())
            if must.sum() > k:
                break  # more holdings than k cannot be sold out
            if count >= before:  # no progress: go straight to k, or stop there
                if size == k:
                    break
                halving = False
        elif size > k:
            halving = False  # a step too far: from the last answer, keep k at once
        else:
            best, kept = attempt, trial
            break
    assert best is not None
    # Local search: swap a kept name for one the relaxation held, by the relaxation's values.
    order = np.argsort(relaxed.values.to_numpy(dtype=float), kind="stable")
    for _ in range(SWAPS):
        pool = [i for i in order[::-1] if held[i] and not kept[i]][:SWAP_IN]
        out = [i for i in order if kept[i] and not must[i]][:SWAP_OUT]
        better = None
        for i, j in ((i, j) for i in out for j in pool):
            trial = kept.copy()
            trial[i], trial[j] = False, True
            attempt = _solve_kept(data, target, limits, solver, adjust, trial)
            solves += 1
            if _better(attempt, best, limits):
                better, kept = attempt, trial
                break
        if better is None:
            break
        best = better
    return dataclasses.replace(best, solves=solves)


def _values(data: ProblemData, solution: Solution) -> np.ndarray:
    """A solution's values after trading over `data`'s tickers (0 where it has none)."""
    return np.asarray(solution.values.reindex(data.tickers, fill_value=0.0), dtype=float)


def _top(values: np.ndarray, eligible: np.ndarray, must: np.ndarray, size: int) -> np.ndarray:
    """A mask of the `size` eligible names with the largest values, every `must` name first."""
    score = np.where(must, np.inf, values)
    score = np.where(eligible | must, score, -np.inf)
    order = np.argsort(-score, kind="stable")[: max(size, int(must.sum()))]
    kept = np.zeros(len(values), dtype=bool)
    kept[order[np.isfinite(score[order]) | must[order]]] = True
    return kept


def _solve_kept(
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    solver: Solver,
    adjust: Adjust,
    kept: np.ndarray,
) -> Restricted:
    """Solve over the `kept` names and today's holdings, the holdings not kept sold out."""
    today = data.values.to_numpy(dtype=float) > 0
    sold_out = frozenset(str(t) for t in data.tickers[today & ~kept])
    fixed = dataclasses.replace(adjust, frozen=adjust.frozen - sold_out, excluded=sold_out)
    sub = data.subset(kept | today)
    return Restricted(sub, solver.solve(sub, target, limits, fixed), fixed, 1)


def keeps_limit(data: ProblemData, solution: Solution, limits: EffectiveLimits) -> bool:
    """A feasible solution holding at most max_names names (any, when there is no limit)."""
    if not solution.feasible or limits.max_names is None:
        return solution.feasible
    return int(held_after(data, solution, limits).sum()) <= limits.max_names


def _better(found: Restricted, best: Restricted, limits: EffectiveLimits) -> bool:
    """Within max_names beats not; between two within it, the lower objective."""
    if not keeps_limit(found.data, found.solution, limits):
        return False
    if not keeps_limit(best.data, best.solution, limits):
        return True
    return found.solution.objective < best.solution.objective - 1e-12
