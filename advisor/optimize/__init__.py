"""The rebalancing problem from small terms and constraints; solving; infeasibility diagnosis."""

from advisor.optimize.lean_import import import_cvxpy

import_cvxpy()  # before the modules below import cvxpy: see lean_import.py

from advisor.optimize.data import ImpactForm, ProblemData
from advisor.optimize.diagnose import Blocker, Diagnosis, diagnose
from advisor.optimize.inputs import Adjust, SolveOptions
from advisor.optimize.problem import Formulation, build
from advisor.optimize.solve import Solution, Solver, solve

__all__ = [
    "Adjust",
    "Blocker",
    "Diagnosis",
    "Formulation",
    "ImpactForm",
    "ProblemData",
    "Solution",
    "SolveOptions",
    "Solver",
    "build",
    "diagnose",
    "solve",
]
