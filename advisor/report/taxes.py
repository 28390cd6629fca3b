"""A proposal's taxes told for people, shared by every report: the facts of its `tax` summary
and each sell's lots.

Rendered from the document alone: `tax` is None for a deferred or exempt account and in files
written before taxes (then no tax figures are shown); a sell's `lots` are shown wherever they
are known. Pure functions: no printing, no writing.
"""

from __future__ import annotations

from dataclasses import dataclass

from advisor.enums import Side
from advisor.proposal import LotSale, ProposalDocument, Realized, TaxSummary, Trade
from advisor.report.saved import pct, shares_text, signed, usd

UNKNOWN = "unknown"


@dataclass(frozen=True)
class LotRow:
    """One lot a sell takes, as text: when it was bought, how many shares, at what basis."""

    acquired: str
    shares: str
    cost_basis: str
    gain: str
    term: str


def sells_with_lots(document: ProposalDocument) -> list[Trade]:
    return [t for t in document.trades if t.side == Side.SELL and t.lots]


def lot_rows(trade: Trade) -> list[LotRow]:
    return [
        LotRow(
            acquired=lot.acquired or UNKNOWN,
            shares=shares_text(lot.shares),
            cost_basis=UNKNOWN if lot.cost_basis is None else f"${lot.cost_basis:,.2f}",
            gain=gain(lot.gain),
            term=lot.term,
        )
        for lot in trade.lots
    ]


def gain(value: float) -> str:
    """A gain or loss in whole dollars, signed: +$1,234, -$640, $0."""
    shown = usd(abs(value))
    if shown == "$0":
        return shown
    return f"+{shown}" if value > 0 else f"-{shown}"


def lots_cell(lots: list[LotSale]) -> str:
    """A sell's lots in one CSV cell: `acquired:shares@cost_basis`, `;` between lots, e.g.
    `2019-05-02:30@250.00;2025-08-15:20@410.00`; `unknown` for a date or basis not known."""
    return ";".join(
        f"{lot.acquired or UNKNOWN}:{_shares(lot.shares)}@"
        f"{UNKNOWN if lot.cost_basis is None else f'{lot.cost_basis:.2f}'}"
        for lot in lots
    )


def _shares(shares: float) -> str:
    return str(int(shares)) if float(shares).is_integer() else f"{shares:.6g}"


def tax_facts(document: ProposalDocument) -> list[tuple[str, str]]:
    """(label, text) rows of the Taxes block; none without a tax summary."""
    tax = document.tax
    if tax is None:
        return []
    if not tax.known:  # no lot of known basis: the figures are all zero by assumption
        return [("Unknown basis", _unknown(tax))]
    rows = [
        (
            "Estimated tax",
            f"{usd(tax.estimated_tax)}: what this proposal's sales add to the year's tax "
            f"(short-term at {pct(tax.short_term_rate, 0)}, long-term at "
            f"{pct(tax.long_term_rate, 0)}, netted as US rules do)",
        ),
        ("Realized by this proposal", realized(tax.realized)),
        ("Realized this year", f"{realized(tax.year_realized)} (earlier sales and this proposal)"),
        ("Gains budget", budget(tax)),
    ]
    rows += _tax_blind(document, tax)
    if tax.unknown_basis:
        rows.append(("Unknown basis", _unknown(tax)))
    rows += [("Wash sale, not traded", line) for line in tax.wash_sale_blocked]
    return rows


def _unknown(tax: TaxSummary) -> str:
    return (
        f"{', '.join(tax.unknown_basis)}: no lots in the file, so a sale is taken as no gain; "
        "add lots for a true figure"
    )


def realized(amounts: Realized) -> str:
    return f"short-term {gain(amounts.short_term)}, long-term {gain(amounts.long_term)}"


def net_gains(amounts: Realized) -> float:
    return amounts.short_term + amounts.long_term


def budget(tax: TaxSummary) -> str:
    """How much of the gains budget this year's net gains use."""
    if tax.gains_budget is None:
        return "none set"
    used = max(0.0, net_gains(tax.year_realized))
    share = f" ({pct(used / tax.gains_budget, 0)})" if tax.gains_budget > 0 else ""
    return f"{usd(used)} of {usd(tax.gains_budget)} used{share} by this year's net gains"


def saved_tax(tax: TaxSummary) -> float | None:
    """Tax-blind estimated tax minus this proposal's; None without the comparison."""
    return None if tax.tax_blind is None else tax.tax_blind.estimated_tax - tax.estimated_tax


def _tax_blind(document: ProposalDocument, tax: TaxSummary) -> list[tuple[str, str]]:
    blind = tax.tax_blind
    if blind is None:
        return []
    rows = [
        (
            "Tax-blind proposal",
            f"estimated tax {usd(blind.estimated_tax)}; {realized(blind.realized)}; "
            f"{blind.trades} trade{'s' if blind.trades != 1 else ''} "
            "(the same problem without the tax term)",
        )
    ]
    saved = blind.estimated_tax - tax.estimated_tax
    if saved > 0 and blind.estimated_tax > 0:
        text = f"{usd(saved)} ({pct(saved / blind.estimated_tax, 0)} below the tax-blind proposal)"
    elif round(saved) < 0:
        text = f"none: {usd(-saved)} more than the tax-blind proposal"
    else:
        text = "none: the tax-blind proposal owes no more tax"
    rows.append(("Tax saved", text))
    rows.append(("What it costs", cost_of_saving(document, tax)))
    return rows


def cost_of_saving(document: ProposalDocument, tax: TaxSummary) -> str:
    """The target reached and the risk change, against the tax-blind proposal's."""
    blind = tax.tax_blind
    assert blind is not None
    parts = []
    target = document.target
    if target is not None and blind.target_value is not None:
        show = pct if target.measure == "small_cap_share" else signed
        now = document.after.figure(target.measure)
        parts.append(f"{target.measure} {show(now)} against {show(blind.target_value)} tax-blind")
    risk = document.solver.terms.get("risk") if document.solver else None
    if risk is not None:
        parts.append(
            f"risk-change term {_bp(risk)} against {_bp(blind.risk_change)} tax-blind "
            "(bp of value, as the optimizer weighs it)"
        )
    return "; ".join(parts) or "-"


def _bp(share: float) -> str:
    return f"{1e4 * share:.1f}"
