"""`advisor review`: a proposal document shown in the terminal (a saved one, or a fresh one)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from advisor.enums import Side
from advisor.measures import BANDS
from advisor.proposal import ProposalDocument
from advisor.report import saved, taxes
from advisor.report.saved import figure, pct, signed, usd
from advisor.report.summary import summary_of
from advisor.text import plain

TONES = {"ok": "bold green", "warn": "bold yellow", "bad": "bold red"}


def saved_view(document: ProposalDocument) -> Group:
    inputs, target = document.inputs, document.target
    head = Table.grid(padding=(0, 2))
    head.add_row("Portfolio", f"{inputs.portfolio}  {inputs.account or ''}")
    head.add_row(
        "Model",
        f"{inputs.model.name} as of {inputs.model.as_of} (size scheme: {inputs.size_scheme})",
    )
    head.add_row("Prices", saved.price_note(document))
    head.add_row("Target", saved.target_spec(target))
    head.add_row("Status", str(document.status))
    found = saved.verdict(document)
    parts: list[Any] = [
        Text(plain(summary_of(document)), style="bold"),
        *(Text(plain(line), style="bold yellow") for line in document.warnings),
        *(Text(plain(line), style="bold yellow") for line in document.kept),
        head,
        *(Text(plain(line), style="dim") for line in document.funds),
        Text(plain(found.headline), style=TONES[found.tone]),
    ]
    parts.extend(Text(f"  {plain(line)}", style="yellow") for line in found.lines)
    parts += [_trades(document)]
    if taxes.sells_with_lots(document):
        parts += [Text("Lots each sell takes (specific identification)", style="italic")]
        parts += [_lots(document)]
    if document.trades:
        parts += [Text("Why each trade", style="italic"), _reasons(document)]
    parts += _taxes(document)
    parts += [_compare(document)]
    failed = document.failed_checks()
    parts.append(
        Text(
            f"Checks re-run on the final trades: {saved.checked(document)}, {len(failed)} failed.",
            style="bold red" if failed else "dim",
        )
    )
    parts.extend(
        Text(plain(f"  FAILED {c.name}: {c.detail or c.value}"), style="red") for c in failed
    )
    return Group(*parts)


def _trades(document: ProposalDocument) -> Table:
    table = Table(
        title="Proposed trades (review, then place them at your broker)", title_justify="left"
    )
    # Each price's source is told with the trade's reason, below: too long for a column.
    for column in ("Ticker", "Side", "Shares", "Price", "As of", "Value", "Share", "Est. cost"):
        table.add_column(column, justify="left" if column in ("Ticker", "Side") else "right",
                         no_wrap=column == "As of")  # fmt: skip
    for t in document.trades:
        style = "green" if t.side == Side.BUY else "red"
        table.add_row(
            t.ticker,
            Text(str(t.side), style=style),
            saved.shares_text(t.shares),
            f"{t.price:,.2f}",
            t.price_date or "-",
            usd(t.value),
            pct(saved.trade_share(document, t), 2),
            usd(t.estimated_cost, cents=True),
        )
    if not document.trades:
        table.add_row("-", "", "", "", "", "", "", "no trades")
    return table


def _reasons(document: ProposalDocument) -> Table:
    """Each trade's reason, on a line of its own: they are too long for a table column."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column()
    for t in document.trades:
        source = f"; price from {t.price_source}" if t.price_source else ""
        table.add_row(f"{t.ticker} {t.side}", t.reason + source)
    return table


def _lots(document: ProposalDocument) -> Table:
    """Each sell's lots, compact: the ticker once, then a line a lot."""
    table = Table.grid(padding=(0, 2))
    for column in range(6):  # ticker, acquired, shares, basis, gain, term
        table.add_column(justify="right" if 2 <= column <= 4 else "left", no_wrap=True)
    for trade in taxes.sells_with_lots(document):
        for n, lot in enumerate(taxes.lot_rows(trade)):
            shares = f"{lot.shares} sh"
            basis = f"@ {lot.cost_basis}"
            table.add_row("  " + trade.ticker if n == 0 else "", lot.acquired, shares, basis,
                          lot.gain, lot.term)  # fmt: skip
    return table


def _taxes(document: ProposalDocument) -> list[Any]:
    """The Taxes block: nothing for a deferred or exempt account (no tax figures)."""
    facts = taxes.tax_facts(document)
    if not facts:
        return []
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column()
    for label, text in facts:
        table.add_row(label, text)
    return [Text("Taxes", style="bold"), table]


def _compare(document: ProposalDocument) -> Table:
    before, after = document.before, document.after
    table = Table(title="Before and after (look-through)", title_justify="left")
    for column in ("Measure", "Before", "After", "Limit", "Estimated"):
        table.add_column(column, justify="left" if column == "Measure" else "right")
    table.add_row("Value", usd(before.value), usd(after.value), "", "")
    cash_min, _ = document.limit("cash_min")
    cash_max, _ = document.limit("cash_max")
    bounds = [f"min {pct(cash_min)}"] if cash_min is not None else []
    bounds += [f"max {pct(cash_max)}"] if cash_max is not None else []
    table.add_row(
        "Cash share", pct(before.cash_share), pct(after.cash_share), ", ".join(bounds), ""
    )
    cap, _ = document.limit("max_position")
    largest = saved.largest_companies(document)
    if largest:
        table.add_row("Largest companies", "", "", "", "")
    for company, was, now in largest:
        table.add_row(
            f"  {company}", pct(was), pct(now), "" if cap is None else f"max {pct(cap)}", ""
        )
    for measure, show in (("small_cap_share", pct), ("size_score", signed)):
        band = saved.target_range(document, measure, show)
        estimated = pct(after.estimated_share.get("size"))
        table.add_row(
            measure, show(before.figure(measure)), show(after.figure(measure)), band, estimated
        )
    for band_name in BANDS:  # .get: a hand-edited proposal may lack a band; it shows as "-"
        shares = before.bands.get(band_name), after.bands.get(band_name)
        table.add_row(f"  {band_name}", *(pct(share) for share in shares), "", "")
    for risk in saved.RISKS:
        value, _ = document.limit(risk.cap.key if risk.cap else None)
        shown = "" if value is None else f"max {figure(value, risk.kind)}"
        table.add_row(
            risk.short,
            figure(before.figure(risk.key), risk.kind),
            figure(after.figure(risk.key), risk.kind),
            shown,
            pct(after.estimated_share.get(risk.key)),
        )
    drift, _ = document.limit("sector_drift_max")
    sectors = sorted(set(before.sectors) | set(after.sectors))
    for sector in sorted(sectors, key=lambda s: -before.sectors.get(s, 0.0)):
        b, a = before.sectors.get(sector, 0.0), after.sectors.get(sector, 0.0)
        table.add_row(f"  {sector}", pct(b), pct(a), f"±{pct(drift)}" if drift else "", "")
    return table
