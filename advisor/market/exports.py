"""Public exports recognised by their content, whatever their names or folders.

Each kind is known by its header row (and, for fund holdings, the preamble above it): a file
renamed by a browser, a spreadsheet or a colleague is still found. Every export carries the date
it states for itself and how that date was read (see dates.py). Of several versions of one kind
the build uses one named outright, else the newest; the others are passed over, with the reason.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd

from advisor.errors import InputError, Location
from advisor.market import dates
from advisor.market.ishares import parse_date, read_ishares
from advisor.portfolio.tickers import ticker_key

SCREENER = "screener"
HOLDINGS = "holdings"
SNAPSHOT = "snapshot"
FUNDAMENTALS = "fundamentals"
COMPANY_NAMES = "company_names"
SECTORS = "sectors"
PRICES = "prices"

# Columns that mark each kind (a header must hold them all).
_MARKS: dict[str, set[str]] = {
    SCREENER: {"Symbol", "Name", "Last Sale", "Market Cap", "Country", "Volume"},
    HOLDINGS: {"Ticker", "Name", "Sector", "Asset Class", "Market Value"},
    SNAPSHOT: {"totalDebt", "totalRevenue", "operatingMargins", "beta"},
    FUNDAMENTALS: {"TickerSymbol", "PeriodEnding", "EarningsBeforeInterestandTax"},
    COMPANY_NAMES: {"Ticker symbol", "Security", "GICS Sector"},
    SECTORS: {"Symbol", "Security", "GICS Sector"},
}
# What each kind is, for messages.
DESCRIBED = {
    SCREENER: "a Nasdaq stock screener export (columns Symbol, Name, Last Sale, Market Cap, ...)",
    HOLDINGS: "an iShares holdings export (columns Ticker, Name, Sector, Asset Class, ...)",
    SNAPSHOT: "a Russell 3000 company snapshot (columns totalDebt, totalRevenue, beta, ...)",
    FUNDAMENTALS: "a 10-K fundamentals file (columns TickerSymbol, PeriodEnding, ...)",
    COMPANY_NAMES: "the 10-K file's company list (columns Ticker symbol, Security, ...)",
    SECTORS: "an S&P 500 constituent list (columns Symbol, Security, GICS Sector, ...)",
    PRICES: "a daily price history (a date column, then one column of prices per ticker)",
}
# A header row lies within the first lines (iShares puts nine preamble lines above it), and
# within the first bytes (so a large file of another kind is not read whole to find out).
_HEAD_LINES = 20
_HEAD_BYTES = 1 << 16
# iShares fund names as the export's first line states them, and their tickers.
ISHARES_FUNDS = {
    "iShares Core S&P 500 ETF": "IVV",
    "iShares Core S&P Mid-Cap ETF": "IJH",
    "iShares Core S&P Small-Cap ETF": "IJR",
    "iShares Core S&P Total U.S. Stock Market ETF": "ITOT",
    "iShares Russell 1000 ETF": "IWB",
    "iShares Russell 1000 Growth ETF": "IWF",
    "iShares Russell 1000 Value ETF": "IWD",
    "iShares Russell 2000 ETF": "IWM",
    "iShares Russell 2000 Growth ETF": "IWO",
    "iShares Russell 2000 Value ETF": "IWN",
    "iShares Russell 3000 ETF": "IWV",
    "iShares Russell Mid-Cap ETF": "IWR",
    "iShares Russell Top 200 ETF": "IWL",
    "iShares Micro-Cap ETF": "IWC",
    "iShares S&P 500 Growth ETF": "IVW",
    "iShares S&P 500 Value ETF": "IVE",
}
# A holdings file without a fund name is taken for a known fund when it shares at least this much
# weight with that fund's basket (the sum over common tickers of the smaller weight) and clearly
# more than with any other: two IWB exports three months apart share 0.93, while any two
# cap-weighted large-cap funds share about 0.8, and the S&P 600 and the Russell 2000 about 0.3.
SAME_BASKET_OVERLAP = 0.85
OVERLAP_MARGIN = 0.05


@dataclass(frozen=True)
class Export:
    path: Path
    kind: str
    date: str  # ISO date, or a fiscal span such as FY2012-2016
    date_from: str  # how the date was read (dates.OWN_FIELD, ...)
    fund: str = ""  # holdings: the fund's ticker, "" until identified
    fund_name: str = ""  # holdings: the preamble's fund name
    identified_by: str = ""  # holdings: how the fund was identified
    floor: str = ""  # a date the content proves the file is no older than (a screener's IPOs)

    @property
    def recency(self) -> tuple[str, str, int]:
        """Orders versions of one kind: by date, then (where two share a date, as copies dated
        by their modification day do) by what the content proves, then by modification time."""
        return dates.sortable(self.date), self.floor, self.path.stat().st_mtime_ns


def classify(path: Path) -> Export | None:
    """The kind of export a file is, read from its first lines; None for anything else."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES).decode("utf-8-sig", errors="replace")
        lines = head.splitlines()[:_HEAD_LINES]
        rows = list(csv.reader(io.StringIO("\n".join(lines))))
    except (OSError, csv.Error):
        return None
    for at, row in enumerate(rows):
        cells = {cell.strip() for cell in row}
        for kind, marks in _MARKS.items():
            if marks <= cells and (kind != HOLDINGS or row[0].strip() == "Ticker"):
                return _export(path, kind, rows[:at])
    if rows and rows[0] and rows[0][0].strip().lower() == "date" and _prices(rows[1:]):
        return Export(path, PRICES, *_last_date(path))
    return None


def _export(path: Path, kind: str, preamble: list[list[str]]) -> Export:
    if kind == SCREENER:
        return Export(path, kind, *dates.screener_date(path), floor=_newest_listing(path))
    if kind == FUNDAMENTALS:
        return Export(path, kind, *dates.fiscal_years(path))
    if kind == SNAPSHOT:
        first = pd.read_csv(path, nrows=0).columns[0]
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(first)):
            return Export(path, kind, str(first), dates.OWN_FIELD)  # the first header cell
        return Export(path, kind, *dates.file_date(path))
    if kind == HOLDINGS:
        return _holdings(path, preamble)
    day, how = dates.file_date(path)
    if how == dates.MODIFIED:
        # A constituent list is at least as new as its newest addition: a date the file states.
        day, how = _newest_addition(path) or (day, how)
    return Export(path, kind, day, how)


def _newest_listing(path: Path) -> str:
    """The first day of the latest IPO year a screener lists: the file is no older."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "IPO Year" not in raw:
        return ""
    years = pd.to_numeric(raw["IPO Year"], errors="coerce").dropna()
    return f"{int(years.max())}-01-01" if len(years) else ""


def _newest_addition(path: Path) -> tuple[str, str] | None:
    raw = pd.read_csv(path, dtype=str)
    column = next((c for c in raw.columns if c.lower().startswith("date ")), None)
    if column is None:
        return None
    added = pd.to_datetime(raw[column], errors="coerce").dropna()
    if added.empty:
        return None
    return added.max().date().isoformat(), f"the newest '{column}' in the file"


def _holdings(path: Path, preamble: list[list[str]]) -> Export:
    stated = {row[0].strip(): row[1].strip() for row in preamble if len(row) > 1}
    try:
        day, how = parse_date(stated["Fund Holdings as of"]).isoformat(), dates.OWN_FIELD
    except (KeyError, ValueError):
        day, how = dates.file_date(path)
    fund_name = preamble[0][0].strip() if preamble and preamble[0] else ""
    if (ticker := ISHARES_FUNDS.get(_spaced(fund_name))) is not None:
        return Export(path, HOLDINGS, day, how, ticker, fund_name, "the fund name in the file")
    if (ticker := named_fund(path, set(ISHARES_FUNDS.values()))) is not None:
        return Export(path, HOLDINGS, day, how, ticker, fund_name, "the file's name")
    return Export(path, HOLDINGS, day, how, "", fund_name)


def named_fund(path: Path, tickers: set[str]) -> str | None:
    """A fund ticker the file's name spells out as a word (IJR_holdings.csv), if exactly one."""
    words = set(re.split(r"[^A-Za-z0-9]+", path.stem.upper()))
    found = sorted(words & tickers)
    return found[0] if len(found) == 1 else None


def fund_name(ticker: str) -> str:
    names = {t: name for name, t in ISHARES_FUNDS.items()}
    return names.get(ticker, f"{ticker} fund")


def _spaced(text: str) -> str:
    return " ".join(text.split())


def _prices(rows: list[list[str]]) -> bool:
    """Positive numbers under the ticker columns (returns would go negative)."""
    values = [cell for row in rows for cell in row[1:] if cell.strip()]
    try:
        return bool(values) and all(float(v) > 0 for v in values)
    except ValueError:
        return False


def _last_date(path: Path) -> tuple[str, str]:
    """A price history's last row's date."""
    frame = pd.read_csv(path, usecols=[0], dtype=str)
    return str(frame.iloc[-1, 0]).strip(), dates.OWN_FIELD


def find(folder: Path) -> tuple[list[Export], list[Path]]:
    """Every export under `folder` (searched recursively) and the files that are none.

    Notes (*.md) and hidden files are not exports and are not listed.
    """
    found, unknown = [], []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or path.suffix.lower() == ".md":
            continue
        if any(part.startswith(".") for part in relative.parts):
            continue
        export = classify(path)
        if export is None:
            unknown.append(path)
        else:
            found.append(export)
    return found, unknown


def named_export(path: Path, option: str, kinds: set[str]) -> Export:
    if not path.is_file():
        raise InputError(
            Location(path, None, option), "is not a file", fix="give the export's path"
        )
    export = classify(path)
    if export is None or export.kind not in kinds:
        wanted = " or ".join(DESCRIBED[k] for k in sorted(kinds))
        seen = f"; it reads as {DESCRIBED[export.kind]}" if export else ""
        raise InputError(
            Location(path, None, option),
            f"is not {wanted}{seen}",
            fix=f"name the right file with {option}",
        )
    return export


def named_holdings(spec: str) -> Export:
    """`FILE` or `TICKER=FILE`: an iShares holdings export, its fund named or identified."""
    ticker, _, file = spec.rpartition("=")
    export = named_export(Path(file), "--holdings", {HOLDINGS})
    if ticker:
        ticker = ticker_key(ticker)
        return replace(export, fund=ticker, identified_by="named with --holdings")
    return export


def _basket(path: Path, as_of: str) -> pd.Series:
    equity = read_ishares(path, date.fromisoformat(as_of)).equity
    return equity.groupby(equity["ticker"].map(ticker_key))["weight"].sum()


def choose(
    found: list[Export], named: list[Export], baskets: dict[str, pd.Series]
) -> tuple[list[Export], list[tuple[Export, str]]]:
    """One export per kind (per fund for holdings): one named outright, else the newest. A
    holdings file naming no fund is taken for the known basket it matches, else passed over."""
    passed: list[tuple[Export, str]] = []
    outright = {e.path.resolve() for e in named}
    found = [e for e in found if e.path.resolve() not in outright]
    identified = [e for e in found + named if e.kind != HOLDINGS or e.fund]
    known = dict(baskets)
    for export in identified:
        if export.kind == HOLDINGS and export.fund not in known:
            known[export.fund] = _basket(export.path, export.date)
    for export in found + named:
        if export.kind != HOLDINGS or export.fund:
            continue
        fund, how = _by_overlap(_basket(export.path, export.date), known)
        if fund:
            identified.append(replace(export, fund=fund, identified_by=how))
        elif export in named:
            raise InputError(
                Location(export.path, None, "--holdings"),
                f"names no fund the build can identify ({how})",
                fix=f"give the fund's ticker: --holdings TICKER={export.path}",
            )
        else:
            passed.append(
                (
                    export,
                    f"its fund is not identified ({how}): name it with "
                    f"--holdings TICKER={export.path}",
                )
            )
    groups: dict[tuple[str, str], list[Export]] = {}
    for export in identified:
        groups.setdefault((export.kind, export.fund), []).append(export)
    chosen = []
    for (kind, _), group in sorted(groups.items()):
        if kind == PRICES:  # histories of different tickers: all kept
            chosen += group
            continue
        given = [e for e in group if e in named]
        pick = given[-1] if given else max(group, key=lambda e: e.recency)
        chosen.append(pick)
        for other in group:
            if other is not pick:
                why = (
                    "another file was named outright"
                    if given
                    else f"{pick.path.name} of {pick.date} is newer"
                )
                passed.append((other, why))
    return chosen, passed


def _by_overlap(weights: pd.Series, known: dict[str, pd.Series]) -> tuple[str, str]:
    shares = sorted(((overlap(weights, b), t) for t, b in known.items()), reverse=True)
    if not shares:
        return "", "no fund basket is known to compare it with"
    (best, fund), runner_up = shares[0], (shares[1][0] if len(shares) > 1 else 0.0)
    if best >= SAME_BASKET_OVERLAP and best - runner_up >= OVERLAP_MARGIN:
        return fund, f"its holdings share {best:.0%} of {fund}'s basket"
    return "", f"its holdings share at most {best:.0%} of a known fund's basket ({fund}'s)"


def overlap(weights: pd.Series, basket: pd.Series) -> float:
    """Weight two baskets share: the sum over common tickers of the smaller weight."""
    common = weights.index.intersection(basket.index)
    return float(pd.concat([weights[common], basket[common]], axis=1).min(axis=1).sum())


def price_history(path: Path) -> pd.DataFrame:
    """A price history, one column per ticker, indexed by date."""
    frame = pd.read_csv(path, index_col=0)
    frame.index = pd.to_datetime(frame.index).date
    return frame
