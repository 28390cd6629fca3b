"""Reading a fills file: the plain layout (ticker,side,shares,price[,date]), order columns (the
baskets' own, and the like), and the brokers' execution and transaction exports, told apart by
their header.

A broker's export holds more than the fills: dividends, interest, transfers, trades of other
securities, title lines before the table and disclaimers after it. Rows of the table that are
not a buy or sell are skipped and listed, never silently; a buy or sell is then checked against
the proposal as any fill is (advisor/fills.py). The plain layout keeps its strict rules: plain
decimals, every row a fill.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from advisor.amounts import parse_amount
from advisor.brokers.table import parse_date
from advisor.enums import Side
from advisor.errors import InputError, Location
from advisor.input_files import MB, read_regular
from advisor.portfolio.tickers import ticker_key

FILLS_BYTES = 10 * MB  # far above any real fills file
PLAIN_REQUIRED = ("ticker", "side", "shares", "price")
PLAIN_OPTIONAL = ("date",)
PLAIN_COLUMNS = "ticker, side, shares, price and optional date"
# Plain decimals only: float() would also take 1_0, 1e308, inf and nan.
NUMBER = re.compile(r"(\d{1,12}(\.\d{0,12})?|\.\d{1,12})")


@dataclass(frozen=True)
class Layout:
    """A fills table: the header names of each field (lower case, first found wins)."""

    name: str
    columns: dict[str, tuple[str, ...]]  # field: header names; ticker, shares, price required
    marks: tuple[str, ...] = ()  # header names that tell this layout from the others
    broker: bool = True  # brokers' number formats; rows that are no buy or sell skipped

    def match(self, names: list[str]) -> dict[str, str] | None:
        """Field: header name, when `names` holds every field this layout needs."""
        found = {}
        for name, spellings in self.columns.items():
            hit = next((s for s in spellings if s in names), None)
            if hit is not None:
                found[name] = hit
        needed = {"ticker", "side", "shares", "price"}
        marked = all(mark in names for mark in self.marks)
        return found if needed <= found.keys() and marked else None


# Layouts as the brokers publish them (README, "Reviewing, sharing and applying a proposal").
# Checked in this order, after the plain layout (a first line of its columns only).
LAYOUTS = (
    Layout(  # Fidelity, Activity & Orders > History > Download (Accounts_History.csv)
        "Fidelity account history",
        {
            "ticker": ("symbol",),
            "side": ("action",),
            "shares": ("quantity",),
            "price": ("price ($)", "price"),
            "date": ("run date",),
        },
        marks=("run date",),
    ),
    Layout(  # Vanguard, transaction history download (after the holdings section)
        "Vanguard transactions",
        {
            "ticker": ("symbol",),
            "side": ("transaction type",),
            "shares": ("shares",),
            "price": ("share price",),
            "date": ("trade date",),
        },
    ),
    Layout(  # Interactive Brokers, Flex Query trades section
        "Interactive Brokers Flex trades",
        {
            "ticker": ("symbol",),
            "side": ("buy/sell",),
            "shares": ("quantity",),
            "price": ("tradeprice",),
            "date": ("tradedate", "datetime", "date/time"),
        },
    ),
    Layout(  # Charles Schwab, History > Transactions > Export
        "Schwab transactions",
        {
            "ticker": ("symbol",),
            "side": ("action",),
            "shares": ("quantity",),
            "price": ("price",),
            "date": ("date",),
        },
        marks=("date",),
    ),
    Layout(  # this tool's baskets (--basket, either format) and other order or fill lists
        "order columns",
        {
            "ticker": ("symbol", "ticker", "instrument"),
            "side": ("side", "action", "buy/sell", "b/s", "transaction type", "trans code"),
            "shares": ("quantity", "qty", "shares", "filled quantity", "filled qty"),
            "price": (
                "fill price",
                "avg price",
                "average price",
                "execution price",
                "price",
                "price ($)",
                "limit price",
                "lmtprice",
                "reference price",
            ),
            "date": ("date", "trade date", "activity date", "tradedate", "datetime", "date/time"),
        },
    ),
)
PLAIN = Layout("plain", {name: (name,) for name in PLAIN_REQUIRED + PLAIN_OPTIONAL}, broker=False)
# How brokers write a buy or a sale of shares in an action column. Anything else (dividends,
# reinvestments, options, transfers) is not a fill.
BUY_WORDS = re.compile(r"(BUY|BOT|BOUGHT|B|YOU BOUGHT\b.*)")
SELL_WORDS = re.compile(r"(SELL|SLD|SOLD|S|YOU SOLD\b.*)")


@dataclass(frozen=True)
class FillRow:
    line: int
    values: dict[str, str]  # field: its text
    columns: dict[str, str]  # field: the file's header name, for messages
    side: Side | None = None  # read from the action text (broker layouts)


@dataclass(frozen=True)
class Skipped:
    line: int
    why: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.why}"


@dataclass
class FillTable:
    layout: Layout
    rows: list[FillRow] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def broker_number(text: str) -> float | None:
    """A number as brokers write it ($1,234.50, +$12, (12.50) for -12.50; advisor/brokers/
    numbers.py); None for '--', an empty cell or anything else."""
    try:
        return parse_amount(text)
    except ValueError:
        return None


def read_table(path: Path) -> FillTable:
    """The fills file's table: its layout, its rows with their line numbers, what was skipped."""
    raw = read_regular(path, FILLS_BYTES, "give the path of the fills CSV")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            Location(path, field="file"), "is not UTF-8 text", fix="save it as CSV (UTF-8)"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        lines = [(reader.line_num, row) for row in reader if any(v.strip() for v in row)]
    except csv.Error as exc:
        raise InputError(
            Location(path, reader.line_num, "CSV"),
            f"is not valid CSV ({exc})",
            fix="check the quotes on this line",
        ) from exc
    if not lines:
        raise InputError(
            Location(path, field="file"),
            "is empty",
            fix="start with the header ticker,side,shares,price[,date]",
        )
    line, values = lines[0]
    if {v.strip().lower() for v in values} <= set(PLAIN_REQUIRED + PLAIN_OPTIONAL):
        return _plain_table(path, line, values, lines[1:])  # strict, as it always was
    for at, (_, values) in enumerate(lines):
        names = [v.strip().lower() for v in values]
        for layout in LAYOUTS:
            columns = layout.match(names)
            if columns is not None:
                return _broker_table(layout, columns, values, lines[at + 1 :])
    line, values = lines[0]
    return _plain_table(path, line, values, lines[1:])  # its header is refused, and why


def _plain_table(
    path: Path, line: int, values: list[str], rest: list[tuple[int, list[str]]]
) -> FillTable:
    header = _plain_header(path, line, values)
    table = FillTable(PLAIN)
    columns = {name: name for name in header}
    for number, row in rest:
        if len(row) != len(header):
            raise InputError(
                Location(path, number, "row"),
                f"has {len(row)} fields, the header has {len(header)}",
                fix="one value per column: " + ",".join(header),
            )
        cells = dict(zip(header, (v.strip() for v in row), strict=True))
        table.rows.append(FillRow(number, cells, columns))
    return table


def _plain_header(path: Path, line: int, values: list[str]) -> list[str]:
    names = [v.strip().lower() for v in values]
    for name in names:
        if name not in PLAIN_REQUIRED + PLAIN_OPTIONAL:
            raise InputError(
                Location(path, line, "header"),
                "is an unknown column",
                value=name,
                fix=f"the columns are {PLAIN_COLUMNS}, or a broker's export "
                "(Fidelity, Schwab, Vanguard, Interactive Brokers) as it was downloaded",
            )
        if names.count(name) > 1:
            raise InputError(
                Location(path, line, "header"),
                "is a repeated column",
                value=name,
                fix="give each column once",
            )
    for name in PLAIN_REQUIRED:
        if name not in names:
            raise InputError(
                Location(path, line, "header"),
                f"lacks the column {name!r}",
                fix=f"the columns are {PLAIN_COLUMNS}",
            )
    return names


def _broker_table(
    layout: Layout, columns: dict[str, str], header: list[str], rest: list[tuple[int, list[str]]]
) -> FillTable:
    """The rows under a broker's header; title lines above it are not part of the table."""
    table = FillTable(layout)
    names = [v.strip().lower() for v in header]
    where = {name: names.index(spelling) for name, spelling in columns.items()}
    shown = {name: header[i].strip() for name, i in where.items()}  # as the file spells it
    for number, row in rest:
        cells = [v.strip() for v in row]
        if [c.lower() for c in cells] == names:
            continue  # the header again (one table per account)
        if len(cells) != len(names):
            first = next((c for c in cells if c), "")
            table.skipped.append(Skipped(number, f"not a row of the table: {first[:60]!r}"))
            continue
        values = {name: cells[i] for name, i in where.items()}
        side = _side(values["side"])
        if side is None:
            action = values.get("side", "")
            what = f"{columns['side']} {action!r}" if action else f"no {columns['side']}"
            table.skipped.append(
                Skipped(number, f"not a buy or sell of shares ({what}): {values['ticker'] or '-'}")
            )
            continue
        if not values["ticker"]:
            table.skipped.append(Skipped(number, "a trade without a symbol"))
            continue
        table.rows.append(FillRow(number, values, shown, side))
    return table


def _side(text: str) -> Side | None:
    action = " ".join(text.upper().split())
    if BUY_WORDS.fullmatch(action):
        return Side.BUY
    if SELL_WORDS.fullmatch(action):
        return Side.SELL
    return None


def drop_earlier(table: FillTable, run_date: date | None, tickers: set[str]) -> None:
    """A broker's history spans days. When some of its trades of the proposal's tickers are
    dated on or after the proposal's run date, the rows dated before it are no fills of the
    proposal: they are skipped and listed. When none is, every row is kept (the run date may
    be a day given with --date)."""
    if run_date is None or not table.layout.broker:
        return
    days = {row.line: parse_date(row.values.get("date", "")) for row in table.rows}
    ours = [days[row.line] for row in table.rows if ticker_key(row.values["ticker"]) in tickers]
    if not any(day is not None and day >= run_date for day in ours):
        return
    kept = []
    for row in table.rows:
        day = days[row.line]
        if day is not None and day < run_date:
            why = f"{row.values['ticker']}: dated {day}, before the proposal's run date {run_date}"
            table.skipped.append(Skipped(row.line, why))
        else:
            kept.append(row)
    table.rows[:] = kept
