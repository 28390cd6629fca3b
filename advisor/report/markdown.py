"""A short Markdown summary of a proposal, to paste into a ticket or an email.

Rendered from the proposal JSON dict, like the HTML report. Text from the inputs is escaped so a
ticker, an account name or a reason can never break the tables or the formatting.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from advisor.report import saved
from advisor.report.saved import figure, pct, signed, usd

_SPECIAL = re.compile(r"([\\`*\[\]<|]|(?<!\w)_|_(?!\w))")


def proposal_markdown(data: dict[str, Any]) -> str:
    inputs = data["inputs"]
    model = inputs.get("model") or {}
    found = saved.verdict(data)
    trades = data["trades"]
    costs = data.get("costs") or {}
    before, after = data["before"], data["after"]
    name = inputs.get("account") or inputs.get("portfolio", "")
    lines = [
        f"### Rebalancing proposal: {_md(name)}",
        "",
        f"Portfolio `{_code(inputs.get('portfolio', '-'))}`, model "
        f"{_md(model.get('name', '-'))} as of {_md(model.get('as_of', '-'))}.",
        "",
        f"**{_md(found.headline)}**",
    ]
    lines += [f"- {_md(line)}" for line in found.lines]
    lines += [
        "",
        f"{len(trades)} trade{'s' if len(trades) != 1 else ''}, turnover "
        f"{pct(costs.get('turnover'))} of {usd(before.get('value'))}, estimated cost "
        f"{usd(costs.get('estimated_total'), cents=True)}; cash "
        f"{pct(saved.cash_share(before))} -> {pct(saved.cash_share(after))}.",
        "",
    ]
    if trades:
        rows = [
            [
                _md(t["ticker"]),
                t["side"],
                saved.shares_text(t["shares"]),
                f"{t['price']:,.2f}",
                usd(t["value"]),
                pct(saved.trade_share(data, t), 2),
                _md(t["reason"]),
            ]
            for t in trades
        ]
        lines += _table(
            ("Ticker", "Side", "Shares", "Price", "Value", "Share of value", "Reason"),
            rows,
            "llrrrrl",
        )
        lines.append("")
    lines += _table(("Measure", "Before", "After", "Limit"), _measure_rows(data), "lrrr")
    failed = saved.failed_checks(data)
    checked = len(data.get("checks", [])) + len(data.get("pretrade_checks", []))
    outcome = (
        f"{len(failed)} failed: " + ", ".join(_md(c["name"]) for c in failed)
        if failed
        else "all passed"
    )
    lines += ["", f"{checked} checks re-run on the final trades, {outcome}."]
    estimated = [
        saved.ESTIMATE_LABELS.get(k, k)
        for k, v in (after.get("estimated_share") or {}).items()
        if v >= 0.5
    ]
    if estimated:
        lines.append("Resting mostly on model estimates: " + _md(", ".join(estimated)) + ".")
    lines += [
        "",
        f"_Proposal only: no orders placed. Portfolio sha256 "
        f"`{_code(inputs.get('sha256', '-'))[:12]}`._",
        "",
    ]
    return "\n".join(lines)


def _measure_rows(data: dict[str, Any]) -> list[list[str]]:
    before, after = data["before"], data["after"]
    rows = []
    for measure, show in (("small_cap_share", pct), ("size_score", signed)):
        limit = saved.target_range(data, measure, show)
        rows.append([measure, show(before[measure]), show(after[measure]), limit])
    for key, label, kind, limit_name in saved.RISKS:
        value, _ = saved.limit(data, limit_name)
        rows.append(
            [
                _md(label),
                figure(before[key], kind),
                figure(after[key], kind),
                "" if value is None else "max " + figure(value, kind),
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
