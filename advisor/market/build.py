"""`advisor model build`: public exports in, a model folder (models/<name>/) out.

The output is a pure function of the inputs: rows sorted, floats rounded to SIGNIFICANT_DIGITS,
no build timestamps, and each source's date read from the source itself, so the same inputs give
byte-identical files on the locked versions (requirements.lock).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import InputError, Location
from advisor.market import dates, fundamentals, risk, universe
from advisor.market import funds as funds_table
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
    "IJR": "ishares-ijr-2021-03/IJR_holdings.csv",  # no preamble: dated by its SOURCE.md
}
# Daily closes of funds the model looks through to another's basket (date, <TICKER> columns).
DEFAULT_FUND_PRICES = {"SPY": "prices-pypfopt-1990-2024/spy_prices.csv"}
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
]


@dataclass(frozen=True)
class Sources:
    screener: Path
    russell3000: Path
    sp500_fundamentals: Path
    sp500_sectors: Path
    funds: dict[str, Path] = field(default_factory=dict)
    fund_prices: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def in_folder(cls, data: Path) -> Sources:
        """The public exports as laid out in the project's shared data folder."""
        return cls(
            screener=data / "nasdaq-screener-2026-02-10/nasdaq_screener_1770731394680.csv",
            russell3000=data / "russell3000-yahoo-2022-01-04/market_data.csv",
            sp500_fundamentals=data / "nyse-sp500-fundamentals-2012-2016/fundamentals.csv",
            sp500_sectors=data / "sp500-constituents/constituents.csv",
            funds={t: data / p for t, p in DEFAULT_FUNDS.items()},
            fund_prices={t: data / p for t, p in DEFAULT_FUND_PRICES.items()},
        )

    def check(self) -> None:
        for name, path in [
            ("screener", self.screener),
            ("russell3000", self.russell3000),
            ("sp500_fundamentals", self.sp500_fundamentals),
            ("sp500_sectors", self.sp500_sectors),
            *self.funds.items(),
            *self.fund_prices.items(),
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
    funds = {t: _read_fund(t, p) for t, p in sorted(sources.funds.items())}
    snapshot, snapshot_date = fundamentals.read_russell3000_snapshot(sources.russell3000)
    sp500 = fundamentals.read_sp500_fundamentals(sources.sp500_fundamentals)

    stocks = universe.listed_stocks(screener)
    stocks["price_date"] = dates.screener_date(sources.screener)
    # A stale basket (IJR's from 2021) is looked through to what is listed today; its
    # delisted holdings and old sector labels are left to the current files.
    current = {t: f for t, f in funds.items() if not funds_table.is_stale(t)}
    stocks = pd.concat(
        [stocks, universe.unlisted_fund_holdings(stocks, current)], ignore_index=True
    )
    stocks = stocks.sort_values("ticker").reset_index(drop=True)
    stocks = stocks.join(
        universe.sectors(stocks, current, fundamentals.read_sp500_sectors(sources.sp500_sectors))
    )
    size, size_meta = universe.size(stocks)
    stocks = stocks.join(size)
    stocks["adv_source"] = np.where(
        stocks["listed"], "reported (one day's volume x price)", "none (not listed)"
    )
    row_of = pd.Series(np.arange(len(stocks)), index=stocks["key"])
    weights = {t: _fund_weights(f, stocks, funds_table.is_stale(t)) for t, f in funds.items()}
    members = {
        t: risk.Members(row_of[w.index.map(ticker_key)].to_numpy(), w.to_numpy())
        for t, w in weights.items()
    }
    measures, rules = risk.risk_measures(stocks, snapshot, sp500, members)
    stocks = stocks.join(measures)
    stocks["type"] = "stock"

    fund_rows = pd.DataFrame([_fund_row(t, f) for t, f in funds.items()])
    standing_in = _stand_in_rows(fund_rows, sources.fund_prices)
    securities = pd.concat([stocks, fund_rows, standing_in], ignore_index=True)[STOCK_COLUMNS]
    securities = securities.sort_values("ticker").reset_index(drop=True)
    meta = _meta(name, as_of, sources, funds, snapshot_date, size_meta, rules, securities, weights)
    meta = _fund_records(meta, funds, sources.fund_prices, stocks)
    return BuiltModel(
        securities,
        {t: w.rename("weight").rename_axis("ticker").reset_index() for t, w in weights.items()},
        meta,
    )


def _read_fund(ticker: str, path: Path) -> FundHoldings:
    """An iShares export; one whose preamble was cut off is dated by its folder (SOURCE.md)."""
    try:
        return read_ishares(path)
    except InputError as exc:
        stated = dates.folder_date(path)
        if exc.location.field != "Fund Holdings as of" or stated == "unknown":
            raise
        fund = read_ishares(path, date.fromisoformat(stated))
        known = funds_table.BY_TICKER.get(ticker)  # the file names no fund either
        return dataclasses.replace(fund, fund_name=known.name) if known else fund


def _stand_in_rows(fund_rows: pd.DataFrame, prices: dict[str, Path]) -> pd.DataFrame:
    """A fund row for each fund looked through to a basket the model has: the basket's row
    with the fund's own name and price (its last close where a price file is given, else none:
    the portfolio gives it)."""
    baskets = fund_rows.set_index("ticker")
    rows = []
    for fund in funds_table.stand_ins(set(baskets.index)):
        row = baskets.loc[fund.basket].to_dict()
        close = _last_close(prices[fund.ticker], fund.ticker) if fund.ticker in prices else None
        row.update(
            ticker=fund.ticker,
            name=fund.name,
            company=fund.ticker,
            price=close[0] if close else np.nan,
            price_source=(
                f"close from {prices[fund.ticker].name} {close[1]}"
                if close
                else "none: give price in the portfolio file"
            ),
            price_date=close[1] if close else "",
            adv_source=f"estimated (as {fund.basket}'s)",
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _last_close(path: Path, ticker: str) -> tuple[float, str]:
    """The last row of a daily price file with columns date and `ticker`."""
    frame = pd.read_csv(path, usecols=["date", ticker]).dropna()
    if frame.empty:
        raise InputError(Location(path, None, ticker), "has no price", fix="give a price file")
    last = frame.iloc[-1]
    return float(last[ticker]), date.fromisoformat(str(last["date"])[:10]).isoformat()


def _matched(fund: FundHoldings, stocks: pd.DataFrame, stale: bool) -> pd.Series:
    """Which of a fund's equity lines are the companies the model lists under their tickers:
    all of a current export's; a stale one's where the names agree (five years on, a ticker may
    be another company's: IJR's 2021 B, Barnes Group, is Barrick Mining's today)."""
    keys = fund.equity["ticker"].map(ticker_key)
    if not stale:
        return pd.Series(True, index=keys.index)
    names = keys.map(stocks.drop_duplicates("key").set_index("key")["name"])
    same = [funds_table.same_company(a, b) for a, b in zip(fund.equity["name"], names, strict=True)]
    return pd.Series(same, index=keys.index)


def _fund_records(
    meta: dict[str, Any],
    funds: dict[str, FundHoldings],
    prices: dict[str, Path],
    stocks: pd.DataFrame,
) -> dict[str, Any]:
    """model.yaml's account of each fund: the index it tracks, which basket stands in for the
    funds looked through to another's, and the funds tracking the same index."""
    records = meta["funds"]
    for ticker in records:
        known = funds_table.BY_TICKER.get(ticker)
        if known is not None:
            records[ticker].update(
                index=known.index, issuer=known.issuer, approximate=known.approximate
            )
            if known.approximate:
                records[ticker]["reason"] = known.why
        if funds_table.is_stale(ticker):
            for source in meta["sources"]:
                if source["used_for"].startswith(f"{ticker} look-through"):
                    source["used_for"] = f"{ticker} look-through (its holdings listed today)"
            equity = funds[ticker].equity
            gone = ~_matched(funds[ticker], stocks, stale=True)
            records[ticker]["holdings_gone"] = int(gone.sum())
            records[ticker]["holdings_gone_share"] = _round(float(equity["weight"][gone].sum()))
    stand = funds_table.stand_ins(set(funds))
    meta["stand_ins"] = {
        f.ticker: funds_table.stand_in_record(f, f"iShares {funds[f.basket].as_of.isoformat()}")
        for f in stand
    }
    meta["same_index"] = funds_table.same_index_groups(set(funds) | {f.ticker for f in stand})
    for ticker, path in sorted(prices.items()):
        meta["sources"].append(
            {
                "file": path.name,
                "publisher": "Yahoo Finance daily closes via PyPortfolioOpt's data",
                "date": _last_close(path, ticker)[1],
                "used_for": f"{ticker} price",
            }
        )
    meta["counts"]["funds"] = len(funds) + len(stand)
    return meta


def _fund_weights(fund: FundHoldings, stocks: pd.DataFrame, stale: bool = False) -> pd.Series:
    """A fund's equity weights over the model's display tickers (lines on one key summed). A
    stale basket's line counts only where its name is the listed company's (_matched)."""
    tickers = stocks.set_index("key")["ticker"]
    equity = fund.equity
    display = equity["ticker"].map(ticker_key).map(tickers).where(_matched(fund, stocks, stale))
    weights = equity.groupby(display)["weight"].sum()  # lines no longer listed drop out
    if display.isna().any():  # a stale basket: renormalised over its holdings listed today
        weights = weights / weights.sum()
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
