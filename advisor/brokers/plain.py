"""A plain holdings CSV: a header naming a ticker and a shares column, and optionally a cost
basis per share (`cost_basis`, `cost`, `average cost`), a total cost (`cost basis total`,
`total cost`), an acquired date (`acquired`, `date acquired`, `open date`, `purchase date`,
`date`) and a price. Several rows of one ticker are its lots."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from advisor.brokers.table import Account, Columns, Export, Fields, Row, words

LAYOUT = "plain CSV"
TICKER = ("ticker", "symbol")
SHARES = ("shares", "quantity", "qty")


def recognise(rows: Sequence[Row]) -> bool:
    header = next((row for row in rows if not row.blank), None)
    if header is None:
        return False
    names = {words(cell) for cell in header.cells}
    return bool(names & set(TICKER)) and bool(names & set(SHARES))


def read(path: Path, rows: Sequence[Row]) -> Export:
    start = next(i for i, row in enumerate(rows) if not row.blank)
    fields = Fields(
        Columns(path, rows[start]),
        symbol=TICKER,
        shares=SHARES,
        cost_total=("cost basis total", "total cost", "total cost basis"),
        cost_each=(
            "cost basis",
            "cost_basis",
            "cost",
            "average cost",
            "cost per share",
            "avg cost",
            "unit cost",
        ),
        price=("price", "last price", "last", "close"),
        value=("value", "market value"),
        acquired=(
            "acquired",
            "date acquired",
            "acquired date",
            "open date",
            "purchase date",
            "date",
        ),
    )
    account = Account("")
    for row in rows[start + 1 :]:
        if not row.blank:
            account.positions.append(fields.position(row))
    return Export(path, LAYOUT, [account])
