"""A short Markdown summary of a proposal, to paste into a ticket or an email.

Rendered from the proposal document, like the HTML report. Text from the inputs is escaped so a
ticker, an account name or a reason can never break the tables or the formatting.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from advisor.measures import ESTIMATE_LABELS
from advisor.proposal import ProposalDocument
from advisor.report import saved, taxes
from advisor.report.saved import figure, pct, signed, usd
from advisor.report.summary import summary_of

_SPECIAL = re.compile(r"([\\`*\[\]<|]|(?<!\w)_|_(?!\w))")


def proposal_markdown(document: ProposalDocument) -> str:
    inputs = document.inputs
    found = saved.verdict(document)
    trades = document.trades
    before, after = document.before, document.after
    name = inputs.account or inputs.portfolio
    lines = [
        f"### Rebalancing proposal: {_md(name)}",
        "",
        _md(summary_of(document)),
        "",
        *(f"> {_md(line)}" for line in (*document.warnings, *document.kept)),
        *([""] if document.kept or document.warnings else []),
        *(f"- {_md(line)}" for line in document.funds),
        *([""] if document.funds else []),
        f"Portfolio `{_code(inputs.portfolio)}`, model "
        f"{_md(inputs.model.name)} as of {_md(inputs.model.as_of)}.",
        f"Prices: {_md(saved.price_note(document))}.",
        "",
        f"**{_md(found.headline)}**",
    ]
    lines += [f"- {_md(line)}" for line in found.lines]
    lines += [
        "",
        f"{len(trades)} trade{'s' if len(trades) != 1 else ''}, turnover "
        f"{pct(document.costs.turnover)} of {usd(before.value)}, estimated cost "
        f"{usd(document.costs.estimated_total, cents=True)}; cash "
        f"{pct(before.cash_share)} -> {pct(after.cash_share)}.",
        "",
    ]
    if trades:
        rows = [
            [
                _md(t.ticker),
                t.side,
                saved.shares_text(t.shares),
                f"{t.price:,.2f}",
                _md(t.price_date or "-"),
                _md(t.price_source or "-"),
                usd(t.value),
                pct(saved.trade_share(document, t), 2),
                _md(t.reason),
            ]
            for t in trades
        ]
        head = ("Ticker", "Side", "Shares", "Price", "Price date", "Price source", "Value",
                "Share of value", "Reason")  # fmt: skip
        lines += _table(head, rows, "llrrrlrrl")
        lines.append("")
    lines += _taxes(document)
    lines += _table(("Measure", "Before", "After", "Limit"), _measure_rows(document), "lrrr")
    failed = document.failed_checks()
    outcome = (
        f"{len(failed)} failed: " + ", ".join(_md(c.name) for c in failed)
        if failed
        else "all passed"
    )
    lines += ["", f"{saved.checked(document)} checks re-run on the final trades, {outcome}."]
    estimated = [ESTIMATE_LABELS.get(k, k) for k, v in after.estimated_share.items() if v >= 0.5]
    if estimated:
        lines.append("Resting mostly on model estimates: " + _md(", ".join(estimated)) + ".")
    lines += [
        "",
        f"_Proposal only: no orders placed. Portfolio sha256 `{_code(inputs.sha256)[:12]}`._",
        "",
    ]
    return "\n".join(lines)


def _taxes(document: ProposalDocument) -> list[str]:
    """The tax figures as a short list, then one table of every sell's lots."""
    facts = taxes.tax_facts(document)
    lines = [f"- {_md(k)}: {_md(v)}" for k, v in facts]
    lines = (["**Taxes**", "", *lines, ""]) if lines else []
    rows = [
        [_md(trade.ticker), row.acquired, row.shares, _md(row.cost_basis), _md(row.gain), row.term]
        for trade in taxes.sells_with_lots(document)
        for row in taxes.lot_rows(trade)
    ]
    if rows:
        lines.append("Lots each sell takes (specific identification):")
        lines.append("")
        head = ("Ticker", "Acquired", "Shares", "Cost basis", "Gain", "Term")
        lines += [*_table(head, rows, "llrrrl"), ""]
    return lines


def _measure_rows(document: ProposalDocument) -> list[list[str]]:
    before, after = document.before, document.after
    rows = []
    for measure, show in (("small_cap_share", pct), ("size_score", signed)):
        limit = saved.target_range(document, measure, show)
        rows.append([measure, show(before.figure(measure)), show(after.figure(measure)), limit])
    cap, _ = document.limit("max_position")
    for company, was, now in saved.largest_companies(document):
        limit = "" if cap is None else "max " + pct(cap)
        rows.append([_md(f"{company} (look-through)"), pct(was), pct(now), limit])
    for risk in saved.RISKS:
        value, _ = document.limit(risk.cap.key if risk.cap else None)
        rows.append(
            [
                _md(risk.label),
                figure(before.figure(risk.key), risk.kind),
                figure(after.figure(risk.key), risk.kind),
                "" if value is None else "max " + figure(value, risk.kind),
            ]
        )
    return rows


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> list[str]:
    rule = ["---:" if a == "r" else "---" for a in align]
    return ["| " + " | ".join(row) + " |" for row in (head, rule, *rows)]


def _md(text: object) -> str:
    """Plain text made safe inside Markdown: specials escaped, one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _code(text: object) -> str:
    """Text for an inline code span: backticks and line breaks removed."""
    return " ".join(str(text).replace("`", "'").split())
