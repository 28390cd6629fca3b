"""`advisor model build`: public exports in, a model folder (models/<name>/) out.

The output is a pure function of the inputs: rows sorted, floats rounded to SIGNIFICANT_DIGITS,
no build timestamps, and each source's date read from the source itself, so the same inputs give
byte-identical files on the locked versions (requirements.lock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import InputError, Location
from advisor.market import dates, fundamentals, identity, risk, universe
from advisor.market.ishares import FundHoldings, read_ishares
from advisor.market.screener import read_screener
from advisor.measures import BANDS
from advisor.portfolio.tickers import ticker_key
from advisor.writing import write_atomic

# Every float in securities.csv and funds/*.csv is written to this many significant digits: far
# finer than any input (a $4.6T market cap to $1,000; a fund weight to 1e-10 of itself), and coarse
# enough that the last bits of a fit, which move between numpy/scipy versions, mostly do not show.
SIGNIFICANT_DIGITS = 10
# model.yaml's summary figures (fitted coefficients, breakpoints, NAVs) are for reading only.
SUMMARY_DIGITS = 6
# Costs and factor risk parameters shipped with the model (documented in README).
COSTS: dict[str, Any] = {
    "half_spread_bps": {"giant": 1.0, "large": 2.0, "mid": 5.0, "small": 12.0, "micro": 35.0},
    "impact_coefficient": 0.02,  # square-root law: about daily vol (2%) x sqrt(trade / ADV)
    "fund_half_spread_bps": 1.0,
    "commission_per_trade": 0.0,
    "fund_adv_share_of_assets": 0.005,
}
FACTOR_VOLS = {"market": 0.16, "size": 0.035, "sector": 0.05}
# Where the fund files sit under ../shared/data, by fund ticker.
DEFAULT_FUNDS = {
    "IWM": "ishares-iwm-2026-04-10/IWM_holdings.csv",
    "IWB": "ishares-iwb-2026-07-17/IWB_holdings.csv",
    "IVV": "ishares-ivv-2024-12-06/IVV_holdings.csv",
    "IWV": "ishares-iwv-2025-05-21/IWV_holdings.csv",
}
STOCK_COLUMNS = [
    "ticker",
    "name",
    "type",
    "company",
    "sector",
    "sector_source",
    "country",
    "listed",
    "ranked",
    "market_cap",
    "market_cap_source",
    "price",
    "price_source",
    "price_date",
    "adv",
    "adv_source",
    "size_rank",
    "band",
    "size_score",
    "debt",
    "debt_source",
    "debt_note",
    "debt_due_5y",
    "refinancing",
    "refinancing_source",
    "floating_debt",
    "floating_debt_source",
    "interest_coverage",
    "weak_coverage",
    "weak_coverage_source",
    "unprofitable",
    "unprofitable_source",
    "economic_sensitivity",
    "economic_sensitivity_source",
    "domestic_revenue",
    "domestic_revenue_source",
    "beta",
    "beta_source",
    "specific_vol",
    "fundamentals_note",
]


@dataclass(frozen=True)
class Sources:
    screener: Path
    russell3000: Path
    sp500_fundamentals: Path
    sp500_sectors: Path
    funds: dict[str, Path] = field(default_factory=dict)
    # Company names for the 10-K rows (the Kaggle dataset's securities.csv beside them).
    sp500_names: Path | None = None

    @classmethod
    def in_folder(cls, data: Path) -> Sources:
        """The public exports as laid out in the project's shared data folder."""
        return cls(
            screener=data / "nasdaq-screener-2026-02-10/nasdaq_screener_1770731394680.csv",
            russell3000=data / "russell3000-yahoo-2022-01-04/market_data.csv",
            sp500_fundamentals=data / "nyse-sp500-fundamentals-2012-2016/fundamentals.csv",
            sp500_sectors=data / "sp500-constituents/constituents.csv",
            funds={t: data / p for t, p in DEFAULT_FUNDS.items()},
            sp500_names=data / "nyse-sp500-fundamentals-2012-2016/securities.csv",
        )

    @property
    def sp500_names_file(self) -> Path:
        return self.sp500_names or self.sp500_fundamentals.with_name("securities.csv")

    def check(self) -> None:
        for name, path in [
            ("screener", self.screener),
            ("russell3000", self.russell3000),
            ("sp500_fundamentals", self.sp500_fundamentals),
            ("sp500_sectors", self.sp500_sectors),
            ("sp500_names", self.sp500_names_file),
            *self.funds.items(),
        ]:
            if not path.is_file():
                raise InputError(
                    Location(path, None, name),
                    "is not a file",
                    fix="point --data at the folder of public exports",
                )


@dataclass(frozen=True)
class BuiltModel:
    securities: pd.DataFrame
    funds: dict[str, pd.DataFrame]
    meta: dict[str, Any]


def build_model(sources: Sources, name: str, as_of: date) -> BuiltModel:
    sources.check()
    screener = read_screener(sources.screener)
    funds = {t: read_ishares(p) for t, p in sorted(sources.funds.items())}
    snapshot, snapshot_date = fundamentals.read_russell3000_snapshot(sources.russell3000)
    sp500 = fundamentals.read_sp500_fundamentals(sources.sp500_fundamentals)

    stocks = universe.listed_stocks(screener)
    stocks["price_date"] = dates.screener_date(sources.screener)
    stocks = pd.concat([stocks, universe.unlisted_fund_holdings(stocks, funds)], ignore_index=True)
    stocks = stocks.sort_values("ticker").reset_index(drop=True)
    stocks = stocks.join(
        universe.sectors(stocks, funds, fundamentals.read_sp500_sectors(sources.sp500_sectors))
    )
    size, size_meta = universe.size(stocks)
    stocks = stocks.join(size)
    stocks["adv_source"] = np.where(
        stocks["listed"], "reported (one day's volume x price)", "none (not listed)"
    )
    row_of = pd.Series(np.arange(len(stocks)), index=stocks["key"])
    weights = {t: _fund_weights(f, stocks) for t, f in funds.items()}
    members = {
        t: risk.Members(row_of[w.index.map(ticker_key)].to_numpy(), w.to_numpy())
        for t, w in weights.items()
    }
    # Rows of the fundamentals snapshots are used only for the company they describe.
    snapshot, snapshot_notes = identity.checked_rows(
        stocks, snapshot, f"Russell 3000 snapshot ({snapshot_date})"
    )
    sp500 = sp500.join(fundamentals.read_sp500_names(sources.sp500_names_file))
    sp500, tenk_notes = identity.checked_rows(
        stocks, sp500, f"10-K ({dates.fiscal_years(sources.sp500_fundamentals)})"
    )
    measures, rules = risk.risk_measures(stocks, snapshot, sp500, members)
    stocks = stocks.join(measures)
    stocks["fundamentals_note"] = (snapshot_notes + "; " + tenk_notes).str.strip("; ")
    stocks["type"] = "stock"

    fund_rows = pd.DataFrame([_fund_row(t, f) for t, f in funds.items()])
    securities = pd.concat([stocks, fund_rows], ignore_index=True)[STOCK_COLUMNS]
    securities = securities.sort_values("ticker").reset_index(drop=True)
    meta = _meta(name, as_of, sources, funds, snapshot_date, size_meta, rules, securities, weights)
    return BuiltModel(
        securities,
        {t: w.rename("weight").rename_axis("ticker").reset_index() for t, w in weights.items()},
        meta,
    )


def _fund_weights(fund: FundHoldings, stocks: pd.DataFrame) -> pd.Series:
    """A fund's equity weights over the model's display tickers (lines on one key summed)."""
    tickers = stocks.set_index("key")["ticker"]
    equity = fund.equity
    weights = equity.groupby(equity["ticker"].map(ticker_key).map(tickers))["weight"].sum()
    return weights.sort_index()


def _fund_row(ticker: str, fund: FundHoldings) -> dict[str, Any]:
    nav = fund.nav
    return {
        "ticker": ticker,
        "name": fund.fund_name,
        "type": "fund",
        "company": ticker,
        "sector": "",
        "sector_source": "look-through",
        "country": "United States",
        "listed": True,
        "ranked": False,
        "market_cap": np.nan,
        "market_cap_source": "",
        "price": nav if nav is not None else np.nan,
        "price_source": (
            f"NAV from {ticker} holdings file {fund.as_of}"
            if nav is not None
            else "none: give price in the portfolio file"
        ),
        "price_date": fund.as_of.isoformat() if nav is not None else "",
        "adv": fund.total_market_value * COSTS["fund_adv_share_of_assets"],
        "adv_source": "estimated (share of fund assets)",
    }


def _meta(
    name: str,
    as_of: date,
    sources: Sources,
    funds: dict[str, FundHoldings],
    snapshot_date: str,
    size_meta: dict[str, float],
    rules: dict[str, Any],
    securities: pd.DataFrame,
    weights: dict[str, pd.Series],
) -> dict[str, Any]:
    stocks = securities[securities["type"] == "stock"]
    return {
        "name": name,
        "as_of": as_of.isoformat(),
        "sources": [
            {
                "file": sources.screener.name,
                "publisher": "Nasdaq stock screener",
                "date": dates.screener_date(sources.screener),
                "used_for": "universe, market cap, price, volume, country",
            },
            {
                "file": sources.russell3000.name,
                "publisher": "Yahoo Finance via a Russell 3000 snapshot",
                "date": snapshot_date,  # the file's first header cell
                "used_for": "total debt, revenue, operating margin, beta",
            },
            {
                "file": sources.sp500_fundamentals.name,
                "publisher": "SEC 10-K via the Kaggle NYSE dataset",
                "date": dates.fiscal_years(sources.sp500_fundamentals),
                "used_for": "EBIT, interest expense, short- and long-term debt",
            },
            {
                "file": sources.sp500_sectors.name,
                "publisher": "S&P 500 constituent list (datahub core)",
                # The list states no date of its own ("Date added" dates each company's entry).
                "date": dates.folder_date(sources.sp500_sectors),
                "used_for": "GICS sector",
            },
            *[
                {
                    "file": f.path.name,
                    "publisher": f"iShares ({f.fund_name})",
                    "date": f.as_of.isoformat(),  # the export's "Fund Holdings as of" line
                    "used_for": f"{t} look-through, GICS sectors",
                }
                for t, f in funds.items()
            ],
        ],
        "ranking_universe": (
            "US-domiciled common stocks in the screener with a positive market cap, one row per "
            "company (share classes grouped; the most traded class stands for the company). "
            "Foreign listings are banded against the US breakpoints but not ranked."
        ),
        "size_scheme": {
            "default": "cumulative",
            "alternative": "russell",
            "cumulative_edges": dict(zip(BANDS, universe.BAND_EDGES, strict=True)),
            "russell": "rank <= 1000 large, 1001-3000 small, beyond micro",
            "size_score": "(ln cap - cap-weighted mean) / equal-weighted std, winsorized at +-3",
            **{k: _round(v) for k, v in size_meta.items()},
        },
        "funds": {
            t: {
                "as_of": f.as_of.isoformat(),
                "equity_lines": len(f.equity),
                "equity_share": _round(f.equity_share),
                "non_equity_share": _round(1 - f.equity_share),
                "nav": _round(f.nav) if f.nav is not None else None,
                "holdings_not_listed": int(
                    (
                        ~weights[t].index.isin(stocks.loc[stocks["listed"].astype(bool), "ticker"])
                    ).sum()
                ),
            }
            for t, f in funds.items()
        },
        "counts": {
            "stocks": len(stocks),
            "ranked": int(stocks["ranked"].sum()),
            "not_listed": int((~stocks["listed"].astype(bool)).sum()),
            "funds": len(funds),
        },
        "estimation": _round(rules),
        "costs": COSTS,
        "risk_model": {
            "factors": "market (beta), size (size score), one per GICS sector",
            "factor_vols": FACTOR_VOLS,
            "specific_vol": risk.SPECIFIC_VOL,
        },
    }


def _round(value: Any) -> Any:
    """Rounded copies of floats so model.yaml stays readable and stable."""
    if isinstance(value, float):
        return float(f"{value:.{SUMMARY_DIGITS}g}")
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_round(v) for v in value]
    return value


def write_model(model: BuiltModel, folder: Path) -> None:
    from ruamel.yaml import YAML

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "funds").mkdir(exist_ok=True)
    write_atomic(folder / "securities.csv", _csv(model.securities))
    for ticker, weights in model.funds.items():
        write_atomic(folder / "funds" / f"{ticker}.csv", _csv(weights))
    yaml = YAML()
    yaml.default_flow_style = False
    import io

    buffer = io.StringIO()
    yaml.dump(model.meta, buffer)
    write_atomic(folder / "model.yaml", buffer.getvalue())


def _csv(frame: pd.DataFrame) -> str:
    text: str = frame.to_csv(
        index=False, float_format=f"%.{SIGNIFICANT_DIGITS}g", lineterminator="\n"
    )
    return text
