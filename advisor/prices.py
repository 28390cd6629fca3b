"""Prices: quotes files (`--prices FILE`, the portfolio file's `prices:`), which price each
security is valued and traded at, with its source and date, and which of them are stale.

Precedence, highest first: `--prices`, a holding's `price:`, the portfolio file's `prices:`,
the model's price. A price without a date is dated by the file it was read from: a quotes
file's or the portfolio file's modification date (the day it was last written).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from advisor.amounts import parse_amount
from advisor.errors import InputError, Location
from advisor.input_files import MB, read_regular
from advisor.portfolio.model import MAX_PRICE
from advisor.portfolio.tickers import TickerIndex

MAX_BYTES = 16 * MB  # a quote for every listed US security is about 200 KB
MAX_PRICE_AGE_DAYS = 5  # a price older than this before the run date is stale
SHOWN = 5  # unknown tickers named in a warning before "and N more"
FIX = "give a CSV with a header of ticker and price and, optionally, date (YYYY-MM-DD)"

# Header spellings, compared by their words (lower case; punctuation and spaces alike).
COLUMNS = {
    "ticker": ("ticker", "symbol"),
    "price": ("price", "last", "last price", "last sale", "close", "closing price"),
    "date": ("date", "as of", "price date", "as of date"),
}


@dataclass(frozen=True)
class Quote:
    """A price per share, where it came from, and the day it is from (None: not known)."""

    price: float
    source: str
    day: date | None

    @property
    def day_text(self) -> str:
        return self.day.isoformat() if self.day else ""


@dataclass(frozen=True)
class PriceOptions:
    """What the command line says about prices: a quotes file, the run date, the age limit."""

    file: Path | None = None
    run_date: date | None = None  # None: today
    max_age_days: int = MAX_PRICE_AGE_DAYS

    @property
    def day(self) -> date:
        return self.run_date or date.today()


@dataclass(frozen=True)
class QuoteFile:
    """A quotes file read: each row's quote by the ticker as written, and its line."""

    path: Path
    source: str
    quotes: dict[str, Quote]
    lines: dict[str, int]


@dataclass(frozen=True)
class PriceBook:
    """The quotes files of one run, resolved to the model's tickers, and what they did not
    match. `given` is --prices, `listed` the portfolio file's prices: (lower precedence than a
    holding's price:)."""

    given: Mapping[str, Quote] = field(default_factory=dict)
    listed: Mapping[str, Quote] = field(default_factory=dict)
    # Each quotes file's tickers the model does not know, by the file's source.
    unknown: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def quote(self, ticker: str, holding: Quote | None = None) -> Quote | None:
        """The quote that prices `ticker` ahead of the model's, if any."""
        return self.given.get(ticker) or holding or self.listed.get(ticker)

    def warnings(self) -> list[str]:
        lines = []
        for source, tickers in self.unknown.items():
            named = ", ".join(tickers[:SHOWN])
            more = f" and {len(tickers) - SHOWN} more" if len(tickers) > SHOWN else ""
            count = len(tickers)
            lines.append(
                f"warning: {count} ticker{'s' if count != 1 else ''} in {source} "
                f"{'are' if count != 1 else 'is'} not in the model, so not used: {named}{more}"
            )
        return lines


def file_day(path: Path) -> date:
    """The local date a file was last modified: the date of prices that carry none."""
    return datetime.fromtimestamp(os.stat(path).st_mtime).date()


def read_quotes(path: Path, source: str) -> QuoteFile:
    """A quotes CSV: ticker, price and an optional date per row; a bad row raises a located
    InputError naming the line, the column, the value and the fix."""
    raw = read_regular(path, MAX_BYTES, FIX)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(Location(path, line, "file"), "is not UTF-8 text", fix=FIX) from None
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(rows, None)
        if header is None:
            raise InputError(Location(path, 1, "file"), "is empty", fix=FIX)
        columns = _columns(path, header)
        undated = file_day(path)
        undated_source = f"{source}, undated: the file's date"
        quotes: dict[str, Quote] = {}
        lines: dict[str, int] = {}
        for row in rows:
            number = rows.line_num
            if not any(cell.strip() for cell in row):
                continue
            if any(cell.strip() for cell in row[len(header) :]):
                raise InputError(
                    Location(path, number, "row"),
                    f"has {len(row)} cells, the header {len(header)}",
                    value=",".join(row),
                    fix='put a value holding a comma in quotes, e.g. "1,234.50"',
                )
            cells = {name: row[i].strip() if i < len(row) else "" for name, i in columns.items()}
            ticker = cells["ticker"]
            if not ticker:
                raise InputError(Location(path, number, "ticker"), "is empty", fix="give a ticker")
            key = ticker.upper()
            if key in lines:
                raise InputError(
                    Location(path, number, "ticker"),
                    f"is listed twice (first on line {lines[key]})",
                    value=ticker,
                    fix="keep one price per ticker",
                )
            price = parse_price(path, number, cells["price"])
            day = _date(path, number, cells.get("date", ""))
            quotes[key] = Quote(price, source if day else undated_source, day or undated)
            lines[key] = number
    except csv.Error as exc:  # a NUL byte, a quote left open at the end
        where = Location(path, rows.line_num, "file")
        raise InputError(where, f"is not a readable CSV ({exc})", fix=FIX) from None
    return QuoteFile(path, source, quotes, lines)


def _normal(name: str) -> str:
    """A header cell compared by its words alone: 'Last_Price ($)' reads as 'last price'."""
    return " ".join(re.split(r"[^a-z0-9]+", name.lower())).strip()


def _columns(path: Path, header: list[str]) -> dict[str, int]:
    """Each known column's position; ticker and price are required."""
    names = [_normal(cell) for cell in header]
    found: dict[str, int] = {}
    for column, known in COLUMNS.items():
        for i, name in enumerate(names):
            if name in known and column not in found:
                found[column] = i
    for column in ("ticker", "price"):
        if column not in found:
            spellings = " or ".join(COLUMNS[column])
            raise InputError(
                Location(path, 1, "header"),
                f"has no {column} column",
                value=",".join(header),
                fix=f"name a column {spellings} (any case); {FIX}",
            )
    return found


def parse_price(path: Path, line: int, text: str) -> float:
    """A plain number, or $ and commas grouping thousands (advisor/amounts.py); never
    a decimal comma."""
    where = Location(path, line, "price")
    try:
        value = parse_amount(text)
    except ValueError:
        value = None
    if value is None:
        fix = "write a number such as 123.45 (a dot for decimals, no currency but $)"
        raise InputError(where, "is not a price", value=text, fix=fix)
    if not 0 < value <= MAX_PRICE:
        fix = f"a price is above 0 and at most {MAX_PRICE:g} per share"
        raise InputError(where, "is out of range", value=text, fix=fix)
    return value


def _date(path: Path, line: int, text: str) -> date | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        fix = "write the date as YYYY-MM-DD, or leave it empty to date it by the file"
        raise InputError(
            Location(path, line, "date"), "is not a date", value=text, fix=fix
        ) from None


def resolve(quotes: QuoteFile | None, index: TickerIndex) -> tuple[dict[str, Quote], list[str]]:
    """Quotes by the model's tickers, and the tickers the model does not know."""
    if quotes is None:
        return {}, []
    found: dict[str, Quote] = {}
    first: dict[str, str] = {}
    unknown: list[str] = []
    for written, quote in quotes.quotes.items():
        ticker = index.resolve(written)
        if ticker is None:
            unknown.append(written)
        elif ticker in found:
            raise InputError(
                Location(quotes.path, quotes.lines[written], "ticker"),
                f"is the same security as {first[ticker]!r} on line {quotes.lines[first[ticker]]}",
                value=written,
                fix="keep one price per security",
            )
        else:
            found[ticker], first[ticker] = quote, written
    return found, unknown


def price_book(given: QuoteFile | None, listed: QuoteFile | None, index: TickerIndex) -> PriceBook:
    given_quotes, unknown = resolve(given, index)
    listed_quotes, more = resolve(listed, index)
    missing = {
        quotes.source: tuple(tickers)
        for quotes, tickers in ((given, unknown), (listed, more))
        if quotes is not None and tickers
    }
    return PriceBook(given_quotes, listed_quotes, missing)


@dataclass(frozen=True)
class Stale:
    ticker: str
    day: date | None


def stale(used: Iterable[tuple[str, str]], options: PriceOptions) -> list[Stale]:
    """The (ticker, ISO date) pairs older than the age limit before the run date, oldest first;
    a price of unknown date counts as stale."""
    cutoff = options.day - timedelta(days=options.max_age_days)
    found: dict[str, Stale] = {}
    for ticker, text in used:
        day = date.fromisoformat(text) if text else None
        if day is None or day < cutoff:
            found.setdefault(ticker, Stale(ticker, day))
    return sorted(found.values(), key=lambda s: (s.day or date.min, s.ticker))


def stale_warning(found: list[Stale], max_age_days: int) -> str | None:
    """One line: how many prices are stale and the oldest."""
    if not found:
        return None
    oldest = found[0]
    when = oldest.day.isoformat() if oldest.day else "undated"
    count = len(found)
    plural = "s are" if count != 1 else " is"
    return (
        f"warning: {count} price{plural} older than {max_age_days} days (oldest {when}, "
        f"{oldest.ticker}); give --prices FILE with today's quotes"
    )
