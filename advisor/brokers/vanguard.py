"""Vanguard's download (OfxDownload.csv): holdings, then transactions.

Each account's holdings come under their own header `Account Number,Investment Name,Symbol,
Shares,Share Price,Total Value,` (every row ends with a comma), accounts parted by a blank line;
the settlement fund (VMFXX, "Vanguard Federal Money Market Fund") is the account's cash. Then a
second section, `Account Number,Trade Date,Settlement Date,Transaction Type,...`, lists
transactions: not positions. The holdings carry no cost basis and no date.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from advisor.brokers.table import (
    Account,
    Columns,
    Export,
    Fields,
    Row,
    Skipped,
    first_row,
    runs,
    words,
)

BROKER = "Vanguard"


def _is_holdings_header(row: Row) -> bool:
    names = [words(cell) for cell in row.cells]
    return names[:3] == ["account number", "investment name", "symbol"] and "shares" in names


def _is_transactions_header(row: Row) -> bool:
    names = {words(cell) for cell in row.cells}
    return {"account number", "trade date", "transaction type"} <= names


def recognise(rows: Sequence[Row]) -> bool:
    return first_row(rows[:5], _is_holdings_header) is not None


def read(path: Path, rows: Sequence[Row]) -> Export:
    export = Export(path, BROKER, [])
    stop = first_row(rows, _is_transactions_header)
    holdings = rows if stop is None else rows[:stop]
    if stop is not None:
        export.skipped += runs(rows[stop:], "not positions", "transactions section")
    accounts: dict[str, Account] = {}
    fields: Fields | None = None
    for row in holdings:
        if row.blank:
            continue
        if _is_holdings_header(row):
            fields = Fields(Columns(path, row), value=("total value",))
            continue
        if fields is None:  # a line above the first header
            export.skipped.append(
                Skipped(row.line, row.text[:40], "before the header: not a position")
            )
            continue
        number = row.cells[0]
        if number not in accounts:
            accounts[number] = Account("", number)
            export.accounts.append(accounts[number])
        accounts[number].positions.append(fields.position(row))
    return export
