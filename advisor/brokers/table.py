"""What every broker reader shares: the export's rows with their line numbers, columns found
by their words, dates in the spellings brokers use, and the positions and skipped rows a
reader hands back."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType

from advisor.amounts import amount
from advisor.errors import InputError, Location
from advisor.input_files import MB, read_regular

MAX_BYTES = 32 * MB  # a positions export of thousands of lots is well under 1 MB
FIX = "give the positions export as downloaded from the broker (CSV)"


@dataclass(frozen=True)
class Row:
    """One CSV record: the line it starts on (1-based) and its cells, stripped."""

    line: int
    cells: tuple[str, ...]

    @property
    def blank(self) -> bool:
        return not any(self.cells)

    @property
    def text(self) -> str:
        return ",".join(cell for cell in self.cells if cell)


@dataclass(frozen=True)
class Lot:
    shares: float
    cost_basis: float | None  # per share
    acquired: date | None


@dataclass
class Position:
    """A row of a security as the broker wrote it, before it is matched to the model."""

    line: int
    symbol: str
    description: str = ""
    shares: float | None = None
    price: float | None = None
    value: float | None = None
    cost_total: float | None = None  # the broker's cost basis of the whole position
    lots: list[Lot] = field(default_factory=list)  # given by a lot-detail export
    kind: str = ""  # the broker's security type, where it gives one
    cash: bool = False  # the broker marks it cash or a money-market fund


@dataclass(frozen=True)
class Skipped:
    line: int
    text: str
    reason: str
    last_line: int | None = None  # a run of lines skipped for one reason

    def __str__(self) -> str:
        where = f"line {self.line}" if not self.last_line else f"lines {self.line}-{self.last_line}"
        what = f"{self.text}: " if self.text else ""
        return f"{where}: {what}{self.reason}"


@dataclass
class Account:
    name: str
    number: str = ""
    positions: list[Position] = field(default_factory=list)
    cash: list[tuple[int, str, float]] = field(default_factory=list)  # line, label, dollars
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return " ".join(part for part in (self.name, self.number) if part) or "(unnamed)"


@dataclass
class Export:
    """A positions export read: its broker, accounts, rows skipped outside any account, and
    the time its prices are from (None: the export does not say)."""

    path: Path
    broker: str
    accounts: list[Account]
    skipped: list[Skipped] = field(default_factory=list)
    as_of: date | None = None


def read_rows(path: Path) -> list[Row]:
    """The export's CSV records with their first line; a located error for a file that is
    not text or not CSV."""
    raw = read_regular(path, MAX_BYTES, FIX)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # older Windows exports
    if "\0" in text:
        line = text[: text.index("\0")].count("\n") + 1
        raise InputError(Location(path, line, "file"), "is not a text file (a NUL byte)", fix=FIX)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[Row] = []
    start = 1
    try:
        for cells in reader:
            rows.append(Row(start, tuple(cell.strip() for cell in cells)))
            start = reader.line_num + 1
    except csv.Error as exc:
        where = Location(path, start, "file")
        raise InputError(where, f"is not a readable CSV ({exc})", fix=FIX) from None
    return rows


def words(name: str) -> str:
    """A header cell by its words alone: 'Qty (Quantity)' -> 'qty quantity'."""
    return " ".join(re.split(r"[^a-z0-9%]+", name.lower())).strip()


class Columns:
    """A header row's columns, found by any of their spellings (compared by words)."""

    def __init__(self, path: Path, header: Row) -> None:
        self.path = path
        self.header = header
        self.names = [words(cell) for cell in header.cells]

    def find(self, *spellings: str) -> int | None:
        for spelling in spellings:
            wanted = words(spelling)
            if wanted in self.names:
                return self.names.index(wanted)
        return None

    def has(self, *spellings: str) -> bool:
        return self.find(*spellings) is not None

    def cell(self, row: Row, index: int | None) -> str:
        if index is None or index >= len(row.cells):
            return ""
        return row.cells[index]

    def number(self, row: Row, index: int | None) -> float | None:
        if index is None:
            return None
        where = Location(self.path, row.line, self.header.cells[index])
        return amount(self.cell(row, index), where)


_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d/%m/%Y",  # a Flex Query set to dd/MM/yyyy; US order is tried first
    "%d.%m.%Y",
    "%Y%m%d",
    "%b-%d-%Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d-%b-%Y",
)


def parse_date(text: str) -> date | None:
    """A date in any spelling brokers use (2026-11-27, 11/27/2026, 20261127, Nov-27-2026,
    November 27, 2026), a time after it ignored ("2023-07-07, 15:39:46", "20240115;103000");
    None where there is no date."""
    cell = text.strip().strip('"')
    for separator in (";", ", ", " ", "T"):
        head = cell.split(separator)[0] if separator in cell else cell
        for form in _DATE_FORMATS:
            try:
                return datetime.strptime(head, form).date()
            except ValueError:
                continue
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(cell, form).date()
        except ValueError:
            continue
    return None


def date_cell(columns: Columns, row: Row, index: int | None) -> date | None:
    """A date column's value; a located error for text that is not a date."""
    text = columns.cell(row, index)
    if not text or text.lower() in ("--", "n/a", "-"):
        return None
    found = parse_date(text)
    if found is None:
        assert index is not None
        raise InputError(
            Location(columns.path, row.line, columns.header.cells[index]),
            "is not a date",
            value=text,
            fix="the export's dates read as YYYY-MM-DD, MM/DD/YYYY or YYYYMMDD",
        )
    return found


_DATE_IN_TEXT = re.compile(
    r"(\d{4}[/-]\d{1,2}[/-]\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}|[A-Z][a-z]{2}-\d{1,2}-\d{4}"
    r"|[A-Z][a-z]+ \d{1,2}, \d{4})"
)


def date_in(text: str) -> date | None:
    """The last date written in a line of prose ("as of 10:40 AM ET, 2026/11/27",
    "Date downloaded Nov-27-2026 4:02 p.m ET")."""
    for found in reversed(_DATE_IN_TEXT.findall(text)):
        day = parse_date(found)
        if day is not None:
            return day
    return None


def runs(rows: Iterable[Row], reason: str, label: str = "") -> list[Skipped]:
    """Consecutive non-blank rows skipped for one reason, one entry per run."""
    found: list[Skipped] = []
    first: Row | None = None
    last: Row | None = None
    for row in rows:
        if row.blank:
            continue
        if first is not None and last is not None and row.line == last.line + 1:
            last = row
            continue
        if first is not None and last is not None:
            found.append(_run(first, last, reason, label))
        first = last = row
    if first is not None and last is not None:
        found.append(_run(first, last, reason, label))
    return found


def _run(first: Row, last: Row, reason: str, label: str) -> Skipped:
    text = label or _short(first.text)
    return Skipped(first.line, text, reason, last.line if last.line != first.line else None)


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def first_row(rows: Sequence[Row], test: Callable[[Row], bool]) -> int | None:
    """The index of the first row for which `test(row)` is true."""
    return next((i for i, row in enumerate(rows) if test(row)), None)


# Each figure of a position row under the names brokers give it (compared by words).
SPELLINGS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "symbol": ("symbol", "ticker"),
        "description": ("description", "investment name", "security description", "name"),
        "shares": ("quantity", "qty quantity", "qty", "shares"),
        "price": ("last price", "price", "share price", "close price", "markprice", "last"),
        "value": (
            "current value",
            "mkt val market value",
            "market value",
            "total value",
            "value",
            "positionvalue",
        ),
        "cost_total": (
            "cost basis total",
            "cost basis",
            "total cost",
            "total cost basis",
            "costbasismoney",
        ),
        "cost_each": (
            "average cost basis",
            "cost basis per share",
            "avg cost",
            "average cost",
            "cost share",
            "cost price",
            "costbasisprice",
            "unit cost",
        ),
        "acquired": (
            "date acquired",
            "acquired",
            "open date",
            "acquisition date",
            "opendatetime",
            "open",
        ),
        "kind": ("security type", "asset type", "asset category", "assetclass"),
    }
)


class Fields:
    """Where each figure of a position sits in a header (see SPELLINGS; `overrides` replace
    a figure's spellings for one layout)."""

    def __init__(self, columns: Columns, **overrides: tuple[str, ...]) -> None:
        self.columns = columns
        spellings = {**SPELLINGS, **overrides}
        self.at = {name: columns.find(*names) for name, names in spellings.items()}

    def text(self, row: Row, name: str) -> str:
        return self.columns.cell(row, self.at[name])

    def position(self, row: Row) -> Position:
        """The row's figures; a located error for a cell that is not a number or a date.
        A lot-detail row (with an acquired date) carries itself as its one lot."""
        number = self.columns.number
        at = self.at
        found = Position(
            line=row.line,
            symbol=self.text(row, "symbol"),
            description=self.text(row, "description"),
            shares=number(row, at["shares"]),
            price=number(row, at["price"]),
            value=number(row, at["value"]),
            cost_total=number(row, at["cost_total"]),
            kind=self.text(row, "kind"),
        )
        each = number(row, at["cost_each"])
        for name, cost in (("cost_total", found.cost_total), ("cost_each", each)):
            if cost is not None and cost < 0 and (found.shares or 0) > 0:
                index = at[name]
                assert index is not None
                raise InputError(
                    Location(self.columns.path, row.line, self.columns.header.cells[index]),
                    "is below zero",
                    value=self.columns.cell(row, index),
                    fix="a cost basis is 0 or more; correct the row or leave the cell empty",
                )
        if found.cost_total is None and each is not None and found.shares is not None:
            found.cost_total = each * found.shares
        acquired = date_cell(self.columns, row, at["acquired"])
        if acquired is not None and found.shares:
            per_share = None if found.cost_total is None else found.cost_total / found.shares
            found.lots = [Lot(found.shares, per_share, acquired)]
        return found
