"""Fidelity's positions export (Portfolio_Positions_<date>.csv).

The header `Account Number,Account Name,Symbol,Description,Quantity,Last Price,...,Current
Value,...,Cost Basis Total,Average Cost Basis,Type` comes first (a line may precede it), every
data row ends with a comma, accounts follow one another by account number, the core money
market shows as `SPAXX**` (its value in Current Value, often no quantity), a `Pending
Activity` row carries unsettled cash, and after a blank line come disclaimers and `Date
downloaded Nov-27-2026 4:02 p.m ET`. Rows of one symbol may repeat (Cash and Margin types).
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
    date_in,
    first_row,
    runs,
    words,
)

BROKER = "Fidelity"
CORE = "**"  # Fidelity marks the account's core (sweep) money-market position


# The account's columns: `Account Number` and `Account Name`, or one `Account Name/Number`
# (older downloads).
ACCOUNT_NUMBER = ("account number", "account name number", "account number name", "account")
ACCOUNT_NAME = ("account name", "account name number", "account number name")


def _is_header(row: Row) -> bool:
    names = {words(cell) for cell in row.cells}
    return {"symbol", "quantity", "current value"} <= names and any(
        name.startswith("account") for name in names
    )


def recognise(rows: Sequence[Row]) -> bool:
    return first_row(rows[:20], _is_header) is not None


def read(path: Path, rows: Sequence[Row]) -> Export:
    start = first_row(rows[:20], _is_header)
    assert start is not None  # recognise() said so
    columns = Columns(path, rows[start])
    fields = Fields(columns)
    number_at = columns.find(*ACCOUNT_NUMBER)
    name_at = columns.find(*ACCOUNT_NAME)
    if name_at == number_at:  # one column names the account: its text is the number
        name_at = None
    export = Export(path, BROKER, [], runs(rows[:start], "before the header: not a position"))
    accounts: dict[str, Account] = {}
    body = list(rows[start + 1 :])
    end = first_row(body, lambda row: row.blank)
    notes: list[Row] = [] if end is None else body[end:]
    for row in body if end is None else body[:end]:
        if len([cell for cell in row.cells if cell]) <= 1:  # a disclaimer, no blank line above
            notes.append(row)
            continue
        symbol = fields.text(row, "symbol")
        key = columns.cell(row, number_at)
        if key not in accounts:
            accounts[key] = Account(columns.cell(row, name_at), key)
            export.accounts.append(accounts[key])
        account = accounts[key]
        if words(symbol) == "pending activity":
            account.skipped.append(Skipped(row.line, symbol, "not a position"))
            continue
        position = fields.position(row)
        position.cash = symbol.endswith(CORE)
        position.symbol = symbol.removesuffix(CORE)
        account.positions.append(position)
    export.skipped += runs(notes, "notes below the positions: not positions", "disclaimers")
    for row in notes:
        if "download" in row.text.lower():
            export.as_of = date_in(row.text)
    return export
