"""`advisor model build`: public exports in, a model folder (models/<name>/) out.

The output is a pure function of the inputs: rows sorted, floats rounded to SIGNIFICANT_DIGITS,
no build timestamps, and each source's date read from the source itself, so the same inputs give
byte-identical files on the locked versions (requirements.lock).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import InputError, Location
from advisor.market import carried, dates, exports, fundamentals, identity, risk, universe
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
# Who publishes each kind of export, and what the model takes from it.
PUBLISHERS = {
    exports.SCREENER: "Nasdaq stock screener",
    exports.SNAPSHOT: "Yahoo Finance via a Russell 3000 snapshot",
    exports.FUNDAMENTALS: "SEC 10-K via the Kaggle NYSE dataset",
    exports.COMPANY_NAMES: "SEC 10-K company list via the Kaggle NYSE dataset",
    exports.SECTORS: "S&P 500 constituent list (datahub core)",
    exports.PRICES: "daily price history (PyPortfolioOpt data)",
}
USED_FOR = {
    exports.SCREENER: "universe, market cap, price, volume, country",
    exports.SNAPSHOT: "total debt, revenue, operating margin, beta",
    exports.FUNDAMENTALS: "EBIT, interest expense, short- and long-term debt",
    exports.COMPANY_NAMES: "names of the 10-K companies",
    exports.SECTORS: "GICS sector",
    exports.PRICES: "fund prices where no holdings file gives a NAV",
}
# The fundamentals sources and their tags in the carried fundamentals.csv.
CARRIED_TAGS = {
    exports.SNAPSHOT: carried.SNAPSHOT,
    exports.FUNDAMENTALS: carried.TEN_K,
    exports.COMPANY_NAMES: carried.NAMES,
    exports.SECTORS: carried.SECTORS,
}
# The funds whose baskets the estimation rules are calibrated on (risk.PUBLISHED): every build
# needs them.
ANCHOR_FUNDS = ("IVV", "IWB", "IWM")
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
    """The exports a build reads, found by content; None where an earlier model stands in."""

    screener: Path
    russell3000: Path | None
    sp500_fundamentals: Path | None
    sp500_sectors: Path | None
    funds: dict[str, Path] = field(default_factory=dict)
    sp500_names: Path | None = None  # the 10-K file's company list: each 10-K ticker's name
    price_history: tuple[Path, ...] = ()  # daily closes (one has SPY's)
    found: dict[Path, exports.Export] = field(default_factory=dict)  # each file's kind and date
    passed_over: tuple[tuple[exports.Export, str], ...] = ()  # and why
    unclassified: tuple[Path, ...] = ()
    previous: Path | None = None  # an earlier model whose sources stand in for missing kinds
    data: Path | None = None  # the folder searched, if any

    @classmethod
    def in_folder(cls, data: Path) -> Sources:
        """The public exports under a folder, found by their content."""
        return cls.gather(data)

    @classmethod
    def gather(
        cls,
        data: Path | None = None,
        *,
        screener: Path | None = None,
        holdings: tuple[str, ...] = (),
        fundamentals: tuple[Path, ...] = (),
        previous: Path | None = None,
    ) -> Sources:
        """Exports found under `data` and named outright (which take precedence); where a kind
        comes in several versions the newest is used and the others are passed over."""
        found: list[exports.Export] = []
        unclassified: list[Path] = []
        if data is not None:
            if not data.is_dir():
                raise InputError(
                    Location(data, None, "--data"),
                    "is not a folder",
                    fix="point --data at the folder of public exports",
                )
            found, unclassified = exports.find(data)
        named = (
            [exports.named_export(screener, "--screener", {exports.SCREENER})] if screener else []
        )
        named += [exports.named_holdings(spec) for spec in holdings]
        kinds = set(exports.DESCRIBED) - {exports.SCREENER, exports.HOLDINGS}
        named += [exports.named_export(path, "--fundamentals", kinds) for path in fundamentals]
        chosen, passed = exports.choose(found, named, carried.baskets(previous))
        used = {e.kind: e.path for e in chosen if e.kind != exports.HOLDINGS}
        if exports.SCREENER not in used:
            raise InputError(
                Location(data or "--screener", None, "screener"),
                f"is missing: no file is {exports.DESCRIBED[exports.SCREENER]}",
                fix="add the screener download to the folder, or name it with --screener FILE",
            )
        return cls(
            screener=used[exports.SCREENER],
            russell3000=used.get(exports.SNAPSHOT),
            sp500_fundamentals=used.get(exports.FUNDAMENTALS),
            sp500_sectors=used.get(exports.SECTORS),
            funds={e.fund: e.path for e in chosen if e.kind == exports.HOLDINGS},
            sp500_names=used.get(exports.COMPANY_NAMES),
            price_history=tuple(e.path for e in chosen if e.kind == exports.PRICES),
            found={e.path: e for e in chosen},
            passed_over=tuple(passed),
            unclassified=tuple(unclassified),
            previous=previous,
            data=data,
        )

    def check(self) -> None:
        """Every kind the build needs is given, or an earlier model carries it."""
        carried_tags = set(carried.read_fundamentals(self.previous)) if self.previous else set()
        for kind, path in [
            (exports.SNAPSHOT, self.russell3000),
            (exports.FUNDAMENTALS, self.sp500_fundamentals),
            (exports.COMPANY_NAMES, self.sp500_names),
            (exports.SECTORS, self.sp500_sectors),
        ]:
            if path is None and CARRIED_TAGS[kind] not in carried_tags:
                raise InputError(
                    Location(self.data or "model build", None, kind),
                    f"is missing: no file is {exports.DESCRIBED[kind]}",
                    fix="add it to the --data folder, name it with --fundamentals FILE, or "
                    "rebuild on top of a model that has it (--from MODEL)",
                )
        carried_funds = carried.baskets(self.previous)
        for ticker in ANCHOR_FUNDS:
            if ticker not in self.funds and ticker not in carried_funds:
                raise InputError(
                    Location(self.data or "model build", None, f"holdings {ticker}"),
                    f"is missing: the estimation rules are calibrated on {ticker}'s basket and "
                    f"no file is {ticker}'s {exports.DESCRIBED[exports.HOLDINGS]}",
                    fix=f"add its export to the --data folder, or name it with "
                    f"--holdings {ticker}=FILE",
                )


@dataclass(frozen=True)
class BuiltModel:
    securities: pd.DataFrame
    funds: dict[str, pd.DataFrame]
    meta: dict[str, Any]
    fundamentals: pd.DataFrame  # carried.fundamentals_table: what a later build may stand on


def build_model(sources: Sources, name: str, as_of: date | None = None) -> BuiltModel:
    """`as_of` defaults to the screener's date."""
    sources.check()
    screener = read_screener(sources.screener)
    found = sources.found[sources.screener]
    if as_of is not None and found.date_from == dates.MODIFIED:
        # A screener stating no date of its own is dated by --as-of where given: a copy's
        # modification time is the day it was copied, not the day its prices are from.
        dated = replace(found, date=as_of.isoformat(), date_from="--as-of")
        sources = replace(sources, found={**sources.found, sources.screener: dated})
    screener_date = sources.found[sources.screener].date
    as_of = as_of or date.fromisoformat(screener_date)
    previous = _previous_meta(sources.previous)
    funds = {t: _read_fund(sources.found[p]) for t, p in sources.funds.items()}
    for ticker in sorted(set(carried.baskets(sources.previous)) - set(funds)):
        assert sources.previous is not None
        share = COSTS["fund_adv_share_of_assets"]
        funds[ticker] = carried.fund(sources.previous, ticker, previous, share)
    funds = dict(sorted(funds.items()))
    figures = _fundamentals(sources)
    sp500_sectors = figures[carried.SECTORS][0]["sector"]

    stocks = universe.listed_stocks(screener)
    stocks["price_date"] = screener_date
    # A stale basket (IJR's from 2021) is looked through to what is listed today; its
    # delisted holdings and old sector labels are left to the current files.
    current = {t: f for t, f in funds.items() if not funds_table.is_stale(t)}
    stocks = pd.concat(
        [stocks, universe.unlisted_fund_holdings(stocks, current)], ignore_index=True
    )
    stocks = stocks.sort_values("ticker").reset_index(drop=True)
    stocks = stocks.join(universe.sectors(stocks, current, sp500_sectors))
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
    # Rows of the fundamentals sources are used only for the company they describe.
    snapshot, _, snapshot_date = figures[carried.SNAPSHOT]
    snapshot, snapshot_notes = identity.checked_rows(
        stocks, snapshot, f"Russell 3000 snapshot ({snapshot_date})"
    )
    tenk, _, tenk_date = figures[carried.TEN_K]
    sp500 = tenk.join(figures[carried.NAMES][0])
    sp500, tenk_notes = identity.checked_rows(stocks, sp500, f"10-K ({tenk_date})")
    measures, rules = risk.risk_measures(stocks, snapshot, sp500, members)
    stocks = stocks.join(measures)
    stocks["fundamentals_note"] = (snapshot_notes + "; " + tenk_notes).str.strip("; ")
    stocks["type"] = "stock"

    fund_rows = pd.DataFrame([_fund_row(t, f) for t, f in funds.items()])
    prices = _fund_prices(sources.price_history)
    standing_in = _stand_in_rows(fund_rows, prices, sources.previous)
    securities = pd.concat([stocks, fund_rows, standing_in], ignore_index=True)[STOCK_COLUMNS]
    securities = securities.sort_values("ticker").reset_index(drop=True)
    records = _source_records(sources, figures, funds, previous, prices)
    meta = _meta(name, as_of, records, sources, funds, size_meta, rules, securities, weights)
    meta = _fund_records(meta, funds, stocks)
    return BuiltModel(
        securities,
        {t: w.rename("weight").rename_axis("ticker").reset_index() for t, w in weights.items()},
        meta,
        carried.fundamentals_table(figures),
    )


def _read_fund(export: exports.Export) -> FundHoldings:
    fund = read_ishares(export.path, date.fromisoformat(export.date))
    # An export cut off above its header names no fund: the fund's own name stands in.
    return fund if export.fund_name else replace(fund, fund_name=exports.fund_name(export.fund))


def _previous_meta(previous: Path | None) -> dict[str, Any]:
    if previous is None or not (previous / "model.yaml").is_file():
        return {}
    from ruamel.yaml import YAML

    meta = YAML(typ="safe").load((previous / "model.yaml").read_text(encoding="utf-8"))
    return meta if isinstance(meta, dict) else {}


def _fundamentals(sources: Sources) -> dict[str, tuple[pd.DataFrame, str, str]]:
    """Each fundamentals source's per-company figures, with its file and date: read from the
    export where one is given, else as the earlier model carries them."""
    readers: dict[str, Callable[[Path], pd.DataFrame]] = {
        exports.SNAPSHOT: lambda p: fundamentals.read_russell3000_snapshot(p)[0],
        exports.FUNDAMENTALS: fundamentals.read_sp500_fundamentals,
        exports.COMPANY_NAMES: fundamentals.read_sp500_names,
        exports.SECTORS: lambda p: fundamentals.read_sp500_sectors(p).to_frame("sector"),
    }
    given = {e.kind: e for e in sources.found.values() if e.kind in readers}
    earlier = carried.read_fundamentals(sources.previous) if sources.previous else {}
    figures = {}
    for kind, tag in CARRIED_TAGS.items():
        if kind in given:
            export = given[kind]
            figures[tag] = (readers[kind](export.path), export.path.name, export.date)
        elif tag in earlier:
            figures[tag] = earlier[tag]
    return figures


# The order model.yaml lists sources in.
_KIND_ORDER = [exports.SCREENER, exports.SNAPSHOT, exports.FUNDAMENTALS, exports.COMPANY_NAMES]
_KIND_ORDER += [exports.SECTORS, exports.HOLDINGS, exports.PRICES]


def _source_records(
    sources: Sources,
    figures: dict[str, tuple[pd.DataFrame, str, str]],
    funds: dict[str, FundHoldings],
    previous: dict[str, Any],
    prices: dict[str, Path],
) -> list[dict[str, Any]]:
    """model.yaml's `sources`: each file read, with its sha256 and its date and how it was read;
    a source an earlier model carries keeps that model's record, with where it came from."""
    records: list[dict[str, Any]] = []
    priced = {p: sorted(t for t, q in prices.items() if q == p) for p in prices.values()}
    for export in sources.found.values():
        if export.kind == exports.PRICES and export.path not in priced:
            continue  # a price history no stand-in fund needs
        fund = funds[export.fund] if export.kind == exports.HOLDINGS else None
        record = {"file": export.path.name, "kind": export.kind}
        if fund is not None:
            record |= {"fund": export.fund, "identified_by": export.identified_by}
        record |= {
            "publisher": f"iShares ({fund.fund_name})" if fund else PUBLISHERS[export.kind],
            "date": export.date,
            "date_from": export.date_from,
            "sha256": sha256(export.path),
            "used_for": (
                f"{export.fund} look-through, GICS sectors"
                if fund
                else f"{', '.join(priced[export.path])} price (last close)"
                if export.kind == exports.PRICES
                else USED_FOR[export.kind]
            ),
        }
        records.append(record)
    given = {e.kind for e in sources.found.values()}
    old: list[dict[str, Any]] = previous.get("sources", [])
    since = f"model {previous.get('name')} as of {previous.get('as_of')}"
    for kind, tag in CARRIED_TAGS.items():
        if kind not in given and tag in figures:
            file, day = figures[tag][1], figures[tag][2]
            was = next((r for r in old if r.get("kind") == kind and r.get("file") == file), {})
            record = {"file": file, "kind": kind, "publisher": PUBLISHERS[kind], "date": day}
            record |= {"used_for": USED_FOR[kind]}
            records.append({**record, **was, "carried_from": since})
    if exports.PRICES not in given:  # the stand-in funds keep the earlier model's closes
        records += [{**r, "carried_from": since} for r in old if r.get("kind") == exports.PRICES]
    for ticker in funds:
        if ticker not in sources.funds:
            same = (r for r in old if r.get("kind") == exports.HOLDINGS and r.get("fund") == ticker)
            was = next(same, {})
            record = {"file": f"funds/{ticker}.csv", "kind": exports.HOLDINGS}
            record |= {"fund": ticker, "publisher": f"iShares ({funds[ticker].fund_name})"}
            record |= {"date": funds[ticker].as_of.isoformat()}
            record |= {"used_for": f"{ticker} look-through, GICS sectors"}
            records.append({**record, **was, "carried_from": since})
    records.sort(key=lambda r: (_KIND_ORDER.index(r["kind"]), r.get("fund", ""), r["file"]))
    return [{k: str(v) for k, v in r.items()} for r in records]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fund_prices(histories: tuple[Path, ...]) -> dict[str, Path]:
    """The price history holding each stand-in fund's closes (SPY's in PyPortfolioOpt's data)."""
    wanted = {f.ticker for f in funds_table.FUNDS}
    found: dict[str, Path] = {}
    for path in histories:
        header = pd.read_csv(path, nrows=0).columns
        found |= {ticker: path for ticker in header if ticker in wanted}
    return found


def _stand_in_rows(
    fund_rows: pd.DataFrame, prices: dict[str, Path], previous: Path | None
) -> pd.DataFrame:
    """A fund row for each fund looked through to a basket the model has: the basket's row
    with the fund's own name and price: its last close where a price history has it, else the
    earlier model's (a rebuild given no price history), else none (the portfolio gives it)."""
    baskets = fund_rows.set_index("ticker")
    earlier = carried.prices(previous)
    rows = []
    for fund in funds_table.stand_ins(set(baskets.index)):
        row = baskets.loc[fund.basket].to_dict()
        unpriced = (np.nan, "none: give price: on the holding or --prices FILE", "")
        if fund.ticker in prices:
            close, day = _last_close(prices[fund.ticker], fund.ticker)
            price = (close, f"last close in a {fund.ticker} price history", day)
        else:
            price = earlier.get(fund.ticker, unpriced)
        row.update(
            ticker=fund.ticker,
            name=fund.name,
            company=fund.ticker,
            price=price[0],
            price_source=price[1],
            price_date=price[2],
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
    same = [
        isinstance(b, str) and identity.same_company(a, b)
        for a, b in zip(fund.equity["name"], names, strict=True)
    ]
    return pd.Series(same, index=keys.index)


def _fund_records(
    meta: dict[str, Any], funds: dict[str, FundHoldings], stocks: pd.DataFrame
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
            f"NAV from {ticker} holdings file"
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
    records: list[dict[str, Any]],
    sources: Sources,
    funds: dict[str, FundHoldings],
    size_meta: dict[str, float],
    rules: dict[str, Any],
    securities: pd.DataFrame,
    weights: dict[str, pd.Series],
) -> dict[str, Any]:
    stocks = securities[securities["type"] == "stock"]
    return {
        "name": name,
        "as_of": as_of.isoformat(),
        "sources": records,
        "passed_over": [
            {
                "file": export.path.name,
                "kind": export.kind,
                **({"fund": export.fund} if export.fund else {}),
                "date": export.date,
                "why": why,
            }
            for export, why in sources.passed_over
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
    write_atomic(folder / carried.FUNDAMENTALS_FILE, carried.csv_text(model.fundamentals))
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
