"""Interactive Brokers: the Activity Statement CSV and a Flex Query's positions CSV.

The Activity Statement is sections of rows, each row starting with its section's name and a
row kind: `Open Positions,Header,DataDiscriminator,Asset Category,Currency,Symbol,Quantity,
Mult,Cost Price,Cost Basis,Close Price,Value,Unrealized P/L,Code` names the columns of the
`Open Positions,Data,Summary,...` rows after it (`Lot` rows, with an `Open` date, where lots
are shown; `Total` rows add them up). `Statement,Data,Period,"November 27, 2026"` dates it;
`Account Information` names the account; the `Cash Report`'s `Ending Cash` row in USD is the
cash. Every other section is not positions.

A Flex Query CSV is one header of field names (`ClientAccountID`, `Symbol`, `Quantity`,
`MarkPrice`, `PositionValue`, `CostBasisMoney`, `LevelOfDetail`, `OpenDateTime`,
`ReportDate`, ...) and a row per position, or per lot (`LevelOfDetail` LOT) beside its
SUMMARY; with header and trailer records on, `BOF`/`BOA`/`BOS`/`EOS`/`EOA`/`EOF` lines frame
it. It has no cash.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from advisor.brokers.table import (
    Account,
    Columns,
    Export,
    Fields,
    Position,
    Row,
    Skipped,
    date_in,
    first_row,
    parse_date,
    runs,
    words,
)

BROKER = "Interactive Brokers"
KINDS = frozenset({"header", "data", "total", "subtotal", "notes", "headernote"})
POSITIONS = frozenset({"open positions", "long open positions", "short open positions"})
STOCKS = frozenset({"stocks", "stk", "etf", "fund", "funds"})
FLEX_FRAME = frozenset({"bof", "boa", "bos", "eos", "eoa", "eof", "msg"})


def recognise_statement(rows: Sequence[Row]) -> bool:
    sections = {
        words(row.cells[0]) for row in rows if len(row.cells) > 2 and words(row.cells[1]) in KINDS
    }
    return bool(sections & POSITIONS)


def _is_flex_header(row: Row) -> bool:
    names = {words(cell) for cell in row.cells}
    return {"clientaccountid", "symbol", "quantity"} <= names


def recognise_flex(rows: Sequence[Row]) -> bool:
    return first_row(rows[:10], _is_flex_header) is not None


def read_statement(path: Path, rows: Sequence[Row]) -> Export:
    export = Export(path, BROKER + " Activity Statement", [])
    account = Account("")
    export.accounts.append(account)
    others: dict[str, list[Row]] = {}
    headers: dict[str, Columns] = {}
    summaries: dict[str, Position] = {}
    base = "USD"
    nav_cash: tuple[Row, Columns | None] | None = None
    for row in rows:
        if row.blank:
            continue
        if len(row.cells) < 2 or words(row.cells[1]) not in KINDS:
            export.skipped.append(Skipped(row.line, row.text[:40], "not a statement row"))
            continue
        section, kind = words(row.cells[0]), words(row.cells[1])
        body = Row(row.line, row.cells[2:])
        if kind == "header":
            headers[section] = Columns(path, body)
            if section not in POSITIONS:
                others.setdefault(row.cells[0], []).append(row)
            continue
        if section in POSITIONS:
            _position(account, headers.get(section), row, body, summaries)
            continue
        others.setdefault(row.cells[0], []).append(row)
        field, value = (*body.cells, "", "")[:2]
        if section == "statement" and words(field) == "period":
            export.as_of = date_in(value) or parse_date(value)  # positions are at its end
        elif section == "account information":
            if words(field) == "account":
                account.number = value
            elif words(field) == "name":
                account.name = value
            elif words(field) == "base currency":
                base = value.upper()
        elif section == "cash report" and kind == "data":
            _cash(account, headers.get(section), row, body, base)
        elif section == "net asset value" and words(body.cells[0] if body.cells else "") == "cash":
            nav_cash = (row, headers.get(section))
    if not account.cash and nav_cash is not None and base == "USD":
        _nav_cash(account, *nav_cash)
    for name, skipped in others.items():
        export.skipped += runs(skipped, "not positions", f"{name} section")
    return export


def _position(
    account: Account,
    columns: Columns | None,
    row: Row,
    body: Row,
    summaries: dict[str, Position],
) -> None:
    kind = words(row.cells[1])
    if columns is None:
        account.skipped.append(Skipped(row.line, row.cells[0], "a row before its section's header"))
        return
    if kind != "data":
        account.skipped.append(Skipped(row.line, f"{row.cells[0]} {row.cells[1]}", "a total"))
        return
    fields = Fields(columns, price=("close price",), cost_each=("cost price",))
    category = fields.text(body, "kind")
    currency = columns.cell(body, columns.find("currency")).upper()
    symbol = fields.text(body, "symbol")
    refused = _refused(category, currency)
    if refused:
        account.skipped.append(Skipped(row.line, symbol, refused))
        return
    discriminator = words(columns.cell(body, columns.find("datadiscriminator")))
    position = fields.position(body)
    position.line = row.line
    if discriminator == "lot":
        summary = summaries.get(symbol)
        if summary is not None and position.lots:
            summary.lots += position.lots
        return
    position.lots = []  # a summary row's Open column is "-" or empty
    summaries[symbol] = position
    account.positions.append(position)


def _cash(account: Account, columns: Columns | None, row: Row, body: Row, base: str) -> None:
    """The Ending Cash in USD: its own row, else the base-currency summary where the base is
    USD (the USD row wins: the summary also counts other currencies' cash, converted)."""
    if columns is None or words(columns.cell(body, 0)) != "ending cash":
        return
    currency = columns.cell(body, columns.find("currency"))
    own = currency.upper() == "USD"
    if not own and not (words(currency) == "base currency summary" and base == "USD"):
        return
    label = "Ending Cash USD" if own else "Ending Cash (base currency summary)"
    value = columns.number(body, columns.find("total")) or 0.0
    if own:
        account.cash[:] = [(row.line, label, value)]
    elif not account.cash:
        account.cash.append((row.line, label, value))


def _nav_cash(account: Account, row: Row, columns: Columns | None) -> None:
    """Without a Cash Report, the Net Asset Value section's Cash (in the base currency, USD)."""
    if columns is None:
        return
    body = Row(row.line, row.cells[2:])
    value = columns.number(body, columns.find("current total", "total"))
    account.cash.append((row.line, "Net Asset Value Cash", value or 0.0))


def read_flex(path: Path, rows: Sequence[Row]) -> Export:
    start = first_row(rows[:10], _is_flex_header)
    assert start is not None
    columns = Columns(path, rows[start])
    fields = Fields(
        columns,
        price=("markprice", "closeprice"),
        value=("positionvalue",),
        cost_total=("costbasismoney",),
        cost_each=("costbasisprice",),
        acquired=("opendatetime",),
        kind=("assetclass", "assetcategory"),
        description=("description",),
    )
    export = Export(path, BROKER + " Flex Query", [])
    account_at = columns.find("clientaccountid")
    alias_at = columns.find("accountalias")
    currency_at = columns.find("currencyprimary", "currency")
    detail_at = columns.find("levelofdetail")
    report_at = columns.find("reportdate")
    accounts: dict[str, Account] = {}
    summaries: dict[tuple[str, str], Position] = {}
    lots: dict[tuple[str, str], list[Position]] = {}
    frames = list(rows[:start])
    for row in rows[start + 1 :]:
        if row.blank:
            continue
        if words(row.cells[0]) in FLEX_FRAME or _is_flex_header(row):
            frames.append(row)
            continue
        number = columns.cell(row, account_at)
        if number not in accounts:
            accounts[number] = Account(columns.cell(row, alias_at), number)
            export.accounts.append(accounts[number])
        account = accounts[number]
        symbol = fields.text(row, "symbol")
        category = fields.text(row, "kind")
        currency = columns.cell(row, currency_at).upper()
        refused = _refused(category, currency)
        if refused:
            account.skipped.append(Skipped(row.line, symbol, refused))
            continue
        reported: date | None = parse_date(columns.cell(row, report_at))
        export.as_of = reported or export.as_of
        position = fields.position(row)
        if words(columns.cell(row, detail_at)) == "lot":
            lots.setdefault((number, symbol), []).append(position)
            continue
        position.lots = []
        summaries[(number, symbol)] = position
        account.positions.append(position)
    for key, found in lots.items():
        lot_list = [lot for position in found for lot in position.lots]
        if key in summaries:
            summaries[key].lots = lot_list
        else:  # lot rows without their summary: together they are the position
            first = found[0]
            costs = [p.cost_total for p in found]
            first.shares = sum(p.shares or 0.0 for p in found)
            first.value = sum(p.value or 0.0 for p in found)
            first.cost_total = None if None in costs else sum(c or 0.0 for c in costs)
            first.lots = lot_list
            accounts[key[0]].positions.append(first)
    export.skipped += runs(frames, "not positions", "header and trailer records")
    for account in export.accounts:
        account.notes.append("a Flex Query positions export carries no cash: set `cash:` by hand")
    return export


def _refused(category: str, currency: str) -> str | None:
    """Why a position row is not imported (not a stock or fund; priced in another currency),
    or None."""
    if words(category) not in STOCKS:
        return _not_stock(category)
    if currency and currency != "USD":
        return f"priced in {currency}, not USD"
    return None


def _not_stock(category: str) -> str:
    return f"asset class {category or '(none)'}: not a stock or fund"
