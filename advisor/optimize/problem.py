"""The rebalancing problem: the sum of the terms, subject to the list of constraints.

Variable: x, post-trade values as a share of today's value V; dx = x - x0 is the trade and cash
after is c0 - sum(dx) - costs. Costs enter the objective exactly; in the cash floor and the
position caps they enter as a reserve (a constant) that the rounding step sets to the realised
costs when it matters, which keeps the problem a QP (HiGHS can take it when Clarabel cannot).

A Formulation is stated once for a Shape, with every number a cvxpy parameter, and bound to
one account's numbers before each solve. Up to COMPILED_SIZE names it is compiled (DPP): cvxpy
turns it into solver matrices once, in about the time of one plain build, and re-solving only
substitutes numbers (a tenth of the time), so repairs, the max_names search and a batch's other
accounts of the shape are cheap. For that, x and the trade dx are both variables and the
quadratic terms sit on variables of their own. A larger problem is stated afresh at each solve
with the numbers bound to its parameters: compiling it would cost more than solving it, and the
auxiliary variables would slow the solver, so there dx = x - x0 and the terms are stated
directly. Which way depends on the shape alone, so an account gives the same answer alone or in
a batch.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cvxpy as cp
import numpy as np

from advisor.limits import RISK_LIMITS, EffectiveLimits
from advisor.optimize import constraints as con
from advisor.optimize import taxes as tax_terms
from advisor.optimize import terms as trm
from advisor.optimize.constraints import EQUITY_KEPT
from advisor.optimize.data import ImpactForm, ProblemData
from advisor.optimize.inputs import COMPILED_SIZE, LOT_PAD, Adjust, Inputs, SolveOptions, padded
from advisor.portfolio import Target

# EQUITY_KEPT: the checks hold the same rule independently (tests/test_checks.py compares).
__all__ = ["EQUITY_KEPT", "Adjust", "Formulation", "Shape", "SolveOptions", "TargetForm", "build"]


class TargetForm(enum.StrEnum):
    NONE = "none"
    HARD = "hard"  # the band is a constraint
    SOFT = "soft"  # the band is a penalty (the best proposal when out of reach)


@dataclass(frozen=True)
class Shape:
    """What fixes the problem's structure; accounts of one shape share one formulation. Its
    size is the names, padded to a multiple of PAD up to COMPILED_SIZE (inputs.py)."""

    size: int
    factors: int
    sectors: int
    target: TargetForm
    impact_power: float
    companies: int  # rows of companies held through several names (see Inputs.caps)
    # A taxable account's lots (a tax term): compiled, slots per name (its most lots, padded
    # to a multiple of LOT_PAD); else the number of lots.
    lots: int = 0

    @property
    def compiled(self) -> bool:
        return self.size <= COMPILED_SIZE

    @classmethod
    def of(cls, inputs: Inputs) -> Shape:
        target = TargetForm.NONE
        if inputs.target is not None:
            target = TargetForm.SOFT if inputs.adjust.soft_target > 0 else TargetForm.HARD
        power = 2.0 if inputs.data.impact_form is ImpactForm.QUADRATIC else 1.5
        sectors = len(inputs.data.sectors) if inputs.with_sectors else 0
        factors = inputs.data.loadings.shape[1]
        tax = inputs.data.tax
        lots = 0
        if tax is not None and len(tax.lots):
            most = int(tax.lots.groupby("ticker").size().max())
            lots = padded(most, LOT_PAD) if inputs.size <= COMPILED_SIZE else len(tax.lots)
        rows = inputs.company_rows
        return cls(inputs.size, factors, sectors, target, power, rows, lots)


class Formulation:
    """The problem of one Shape: its variables, terms and constraints, each owning its
    parameters; `bind` sets them from one account."""

    def __init__(self, shape: Shape, options: SolveOptions) -> None:
        n = shape.size
        self.shape = shape
        self.bounds = con.TradeBounds(n)
        self.x = cp.Variable(n, name="x")
        self._dx = cp.Variable(n, name="dx") if shape.compiled else None
        self.terms = objective_terms(shape, options)
        limits: list[con.Limit] = [
            con.RatioMax(name, measure, n) for name, measure in RISK_LIMITS.items()
        ]
        limits += [con.Turnover(), con.PositionCap(n, shape.companies if shape.compiled else 0)]
        if shape.sectors:
            limits.append(con.SectorDrift(n, shape.sectors))
        limits += [con.CashFloor(), con.CashCeiling()]
        self.limits = tuple(limits)
        self.floor = con.EquityFloor()
        self.target = con.TargetBand(n) if shape.target is TargetForm.HARD else None
        self.inputs: Inputs | None = None
        for part in self._parts():
            part.constant = not shape.compiled
        # Compiled: stated once, with parameters. Plain: stated at each solve with the numbers.
        self._problem = self._state() if shape.compiled else None

    def _parts(self) -> list[Any]:
        target = [self.target] if self.target is not None else []
        return [*self.terms, *self.limits, self.bounds, self.floor, *target]

    def _state(self) -> cp.Problem:
        if not self.shape.compiled:
            return cp.Problem(cp.Minimize(self.objective()), self.constraints())
        objective: Any = 0.0
        rules = self.constraints()
        for term in self.terms:
            part, extra = term.in_problem(self.x, self.dx)
            objective += part
            rules += extra
        return cp.Problem(cp.Minimize(objective), rules)

    def bind(self, inputs: Inputs) -> Formulation:
        """Set every parameter from `inputs` (of this formulation's shape)."""
        for part in self._parts():
            part.bind(inputs)
        self.inputs = inputs
        return self

    @property
    def data(self) -> ProblemData:
        assert self.inputs is not None, "bind the formulation first"
        return self.inputs.data

    @property
    def x0(self) -> np.ndarray:
        """Today's values, share of V (unpadded)."""
        assert self.inputs is not None, "bind the formulation first"
        return self.inputs.x0

    @property
    def dx(self) -> Any:
        """The trade: a variable of a compiled problem, x - x0 in a plain one."""
        if self._dx is not None:
            return self._dx
        return self.x - np.asarray(self.bounds.x0.value)

    def objective(self) -> Any:
        """The objective as one expression of dx (for problems built around this one)."""
        return trm.objective(list(self.terms), self.dx)

    def constraints(
        self, slacks: Mapping[str, Any] | None = None, *, with_target: bool = True
    ) -> list[Any]:
        slacks, x, dx = slacks or {}, self.x, self.dx
        out = self.bounds(x, dx) + self.floor(x, dx)
        if with_target and self.target is not None:
            out += self.target(x, dx)
        for limit in self.limits:
            out += limit(x, dx, slacks.get(limit.name, 0.0))
        for term in self.terms:
            if isinstance(term, tax_terms.TaxTerm):  # its lot variables, tied to the trade
                out += term.rules(dx)
        return out

    def problem(self) -> cp.Problem:
        """The problem with the numbers bound now."""
        return self._problem if self._problem is not None else self._state()


def objective_terms(shape: Shape, options: SolveOptions) -> tuple[trm.Term, ...]:
    """The terms of the objective of a Shape, unbound."""
    n = shape.size
    terms: list[trm.Term] = [
        trm.SpreadCost(n),
        trm.ImpactCost(n, shape.impact_power),
        trm.RiskChange(n, shape.factors, options.risk_aversion),
        trm.CashDrift(options.cash_drift),
    ]
    if shape.target is TargetForm.SOFT:
        terms.append(trm.TargetMiss(n))
    if shape.target is not TargetForm.NONE:
        terms.append(trm.TargetPull(n, options.centre_weight))
    if shape.lots:
        terms.append(tax_terms.TaxTerm(n, shape.lots, shape.compiled))
    return tuple(terms)


def evaluation(inputs: Inputs, leave_out: tuple[str, ...] = ()) -> list[trm.Term]:
    """The objective's terms bound to `inputs`, to evaluate at numpy trades (not to solve):
    cheaper than binding a whole formulation. `leave_out` names terms not wanted."""
    terms = [
        t for t in objective_terms(Shape.of(inputs), inputs.options) if t.name not in leave_out
    ]
    for term in terms:
        term.bind(inputs)
    return terms


def build(
    data: ProblemData,
    target: Target | None,
    limits: EffectiveLimits,
    options: SolveOptions | None = None,
    adjust: Adjust | None = None,
) -> Formulation:
    """The problem for `data` under `target` and `limits`, tightened by `adjust`, bound."""
    inputs = Inputs(data, target, limits, options or SolveOptions(), adjust or Adjust())
    return Formulation(Shape.of(inputs), inputs.options).bind(inputs)
