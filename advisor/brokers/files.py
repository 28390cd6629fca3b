"""The files an import writes: the portfolio YAML (what was not imported listed at its top, as
comments) and the quotes CSV its `prices:` names."""

from __future__ import annotations

import json

from advisor.brokers.holdings import Imported
from advisor.brokers.table import Lot
from advisor.text import plain


def _number(value: float) -> str:
    return f"{value:.10g}"


def _comment(text: str) -> str:
    return "# " + plain(text).replace("\n", " ")


def _lot(lot: Lot) -> str:
    parts = [f"shares: {_number(lot.shares)}"]
    if lot.cost_basis is not None:
        parts.append(f"cost_basis: {_number(lot.cost_basis)}")
    if lot.acquired is not None:
        parts.append(f"acquired: {lot.acquired.isoformat()}")
    return "{" + ", ".join(parts) + "}"


def notes(imported: Imported) -> list[str]:
    """What the user should know of the import, a line each (stderr and the file's top)."""
    lines = [f"not imported: {skipped}" for skipped in imported.skipped]
    if imported.cash_rows:
        lines.append(f"cash {imported.cash:,.2f}: " + "; ".join(imported.cash_rows))
    if imported.unknown_dates:
        lines.append(
            "cost basis as the average cost, acquired date unknown (add `acquired:` for "
            "tax-aware trading): " + ", ".join(imported.unknown_dates)
        )
    if imported.no_basis:
        lines.append("no cost basis in the export (shares only): " + ", ".join(imported.no_basis))
    if not imported.prices:
        lines.append("the export gives no prices: the model's prices are used")
    lines += imported.account.notes
    return lines


def portfolio_yaml(imported: Imported, source: str, prices: str | None) -> str:
    """The portfolio file; `prices` is the quotes file relative to it (None: no prices)."""
    export = imported.export
    priced = "and prices " if prices else ""
    head = [
        f"Imported from {source} ({export.broker}), account {imported.account.label}: "
        f"positions {priced}as of {imported.as_of.isoformat()} ({imported.as_of_from}).",
        *notes(imported),
    ]
    lines = [_comment(line) for line in head]
    name = imported.account.label if imported.account.label != "(unnamed)" else ""
    lines += [
        f"account: {json.dumps(name or export.broker)}",
        f"model: {json.dumps(imported.model_name)}",
        f"cash: {imported.cash:.2f}",
        *([f"prices: {json.dumps(prices)}"] if prices else []),
        "holdings:" if imported.holdings else "holdings: []",
    ]
    for ticker, (shares, lots) in imported.holdings.items():
        quoted = json.dumps(ticker)
        if lots is None:
            lines.append(f"  - {{ticker: {quoted}, shares: {_number(shares)}}}")
        else:
            lines.append(f"  - ticker: {quoted}")
            lines.append("    lots:")
            lines += [f"      - {_lot(lot)}" for lot in lots]
    return "\n".join(lines) + "\n"


def quotes_csv(imported: Imported) -> str:
    day = imported.as_of.isoformat()
    rows = [f"{ticker},{_number(price)},{day}" for ticker, price in imported.prices.items()]
    return "\n".join(["ticker,price,date", *rows]) + "\n"
