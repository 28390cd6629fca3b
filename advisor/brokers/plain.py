"""A plain holdings CSV: a header naming a ticker and a shares column, and optionally a cost
basis per share (`cost_basis`, `cost`, `average cost`), a total cost (`cost basis total`,
`total cost`), an acquired date (`acquired`, `date acquired`, `open date`, `purchase date`,
`date`) and a price. Several rows of one ticker are its lots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from advisor.brokers.table import Account, Columns, Export, Fields, Position, Row, words

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
            position = fields.position(row)
            if _a_total(position):
                account.notes.append(
                    f"line {row.line}: {position.symbol} cost basis read as the position's "
                    "total, not per share: per share it would be over 20 times the price"
                )
                assert position.cost_total is not None and position.shares
                position.cost_total /= position.shares
                each = position.cost_total / position.shares
                position.lots = [replace(lot, cost_basis=each) for lot in position.lots]
            account.positions.append(position)
    return Export(path, LAYOUT, [account])


# A "cost basis" column may hold each position's total (as brokers' exports do) or a price per
# share (as the portfolio file does). Per share, it is within this factor of the price for any
# but a collapsed stock; as a total, it is about shares x that.
TOTAL_FACTOR = 20.0


def _a_total(position: Position) -> bool:
    """Whether the row's per-share cost basis is, by its size against the price, the
    position's total cost."""
    price, shares, total = position.price, position.shares, position.cost_total
    if not price or not shares or shares < 2 or total is None:
        return False
    each = total / shares
    return each > TOTAL_FACTOR * price and each / shares <= TOTAL_FACTOR * price
