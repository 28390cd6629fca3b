"""`advisor review`: a saved proposal (its JSON dict) shown again in the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from advisor.market import BANDS
from advisor.report import saved
from advisor.report.saved import figure, pct, signed, usd

TONES = {"ok": "bold green", "warn": "bold yellow", "bad": "bold red"}


def saved_view(data: dict[str, Any]) -> Group:
    inputs, target = data["inputs"], data.get("target")
    model = inputs.get("model") or {}
    head = Table.grid(padding=(0, 2))
    head.add_row("Portfolio", f"{inputs.get('portfolio', '-')}  {inputs.get('account') or ''}")
    head.add_row(
        "Model",
        f"{model.get('name', '-')} as of {model.get('as_of', '-')} "
        f"(size scheme: {inputs.get('size_scheme', '-')})",
    )
    if target is not None:
        head.add_row("Target", f"{target['measure']} {target['value']:g} ± {target['band']:g}")
    head.add_row("Status", str(data["status"]))
    found = saved.verdict(data)
    parts: list[Any] = [head, Text(found.headline, style=TONES[found.tone])]
    parts.extend(Text(f"  {line}", style="yellow") for line in found.lines)
    parts += [_trades(data), _compare(data)]
    failed = saved.failed_checks(data)
    checked = len(data.get("checks", [])) + len(data.get("pretrade_checks", []))
    parts.append(
        Text(
            f"Checks re-run on the final trades: {checked}, {len(failed)} failed.",
            style="bold red" if failed else "dim",
        )
    )
    parts.extend(
        Text(f"  FAILED {c['name']}: {c.get('detail') or c.get('value')}", style="red")
        for c in failed
    )
    return Group(*parts)


def _trades(data: dict[str, Any]) -> Table:
    table = Table(
        title="Proposed trades (review, then place them at your broker)", title_justify="left"
    )
    for column in ("Ticker", "Side", "Shares", "Price", "Value", "Share", "Est. cost", "Reason"):
        table.add_column(
            column, justify="left" if column in ("Ticker", "Side", "Reason") else "right"
        )
    for t in data["trades"]:
        style = "green" if t["side"] == "BUY" else "red"
        table.add_row(
            str(t["ticker"]),
            Text(str(t["side"]), style=style),
            saved.shares_text(t["shares"]),
            f"{t['price']:,.2f}",
            usd(t["value"]),
            pct(saved.trade_share(data, t), 2),
            usd(t["estimated_cost"], cents=True),
            str(t["reason"]),
        )
    if not data["trades"]:
        table.add_row("-", "", "", "", "", "", "", "no trades: nothing needs doing")
    return table


def _compare(data: dict[str, Any]) -> Table:
    before, after = data["before"], data["after"]
    table = Table(title="Before and after (look-through)", title_justify="left")
    for column in ("Measure", "Before", "After", "Limit", "Estimated"):
        table.add_column(column, justify="left" if column == "Measure" else "right")
    table.add_row("Value", usd(before["value"]), usd(after["value"]), "", "")
    cash_min, _ = saved.limit(data, "cash_min")
    table.add_row(
        "Cash share",
        pct(saved.cash_share(before)),
        pct(saved.cash_share(after)),
        "" if cash_min is None else f"min {pct(cash_min)}",
        "",
    )
    for measure, show in (("small_cap_share", pct), ("size_score", signed)):
        band = saved.target_range(data, measure, show)
        estimated = pct((after.get("estimated_share") or {}).get("size"))
        table.add_row(measure, show(before[measure]), show(after[measure]), band, estimated)
    for band_name in BANDS:
        table.add_row(
            f"  {band_name}",
            pct(before["bands"][band_name]),
            pct(after["bands"][band_name]),
            "",
            "",
        )
    for key, _label, kind, limit_name in saved.RISKS:
        value, _ = saved.limit(data, limit_name)
        estimated = pct((after.get("estimated_share") or {}).get(key))
        shown = "" if value is None else f"max {figure(value, kind)}"
        table.add_row(
            saved.SHORT_RISKS[key][0],
            figure(before[key], kind),
            figure(after[key], kind),
            shown,
            estimated,
        )
    drift, _ = saved.limit(data, "sector_drift_max")
    sectors = sorted(set(before["sectors"]) | set(after["sectors"]))
    for sector in sorted(sectors, key=lambda s: -before["sectors"].get(s, 0.0)):
        b, a = before["sectors"].get(sector, 0.0), after["sectors"].get(sector, 0.0)
        table.add_row(f"  {sector}", pct(b), pct(a), f"±{pct(drift)}" if drift else "", "")
    return table
