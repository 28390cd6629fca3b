"""Seeded synthetic universes for tests and benchmarks: large and small caps, a few funds.

Plain made-up numbers with the shapes of the real ones (small caps: more debt, more unprofitable
companies, wider spreads, thinner volume). Nothing here is market data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from advisor.concentration import LookThrough
from advisor.optimize.data import ImpactForm, ProblemData

SECTORS = ("Technology", "Health Care", "Financials", "Industrials", "Energy", "Utilities")


def universe(
    n: int,
    seed: int = 42,
    *,
    held: int | None = None,
    total: float = 1_000_000.0,
    cash_share: float = 0.03,
    impact_form: ImpactForm = ImpactForm.QUADRATIC,
    companies: bool = False,
) -> ProblemData:
    """`n` securities, the first `held` of them held (mostly large caps), the rest candidates.
    `companies`: funds look through to the stocks and to a few companies outside the problem,
    and two stocks may be share classes of one company (see `look_through`)."""
    rng = np.random.default_rng(seed)
    held = min(n, max(2, n // 2)) if held is None else held
    small = rng.random(n) < 0.4
    small[:held] = rng.random(held) < 0.15  # holdings lean large
    fund = np.zeros(n, dtype=bool)
    fund[rng.choice(n, size=max(1, n // 15), replace=False)] = True
    tickers = pd.Index([f"T{i:04d}" for i in range(n)], name="ticker")
    expo = _exposures(rng, small, fund)
    expo.index = tickers
    prices = np.where(small, rng.uniform(5, 80, n), rng.uniform(40, 600, n)).round(2)
    weights = rng.dirichlet(np.full(held, 2.0)) * (1 - cash_share)
    shares = np.zeros(n)
    shares[:held] = np.floor(weights * total / prices[:held])
    values = shares * prices
    loadings = _loadings(rng, expo)
    return ProblemData(
        tickers=tickers,
        values=pd.Series(values, index=tickers),
        shares=pd.Series(shares, index=tickers),
        prices=pd.Series(prices, index=tickers),
        cash=float(total - values.sum()),
        exposures=expo,
        loadings=loadings,
        factor_cov=_factor_cov(loadings.columns),
        specific_var=pd.Series(np.where(small, 0.38, 0.22) ** 2 * (1 - 0.6 * fund), tickers),
        half_spread=pd.Series(np.where(small, 12e-4, 2e-4) * rng.uniform(0.5, 2.0, n), tickers),
        adv=pd.Series(np.where(small, rng.uniform(5e6, 5e7, n), rng.uniform(3e8, 5e9, n)), tickers),
        impact_coef=0.1,
        commission=0.0,
        is_fund=pd.Series(fund, index=tickers),
        can_buy=pd.Series(True, index=tickers),
        can_sell=pd.Series(True, index=tickers),
        impact_form=impact_form,
        lookthrough=look_through(rng, tickers, fund) if companies else None,
    )


def look_through(rng: np.random.Generator, tickers: pd.Index, fund: np.ndarray) -> LookThrough:
    """Each stock its company (the first two one company, as two share classes); each fund
    spread over a random half of the stocks and three companies held only through funds."""
    names = [str(t) for t in tickers]
    company = {t: t for t in names}
    stocks = [t for t, f in zip(names, fund, strict=True) if not f]
    if len(stocks) >= 2:
        company[stocks[1]] = stocks[0]
    outside = ["X1", "X2", "X3"]
    rows = sorted(set(company[t] for t in stocks) | set(outside))
    matrix = np.zeros((len(rows), len(names)))
    for j, t in enumerate(names):
        if not fund[j]:
            matrix[rows.index(company[t]), j] = 1.0
            continue
        chosen = [*rng.choice(stocks, size=max(1, len(stocks) // 2), replace=False), *outside]
        weights = rng.dirichlet(np.full(len(chosen), 0.6))
        for name, w in zip(chosen, weights, strict=True):
            matrix[rows.index(company.get(str(name), str(name))), j] += w
    return LookThrough(pd.Index(rows, name="company"), tickers, sparse.csr_array(matrix))


def _exposures(rng: np.random.Generator, small: np.ndarray, fund: np.ndarray) -> pd.DataFrame:
    n = len(small)
    s = small.astype(float)
    out = pd.DataFrame(
        {
            "small_cap_share": s,
            "size_score": np.clip(
                np.where(small, rng.normal(-1.8, 0.4, n), rng.normal(1.0, 0.6, n)), -3, 3
            ),
            "refinancing": np.where(small, rng.uniform(0.02, 0.15, n), rng.uniform(0.005, 0.04, n)),
            "floating_debt": np.where(small, rng.uniform(0.01, 0.15, n), rng.uniform(0, 0.03, n)),
            "weak_coverage": (rng.random(n) < np.where(small, 0.25, 0.05)).astype(float),
            "unprofitable": (rng.random(n) < np.where(small, 0.30, 0.05)).astype(float),
            "economic_sensitivity": np.where(
                small, rng.uniform(1.0, 1.7, n), rng.uniform(0.7, 1.2, n)
            ),
        }
    )
    sector = rng.integers(0, len(SECTORS), n)
    for k, name in enumerate(SECTORS):
        out[f"sector:{name}"] = (sector == k).astype(float)
    # A fund is looked through: a blend of its kind's averages, spread over every sector.
    for col in out.columns[:7]:
        blend = 0.7 * out.loc[small, col].mean() + 0.3 * out.loc[~small, col].mean()
        large = 0.1 * out.loc[small, col].mean() + 0.9 * out.loc[~small, col].mean()
        out.loc[fund, col] = np.where(small[fund], blend, large)
    out.loc[fund, [f"sector:{s}" for s in SECTORS]] = 1.0 / len(SECTORS)
    return out.fillna(0.0)


def _loadings(rng: np.random.Generator, expo: pd.DataFrame) -> pd.DataFrame:
    n = len(expo)
    out = pd.DataFrame({"market": rng.uniform(0.8, 1.3, n), "size": expo["size_score"]})
    for name in SECTORS:
        out[f"sector:{name}"] = expo[f"sector:{name}"].to_numpy()
    out.index = expo.index
    return out


def _factor_cov(factors: pd.Index) -> pd.DataFrame:
    vols = np.array([0.16, 0.035] + [0.05] * (len(factors) - 2))
    corr = np.eye(len(factors))
    corr[0, 1] = corr[1, 0] = -0.2
    return pd.DataFrame(np.outer(vols, vols) * corr, index=factors, columns=factors)
