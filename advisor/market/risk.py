"""Per-company risk measures: reported where a snapshot has the figure, else estimated by rule.

Every rule is calibrated to a published aggregate (see PUBLISHED) on the figures the tool uses:
reported figures enter the fit as they are and only the estimates move. Every value carries a
`<measure>_source` column: "reported" or "estimated"; `debt_note` says why a company's debt
figures stand out. model.yaml records each rule and what its fit achieved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from advisor.market.calibrate import Anchor, fit_blended, fit_ratio, fit_two_anchors, logistic

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
# Financial companies whose borrowings fund their balance sheet: deposit-takers, insurers,
# lenders, broker-dealers and mortgage REITs (GICS has held mortgage REITs in Financials since
# 2023), matched on the screener's industry within GICS Financials. Equity REITs are GICS Real
# Estate and keep their debt: it finances buildings and falls due like any company's. Asset
# managers ("Investment Managers") borrow as other companies do and keep theirs; the screener
# files some exchanges and data firms with brokers or consumer finance, and for them the
# estimate replaces a figure of about the same size.
FUNDING_INDUSTRY = re.compile(
    r"bank|savings institution|insur|finance compan|finance: consumer|brokers|"
    r"real estate investment trust",
    re.IGNORECASE,
)
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
    # A financial company's reported debt funds its balance sheet and is replaced by an
    # estimate of its holding-company debt (see balance_sheet_financials).
    financial = balance_sheet_financials(stocks)
    reported_debt = snap["total_debt"].to_numpy()
    tenk_debt = (fund["short_term_debt"] + fund["long_term_debt"]).to_numpy()
    total_debt = np.where(np.isfinite(reported_debt), reported_debt, tenk_debt)
    debt_reported = np.isfinite(total_debt) & ~financial
    ratio = pd.Series(total_debt / cap).where(debt_reported)
    band_ratio = ratio.groupby(band.to_numpy()).median()
    debt = np.where(debt_reported, total_debt, band.map(band_ratio).to_numpy() * cap)
    out["debt"] = debt
    out["debt_source"] = np.where(debt_reported, "reported", "estimated")
    rules["debt"] = (
        "Russell 3000 snapshot totalDebt, else S&P 500 10-K short+long-term debt, "
        "else market cap x the band's median debt/cap over non-financial companies: "
        + ", ".join(f"{b} {band_ratio.get(b, float('nan')):.3f}" for b in band_ratio.index)
    )
    rules["financials"] = {
        "rule": "GICS sector Financials whose industry names a bank, savings institution, "
        "insurer, lender, broker-dealer or mortgage REIT: their reported debt funds loans, "
        "securities or policies, so refinancing and floating debt are measured on "
        "holding-company debt, estimated as for a company without a debt figure",
        "industries": FUNDING_INDUSTRY.pattern,
        "companies": int(financial.sum()),
    }

    def anchor(
        fund_name: str, target: float, weights: np.ndarray | None = None, **blend: np.ndarray
    ) -> Anchor:
        m = members[fund_name]
        w = m.weights if weights is None else weights[m.rows]
        parts = {k: v[m.rows] for k, v in blend.items()}
        return Anchor(fund_name, z[m.rows], w, target, **parts)

    # Share of debt due within 5 years: a logistic in size; where a 10-K reports the current
    # portion c, that is year one and the rest matures as the curve says for years two to five
    # (c + (1 - c) x 4/5 of it). Fitted on these blended shares, debt-weighted. Due within 24
    # months: 2/5 of the 5-year share (maturities spread evenly), or c + (1 - c) x 1/5 of it.
    current = (
        fund["short_term_debt"] / (fund["short_term_debt"] + fund["long_term_debt"])
    ).to_numpy()
    current = np.where(financial, np.nan, np.clip(current, 0, 1))
    has_current = np.isfinite(current)
    c = np.where(has_current, current, 0.0)
    p5 = PUBLISHED["debt_due_within_5y"]
    blend5 = {"fixed": c, "scale": np.where(has_current, 0.8 * (1 - c), 1.0)}
    fit5 = fit_blended(
        logistic, anchor("IWM", p5["IWM"], debt, **blend5), anchor("IVV", p5["IVV"], debt, **blend5)
    )
    curve = logistic(fit5.a + fit5.b * z)
    out["debt_due_5y"] = blend5["fixed"] + blend5["scale"] * curve
    due_24m = np.where(has_current, c + (1 - c) * curve / 5, 0.4 * curve)
    # The equity holder's exposure ends at the stake: debt due beyond the market cap counts as
    # 1 per $ owned, unless a reported current portion alone is larger.
    owed = debt * due_24m / cap
    reported_part = debt * c / cap
    ceiling = np.maximum(1.0, reported_part)
    out["refinancing"] = np.minimum(owed, ceiling)
    out["refinancing_source"] = "estimated"
    rules["refinancing"] = {
        "rule": "debt x share due within 24 months / market cap, at most 1 (or the reported "
        "current portion / market cap where larger); the share is 0.4 x the 5-year share "
        "logistic(a + b z), or the 10-K current portion c + (1 - c) x 1/5 of it",
        "a": fit5.a,
        "b": fit5.b,
        "calibrated_to": p5,
        "achieved": fit5.achieved,
        "measured_as": "debt_due_5y weighted by each holding's debt",
    }

    fl = PUBLISHED["floating_share_of_debt"]
    fitf = fit_blended(logistic, anchor("IWM", fl["IWM"], debt), anchor("IVV", fl["IVV"], debt))
    out["floating_debt"] = debt * logistic(fitf.a + fitf.b * z) / cap
    out["floating_debt_source"] = "estimated"
    rules["floating_debt"] = {
        "rule": "debt x logistic(a + b z) / market cap",
        "a": fitf.a,
        "b": fitf.b,
        "calibrated_to": fl,
        "achieved": fitf.achieved,
        "measured_as": "floating_debt x market cap / debt, weighted by each holding's debt",
    }
    out["debt_note"] = _debt_notes(stocks, financial, total_debt, debt, owed, reported_part)

    # Unprofitable: a reported operating loss (snapshot margin, or 10-K EBIT), else a
    # size-calibrated probability (a share of value, so a probability is its expectation).
    # Fitted so the blend of reported and estimated figures hits the count shares.
    margin = snap["operating_margin"].to_numpy()
    ebit = fund["ebit"].to_numpy()
    known = np.isfinite(margin) | np.isfinite(ebit)
    loss = np.where(np.isfinite(margin), margin < 0, ebit < 0).astype(float)
    up = PUBLISHED["unprofitable_share_of_companies"]
    count = np.ones(len(stocks))
    blend_up = {"fixed": np.where(known, loss, 0.0), "scale": np.where(known, 0.0, 1.0)}
    fitu = fit_blended(
        logistic,
        anchor("IWM", up["IWM"], count, **blend_up),
        anchor("IVV", up["IVV"], count, **blend_up),
    )
    out["unprofitable"] = np.where(known, loss, logistic(fitu.a + fitu.b * z))
    out["unprofitable_source"] = np.where(known, "reported", "estimated")
    rules["unprofitable"] = {
        "rule": "operating margin < 0 (snapshot) or EBIT < 0 (10-K); else logistic(a + b z)",
        "a": fitu.a,
        "b": fitu.b,
        "calibrated_to": up,
        "achieved": fitu.achieved,
        "measured_as": "unprofitable, each holding counted once",
    }

    # Interest coverage: 10-K EBIT / interest expense; else snapshot operating income over
    # debt x the band's borrowing rate; weak below 1.5. With neither, a probability fitted
    # on the companies whose coverage is known. Without an interest figure, an operating loss
    # covers no interest (weak) and a profit says nothing (the next source decides).
    expense = fund["interest_expense"].to_numpy()
    tenk_cov, tenk_known = _coverage(ebit, expense, tenk_debt)
    # Financial companies: over the holding-company debt the debt measures use.
    measured = debt_reported | financial
    income = margin * snap["total_revenue"].to_numpy()
    interest = np.where(measured, debt, np.nan) * band.map(BORROWING_RATE).to_numpy()
    snap_cov, snap_known = _coverage(income, interest, np.where(measured, debt, np.nan))
    snap_known &= measured
    coverage = np.where(tenk_known, tenk_cov, np.where(snap_known, snap_cov, np.nan))
    weak = np.where(np.isnan(coverage), 1.0, coverage < WEAK_COVERAGE)
    has_cov = tenk_known | snap_known
    a, b = _logistic_regression(z[has_cov], weak[has_cov])
    out["interest_coverage"] = coverage
    out["weak_coverage"] = np.where(has_cov, weak, logistic(a + b * z))
    out["weak_coverage_source"] = np.where(tenk_known, "reported", "estimated")
    rules["weak_coverage"] = {
        "rule": "coverage < 1.5: 10-K EBIT / interest expense (reported); else snapshot "
        "operating income / (debt x band rate) (estimated); else logistic(a + b z) "
        "fitted on the companies with a coverage figure. An operating loss without an "
        "interest figure is weak (coverage empty); a profit without one is not a figure",
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


def balance_sheet_financials(stocks: pd.DataFrame) -> np.ndarray:
    """Financial companies whose reported debt is balance-sheet funding, not a refinancing wall."""
    industry = stocks["industry"].fillna("").astype(str)
    found: np.ndarray = (
        (stocks["sector"] == "Financials") & industry.str.contains(FUNDING_INDUSTRY)
    ).to_numpy()
    return found


def _coverage(
    earnings: np.ndarray, interest: np.ndarray, debt: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Earnings / interest and whether it is a figure. Without interest (zero or missing), an
    operating loss covers none (NaN, read as weak), and a profit is a figure (+inf) only for a
    company without debt: zero interest on debt is a gap in the data, not strength."""
    has_interest = interest > 0
    ratio = np.divide(earnings, interest, out=np.full(len(earnings), np.nan), where=has_interest)
    loss = np.isfinite(earnings) & (earnings <= 0) & ~has_interest
    debt_free_profit = (earnings > 0) & (interest == 0) & (debt == 0)
    ratio = np.where(debt_free_profit, np.inf, ratio)
    known = np.isfinite(earnings) & (has_interest | loss | debt_free_profit)
    return ratio, known


def _debt_notes(
    stocks: pd.DataFrame,
    financial: np.ndarray,
    total_debt: np.ndarray,
    debt: np.ndarray,
    owed: np.ndarray,
    reported_part: np.ndarray,
) -> np.ndarray:
    """Why a company's debt figures are what they are, where they stand out: a financial
    company's funding left out, debt above the market cap, debt due beyond it."""
    cap = stocks["market_cap"].to_numpy()
    notes = []
    for i, industry in enumerate(stocks["industry"].fillna("").astype(str)):
        parts = []
        if financial[i] and np.isfinite(total_debt[i]):
            parts.append(
                f"financial company ({industry}): reported debt {_money(total_debt[i])} "
                f"({total_debt[i] / cap[i]:.2f} x market cap) funds its balance sheet and is "
                "left out; holding-company debt estimated at the band's median debt/cap"
            )
        elif debt[i] > cap[i]:
            parts.append(f"reported debt {_money(debt[i])} is {debt[i] / cap[i]:.1f} x market cap")
        if reported_part[i] > 1:
            parts.append(
                f"10-K current portion of debt {_money(reported_part[i] * cap[i])} "
                "alone exceeds the market cap: refinancing is that portion / market cap"
            )
        elif owed[i] > 1:
            parts.append(
                f"debt due within 24 months {_money(owed[i] * cap[i])} exceeds the market cap: "
                "refinancing counted as 1 (the whole stake)"
            )
        notes.append("; ".join(parts))
    return np.array(notes, dtype=object)


def _money(value: float) -> str:
    return f"${value / 1e9:,.2f}B" if value >= 1e9 else f"${value / 1e6:,.1f}M"


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
