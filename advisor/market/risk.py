"""Per-company risk measures: reported where a snapshot has the figure, else estimated by rule.

Every rule is calibrated to a published aggregate (see PUBLISHED) and every value carries a
`<measure>_source` column: "reported" or "estimated". model.yaml records each rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from advisor.market.calibrate import Anchor, fit_ratio, fit_two_anchors, logistic

# Published aggregates the estimates are calibrated to (figures as cited in the model's docs).
PUBLISHED: dict[str, Any] = {
    "floating_share_of_debt": {"IWM": 0.38, "IVV": 0.09},
    "debt_due_within_5y": {"IWM": 0.75, "IVV": 0.50},
    "unprofitable_share_of_companies": {"IWM": 0.40, "IVV": 0.06},
    "domestic_revenue_share": {"IWM": 0.80, "IWB": 0.60},
    "earnings_sensitivity_small_over_large": 1.6,
}
WEAK_COVERAGE = 1.5  # EBIT / interest below this is weak (DESIGN.md)
# Borrowing cost by band, for an interest estimate where only debt is known: a 4% base rate
# plus Damodaran's default spread for the band's typical synthetic rating.
BORROWING_RATE = {"giant": 0.048, "large": 0.052, "mid": 0.058, "small": 0.068, "micro": 0.080}
# Earnings cyclicality by GICS sector, relative to the market (before the size adjustment).
SECTOR_CYCLICALITY = {
    "Energy": 1.4,
    "Materials": 1.3,
    "Consumer Discretionary": 1.3,
    "Industrials": 1.2,
    "Financials": 1.1,
    "Information Technology": 1.0,
    "Communication Services": 0.9,
    "Real Estate": 0.9,
    "Health Care": 0.7,
    "Consumer Staples": 0.6,
    "Utilities": 0.5,
    "Unknown": 1.0,
}
# Specific (idiosyncratic) annual volatility by band, for the risk model.
SPECIFIC_VOL = {"giant": 0.18, "large": 0.22, "mid": 0.28, "small": 0.38, "micro": 0.55}


@dataclass(frozen=True)
class Members:
    """Fund members' positions in the stock table and their fund weights, for calibration."""

    rows: np.ndarray
    weights: np.ndarray


def risk_measures(
    stocks: pd.DataFrame, snapshot: pd.DataFrame, sp500: pd.DataFrame, members: dict[str, Members]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    out = pd.DataFrame(index=stocks.index)
    rules: dict[str, Any] = {}
    key = stocks["key"]
    cap = stocks["market_cap"].to_numpy()
    z = stocks["size_score"].to_numpy()
    band = stocks["band"]
    snap = snapshot.reindex(key)
    fund = sp500.reindex(key)

    # Debt: the Russell 3000 snapshot, else the S&P 500 10-K, else the band's median debt/cap.
    reported_debt = snap["total_debt"].to_numpy()
    tenk_debt = (fund["short_term_debt"] + fund["long_term_debt"]).to_numpy()
    debt = np.where(np.isfinite(reported_debt), reported_debt, tenk_debt)
    debt_reported = np.isfinite(debt)
    ratio = pd.Series(debt / cap).where(debt_reported)
    band_ratio = ratio.groupby(band.to_numpy()).median()
    debt = np.where(debt_reported, debt, band.map(band_ratio).to_numpy() * cap)
    out["debt"] = debt
    out["debt_source"] = np.where(debt_reported, "reported", "estimated")
    rules["debt"] = (
        "Russell 3000 snapshot totalDebt, else S&P 500 10-K short+long-term debt, "
        "else market cap x the band's median debt/cap: "
        + ", ".join(f"{b} {band_ratio.get(b, float('nan')):.3f}" for b in band_ratio.index)
    )

    def anchor(fund_name: str, target: float, weights: np.ndarray | None = None) -> Anchor:
        m = members[fund_name]
        w = m.weights if weights is None else weights[m.rows]
        return Anchor(fund_name, z[m.rows], w, target)

    # Debt due within 24 months: 2/5 of the 5-year maturity share (maturities spread evenly),
    # the 5-year share calibrated by size; where a 10-K reports the current portion, that
    # portion plus one fifth of the 5-year share for year two.
    p5 = PUBLISHED["debt_due_within_5y"]
    a, b = fit_two_anchors(logistic, anchor("IWM", p5["IWM"], debt), anchor("IVV", p5["IVV"], debt))
    within_5y = logistic(a + b * z)
    current = (
        fund["short_term_debt"] / (fund["short_term_debt"] + fund["long_term_debt"])
    ).to_numpy()
    due_24m = np.where(
        np.isfinite(current), np.clip(current + within_5y / 5, 0, 1), 0.4 * within_5y
    )
    out["refinancing"] = debt * due_24m / cap
    out["refinancing_source"] = "estimated"
    rules["refinancing"] = {
        "rule": "debt x share due within 24 months / market cap; the share is 0.4 x the 5-year "
        "maturity share logistic(a + b z), or the 10-K current portion + 1/5 of it",
        "a": a,
        "b": b,
        "calibrated_to": p5,
    }

    fl = PUBLISHED["floating_share_of_debt"]
    a, b = fit_two_anchors(logistic, anchor("IWM", fl["IWM"], debt), anchor("IVV", fl["IVV"], debt))
    out["floating_debt"] = debt * logistic(a + b * z) / cap
    out["floating_debt_source"] = "estimated"
    rules["floating_debt"] = {
        "rule": "debt x logistic(a + b z) / market cap",
        "a": a,
        "b": b,
        "calibrated_to": fl,
    }

    # Unprofitable: a reported operating loss (snapshot margin, or 10-K EBIT), else a
    # size-calibrated probability (a share of value, so a probability is its expectation).
    margin = snap["operating_margin"].to_numpy()
    ebit = fund["ebit"].to_numpy()
    known = np.isfinite(margin) | np.isfinite(ebit)
    loss = np.where(np.isfinite(margin), margin < 0, ebit < 0)
    up = PUBLISHED["unprofitable_share_of_companies"]
    count = np.ones(len(stocks))
    a, b = fit_two_anchors(
        logistic, anchor("IWM", up["IWM"], count), anchor("IVV", up["IVV"], count)
    )
    out["unprofitable"] = np.where(known, loss.astype(float), logistic(a + b * z))
    out["unprofitable_source"] = np.where(known, "reported", "estimated")
    rules["unprofitable"] = {
        "rule": "operating margin < 0 (snapshot) or EBIT < 0 (10-K); else logistic(a + b z)",
        "a": a,
        "b": b,
        "calibrated_to": up,
    }

    # Interest coverage: 10-K EBIT / interest expense; else snapshot operating income over
    # debt x the band's borrowing rate; weak below 1.5. With neither, a probability fitted
    # on the companies whose coverage is known.
    expense = fund["interest_expense"].to_numpy()
    tenk_cov = np.divide(ebit, expense, out=np.full(len(ebit), np.inf), where=expense > 0)
    tenk_known = np.isfinite(ebit)
    income = margin * snap["total_revenue"].to_numpy()
    interest = np.where(debt_reported, debt, np.nan) * band.map(BORROWING_RATE).to_numpy()
    snap_cov = np.where(interest > 0, income / np.where(interest > 0, interest, 1), np.inf)
    snap_known = np.isfinite(income) & debt_reported
    coverage = np.where(tenk_known, tenk_cov, np.where(snap_known, snap_cov, np.nan))
    weak = (coverage < WEAK_COVERAGE).astype(float)
    has_cov = tenk_known | snap_known
    a, b = _logistic_regression(z[has_cov], weak[has_cov])
    out["interest_coverage"] = coverage
    out["weak_coverage"] = np.where(has_cov, weak, logistic(a + b * z))
    out["weak_coverage_source"] = np.where(tenk_known, "reported", "estimated")
    rules["weak_coverage"] = {
        "rule": "coverage < 1.5: 10-K EBIT / interest expense (reported); else snapshot "
        "operating income / (debt x band rate) (estimated); else logistic(a + b z) "
        "fitted on the companies with a coverage figure",
        "borrowing_rate": BORROWING_RATE,
        "a": a,
        "b": b,
    }

    # Economic sensitivity: sector cyclicality x exp(-g z), g set so small caps are 1.6x as
    # sensitive as large caps (IWM vs IWB, cap-weighted), scaled so the market scores 1.
    cyc = stocks["sector"].map(SECTOR_CYCLICALITY).fillna(1.0).to_numpy()
    ratio_target = PUBLISHED["earnings_sensitivity_small_over_large"]
    small, large = members["IWM"], members["IWB"]

    def group_means(g: float) -> tuple[float, float]:
        s = cyc * np.exp(-g * z)
        return (
            float(small.weights @ s[small.rows] / small.weights.sum()),
            float(large.weights @ s[large.rows] / large.weights.sum()),
        )

    g = fit_ratio(group_means, ratio_target)
    raw = cyc * np.exp(-g * z)
    market = stocks["ranked"].to_numpy()
    scale = float(cap[market] @ raw[market] / cap[market].sum())
    out["economic_sensitivity"] = raw / scale
    out["economic_sensitivity_source"] = "estimated"
    rules["economic_sensitivity"] = {
        "rule": "sector cyclicality x exp(-g z) / k; k makes the cap-weighted market 1",
        "g": g,
        "k": scale,
        "sector_cyclicality": SECTOR_CYCLICALITY,
        "calibrated_to": {"IWM/IWB": ratio_target},
    }

    # Domestic revenue share: logistic in size, halved for companies domiciled abroad.
    abroad = np.where(stocks["country"].to_numpy() == "United States", 1.0, 0.5)
    dom = PUBLISHED["domestic_revenue_share"]

    a, b = fit_two_anchors(
        logistic,
        _scaled(anchor("IWM", dom["IWM"]), abroad, members["IWM"]),
        _scaled(anchor("IWB", dom["IWB"]), abroad, members["IWB"]),
    )
    out["domestic_revenue"] = abroad * logistic(a + b * z)
    out["domestic_revenue_source"] = "estimated"
    rules["domestic_revenue"] = {
        "rule": "logistic(a + b z), x 0.5 where domiciled abroad",
        "a": a,
        "b": b,
        "calibrated_to": dom,
    }

    beta = snap["beta"].to_numpy()
    beta_known = np.isfinite(beta)
    out["beta"] = np.where(beta_known, np.clip(beta, 0.3, 2.5), 1.0)
    out["beta_source"] = np.where(beta_known, "reported", "estimated")
    out["specific_vol"] = band.map(SPECIFIC_VOL).to_numpy()
    rules["beta"] = "snapshot beta clipped to [0.3, 2.5], else 1"
    rules["specific_vol"] = SPECIFIC_VOL
    return out, rules


def _scaled(anchor: Anchor, factor: np.ndarray, members: Members) -> Anchor:
    # The abroad factor multiplies the link, so it moves into the weights: mean(f * p) over w
    # is the w*f-weighted mean of p, rescaled.
    f = factor[members.rows]
    weights = anchor.weights * f
    return Anchor(
        anchor.label, anchor.z, weights, anchor.target * anchor.weights.sum() / weights.sum()
    )


def _logistic_regression(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood logistic fit of y (0/1) on z, by Newton steps."""
    x = np.column_stack([np.ones_like(z), z])
    beta = np.zeros(2)
    for _ in range(50):
        p = logistic(x @ beta)
        gradient = x.T @ (y - p)
        hessian = x.T @ (x * (p * (1 - p))[:, None])
        step = np.linalg.solve(hessian + 1e-9 * np.eye(2), gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(beta[0]), float(beta[1])
