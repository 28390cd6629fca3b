"""A fund's holdings file in whatever layout its issuer publishes, read as ticker and weight,
and matched to a model's stocks.

An iShares export is read by its own reader (it gives the NAV and the equity lines). Any other
CSV is read by finding its header row: the first row with a ticker column and a weight or market
value column, under any of the names issuers use (SPDR "Ticker"/"Weight", Vanguard "TICKER"/"% OF
FUNDS*", Invesco "Holding Ticker"/"Weight", Schwab "Symbol"/"% of Assets", or a plain
"ticker,weight"). Weights may be percentages or fractions: the sum tells (near 100 or near 1).
The as-of date is a "Date" column, else an "as of" date in the lines above the header.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from advisor.errors import InputError, Location
from advisor.input_files import MB, read_regular
from advisor.market.funds import AddedFund
from advisor.market.ishares import number, parse_date, read_ishares
from advisor.market.model import MarketModel
from advisor.portfolio.tickers import display_ticker

if TYPE_CHECKING:
    from advisor.portfolio.loading import LoadedPortfolio

MAX_HOLDINGS_BYTES = 8 * MB  # a total-market fund's export is about 1 MB
_TICKER = ("ticker", "symbol", "holding ticker", "ticker symbol")
_WEIGHT = ("weight", "weight (%)", "% of funds", "% of fund", "% of net assets", "% of assets",
           "% portfolio weight", "percent of fund", "portfolio weight", "% weight")  # fmt: skip
_VALUE = ("market value", "marketvalue", "market value ($)", "notional value")
_NAME = ("name", "holdings", "description", "security name", "holding name")
_AS_OF = re.compile(r"as of[:\s]*([A-Za-z0-9,/\- ]+\d)", re.IGNORECASE)
PARTIAL = 0.02  # weights summing to less than 98% (or 98) list part of the fund
_FIX = "give the fund's holdings CSV: a column of tickers and one of weights or market values"


@dataclass(frozen=True)
class Holdings:
    """A fund's lines: ticker, name, weight (fractions summing to 1, over every line given)."""

    path: Path
    lines: pd.DataFrame  # ticker, name, weight
    as_of: date | None
    layout: str  # "iShares" or the header names that were recognised
    name: str = ""
    nav: float | None = None


def read_holdings(path: Path) -> Holdings:
    raw = read_regular(path, MAX_HOLDINGS_BYTES, _FIX)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # older spreadsheet exports
    rows = list(csv.reader(io.StringIO(text)))
    header_at = next((i for i, row in enumerate(rows) if _columns(row) is not None), None)
    if header_at is None:
        raise InputError(Location(path, None, "header"), "has no ticker and weight columns",
                         fix=_FIX)  # fmt: skip
    if header_at > 0 and _is_ishares(rows[header_at]):  # with its preamble: NAV and name
        return _ishares(path)
    columns = _columns(rows[header_at])
    assert columns is not None
    ticker_at, weight_at, name_at, date_at, shares = columns
    lines: list[tuple[str, str, float]] = []
    for i, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not "".join(row).strip():
            continue
        if len(row) <= max(ticker_at, weight_at):
            if len(rows[header_at]) > 2:  # an issuer's section title or footnote
                continue
            where = Location(path, i, rows[header_at][weight_at].strip())
            problem = f"is missing for {row[0].strip()!r}"
            raise InputError(where, problem, fix="give each line a ticker and a weight")
        try:
            weight = number(row[weight_at].replace("%", ""))
        except ValueError:
            if _columns(row) is not None:  # a section's header (Vanguard's short-term reserves)
                continue
            where = Location(path, i, rows[header_at][weight_at].strip())
            raise InputError(where, "is not a number", value=row[weight_at], fix=_FIX) from None
        if weight != weight:  # '-' or empty: no weight, nothing to look through
            continue
        ticker = row[ticker_at].strip()
        lines.append((ticker, row[name_at].strip() if name_at is not None else "", weight))
    frame = pd.DataFrame(lines, columns=["ticker", "name", "weight"])
    if frame.empty or frame["weight"].sum() <= 0:
        raise InputError(Location(path), "holds no line with a positive weight", fix=_FIX)
    total = float(frame["weight"].sum())
    if shares:  # percentages sum near 100, fractions near 1
        listed = total / (100.0 if total > 1.5 else 1.0)
        if listed < 1 - PARTIAL:  # a partial list: the rest is stated, not spread over it
            rest = ("", f"not listed in the file (it lists {listed:.1%})", total / listed - total)
            frame.loc[len(frame)] = rest
    frame["weight"] = frame["weight"] / frame["weight"].sum()
    as_of = _date_column(rows, header_at, date_at) or _preamble_date(rows[:header_at])
    layout = (
        f"columns {rows[header_at][ticker_at].strip()!r}, {rows[header_at][weight_at].strip()!r}"
    )
    return Holdings(path, frame, as_of, layout)


def _norm(cell: str) -> str:
    return " ".join(cell.replace("*", "").strip().lower().split())


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        for i, cell in enumerate(header):
            if _norm(cell) == name:
                return i
    return None


def _columns(row: list[str]) -> tuple[int, int, int | None, int | None, bool] | None:
    """(ticker, weight, name, date) column positions where `row` is a holdings header, and
    whether the weight column holds shares of the fund (else market values)."""
    ticker = _find(row, _TICKER)
    weight = _find(row, _WEIGHT)
    shares = weight is not None
    if weight is None:
        weight = _find(row, _VALUE)
    if ticker is None or weight is None:
        return None
    return ticker, weight, _find(row, _NAME), _find(row, ("date", "as of date")), shares


def _is_ishares(header: list[str]) -> bool:
    names = {_norm(cell) for cell in header}
    return {"ticker", "asset class", "market value"} <= names


def _ishares(path: Path) -> Holdings:
    """The iShares reader: equity lines only, as for the model's own funds (cash and futures
    are no holdings to look through), and the NAV where the preamble gives shares outstanding."""
    fund = read_ishares(path)
    equity = fund.equity
    lines = pd.DataFrame(
        {
            "ticker": equity["ticker"].to_numpy(),
            "name": equity["name"].to_numpy(),
            "weight": equity["weight"].to_numpy(),
        }
    )
    return Holdings(path, lines, fund.as_of, "iShares", fund.fund_name, fund.nav)


def _date_column(rows: list[list[str]], header_at: int, column: int | None) -> date | None:
    if column is None:
        return None
    for row in rows[header_at + 1 :]:
        if len(row) > column and row[column].strip():
            try:
                return parse_date(row[column])
            except ValueError:
                return None
    return None


def _preamble_date(rows: list[list[str]]) -> date | None:
    """An 'as of' date above the header: 'As of 27-Nov-2026', 'Equity,as of 09/30/2020', or
    iShares' 'Fund Holdings as of' line."""
    for row in rows:
        text = " ".join(cell.strip() for cell in row if cell.strip())
        found = _AS_OF.search(text)
        if found is None:
            continue
        for candidate in (found[1], found[1].split(" ", 1)[-1]):
            try:
                return parse_date(candidate.strip(" ,"))
            except ValueError:
                continue
    return None


def match_holdings(model: MarketModel, ticker: str, holdings: Holdings, name: str) -> AddedFund:
    """A fund's weights over `model`'s stocks: each line matched by ticker (any share-class
    spelling), a line naming one of the model's funds looked through to its holdings. Lines
    the model lacks are kept, with their weight, as unmatched; the matched weights are
    renormalised, so the fund is looked through over what the model knows."""
    lines = holdings.lines
    resolved = lines["ticker"].map(lambda t: model.tickers.resolve(t) if t.strip() else None)
    found = resolved.notna().to_numpy()
    weights = pd.Series(dtype=float)
    for held, weight in zip(resolved[found], lines["weight"][found], strict=True):
        inside = model.fund_weights.get(str(held))
        part = inside * weight if inside is not None else pd.Series({held: weight})
        weights = weights.add(part, fill_value=0.0)
    unmatched = lines.loc[~found, ["ticker", "name", "weight"]]
    unmatched = unmatched.sort_values("weight", ascending=False, kind="stable")
    if weights.sum() <= 0:
        raise InputError(
            Location(holdings.path),
            f"has no holding in model {model.name} (none of its {len(lines):,} tickers matched)",
            fix="check that the file lists the fund's holdings by ticker",
        )
    weights = (weights / weights.sum()).sort_index()
    return AddedFund(
        ticker=ticker,
        name=name or holdings.name or ticker,
        weights=weights,
        unmatched=unmatched.reset_index(drop=True),
        source=holdings.path.name,
        layout=holdings.layout,
        as_of=holdings.as_of.isoformat() if holdings.as_of else "",
        nav=holdings.nav,
    )


def with_portfolio_funds(loaded: LoadedPortfolio, model: MarketModel) -> MarketModel:
    """`model` with the funds the portfolio file gives holdings files for (`funds:`)."""
    added = []
    for ticker, fund in loaded.portfolio.funds.items():
        known = model.tickers.resolve(ticker)
        if known is not None and not model.is_fund(known):
            raise InputError(
                loaded.where(f"funds.{ticker}"),
                f"is a stock in model {model.name}, not a fund",
                value=ticker,
                fix="give holdings for funds only; remove this entry or correct the ticker",
            )
        path = loaded.path.parent / fund.holdings
        if not path.exists():
            raise InputError(
                loaded.where(f"funds.{ticker}.holdings"),
                f"does not exist (looked for {path})",
                value=fund.holdings,
                fix="give the holdings file's path relative to the portfolio file",
            )
        holdings = read_holdings(path)
        added.append(match_holdings(model, known or display_ticker(ticker), holdings,
                                    fund.name or ""))  # fmt: skip
    return model.with_funds(added)
