"""Charles Schwab's positions export.

A first line `"Positions for account Individual ...123 as of 10:40 AM ET, 2026/11/27"` (or
`"Positions for All-Accounts as of ..."`, then each account's name and number on a line of its
own above its header), a blank line, then `"Symbol","Description","Qty (Quantity)","Price",...,
"Mkt Val (Market Value)",...,"Cost Basis",...,"Security Type"` with every cell quoted and `--`
for none. Each account ends with `"Cash & Cash Investments"` (its cash and sweep funds, value
only) and `"Account Total"` rows. A lot-detail view adds an `Open Date` column, a row a lot.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from advisor.brokers.table import Account, Columns, Export, Fields, Row, Skipped, date_in, words

BROKER = "Charles Schwab"
_TITLE = re.compile(r"^positions for (account (?P<account>.+?)|all-accounts) as of ", re.I)
_NAMED = re.compile(r"^(?P<name>.*?)\s+(?P<number>[.X\d-]*\d{3,})$", re.I)
TOTALS = ("account total", "positions total", "total")
CASH = "cash & cash investments"


def _is_header(row: Row) -> bool:
    names = {words(cell) for cell in row.cells}
    return "symbol" in names and bool(names & {"qty quantity", "quantity"})


def _title(rows: Sequence[Row]) -> int | None:
    """The index of the title line: the first line that is not blank."""
    start = next((i for i, row in enumerate(rows) if not row.blank), None)
    if start is None or not _TITLE.match(rows[start].cells[0]):
        return None
    return start


def recognise(rows: Sequence[Row]) -> bool:
    return _title(rows) is not None


def _account(text: str) -> Account:
    """'Individual ...123' -> name Individual, number ...123."""
    found = _NAMED.match(text.strip())
    if found:
        return Account(found["name"].strip(), found["number"])
    return Account(text.strip())


def read(path: Path, rows: Sequence[Row]) -> Export:
    start = _title(rows)
    assert start is not None  # recognise() said so
    title = rows[start].cells[0]
    export = Export(path, BROKER, [], [Skipped(rows[start].line, "title", "not a position")])
    export.as_of = date_in(title)
    single = _TITLE.match(title)
    named = single["account"] if single and single["account"] else None
    account: Account | None = _account(named) if named else None
    fields: Fields | None = None
    pending_name: Row | None = None
    for row in rows[start + 1 :]:
        if row.blank:
            continue
        first = row.cells[0]
        if _is_header(row):
            if pending_name is not None:
                account = _account(pending_name.text)
            if account is None:
                account = Account("")
            if account not in export.accounts:
                export.accounts.append(account)
            fields = Fields(Columns(path, row))
            pending_name = None
            continue
        if len([cell for cell in row.cells if cell]) == 1:
            _note(export, pending_name)
            pending_name = row  # an account's name above its header, or a note
            continue
        if fields is None:
            export.skipped.append(Skipped(row.line, row.text[:40], "not a position"))
            continue
        assert account is not None
        label = words(first)
        if label in TOTALS:
            account.skipped.append(Skipped(row.line, first, "a total"))
            continue
        position = fields.position(row)
        if label == words(CASH):
            value = position.value if position.value is not None else 0.0
            account.cash.append((row.line, first, value))
            continue
        position.cash = "money market" in position.kind.lower()
        account.positions.append(position)
    _note(export, pending_name)
    return export


def _note(export: Export, row: Row | None) -> None:
    """A line of text that named no account: listed as skipped."""
    if row is not None:
        export.skipped.append(Skipped(row.line, row.text[:40], "a note: not a position"))
