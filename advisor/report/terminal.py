"""Rich tables for people. Every figure says where it comes from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from advisor.measures import BANDS, RISK_MEASURES
from advisor.scoring import Scored
from advisor.text import plain

UNMATCHED_SHOWN = 10  # a fund's holdings the model lacks, shown by name (all in --json)


def fmt(value: float | None, kind: str) -> str:
    if value is None or value != value:
        return "-"
    if kind == "%":
        return f"{100 * value:.1f}%"
    if kind == "$":
        return f"{value:.3f}"
    if kind == "x":
        return f"{value:.2f}"
    if kind == "usd":
        return f"${value:,.0f}"
    if kind == "cap":
        return f"${value / 1e9:,.1f}B"
    return f"{value:.2f}"


def bar(share: float, width: int = 30) -> Text:
    filled = round(max(0.0, min(1.0, share)) * width)
    return Text("█" * filled + "·" * (width - filled), style="cyan")


def score_view(scored: Scored) -> Group:
    """Where the portfolio stands, with the limits its file sets (defaults are not shown)."""
    data = scored.exposures
    model = scored.model
    head = Table.grid(padding=(0, 2))
    head.add_row("Portfolio", f"{scored.loaded.path}  {scored.loaded.portfolio.account}")
    head.add_row("Model", f"{model.name} as of {model.as_of} (size scheme: {scored.scheme.value})")
    head.add_row("Run date", scored.prices.day.isoformat())
    head.add_row(
        "Value",
        f"{fmt(data.value, 'usd')}  (equity {fmt(data.equity_value, 'usd')}, "
        f"cash {fmt(data.cash, 'usd')})",
    )

    bands = Table(
        title="Size bands (share of equity value, funds looked through)", title_justify="left"
    )
    bands.add_column("Band")
    bands.add_column("Share", justify="right")
    bands.add_column("")
    for band in BANDS:
        bands.add_row(band, fmt(data.bands[band], "%"), bar(data.bands[band]))
    bands.add_row(
        Text("small + micro", style="bold"),
        Text(fmt(data.small_cap_share, "%"), style="bold"),
        "",
    )

    size = Table(title="Size", title_justify="left")
    for column in ("Measure", "Value", "Meaning"):
        size.add_column(column, justify="right" if column == "Value" else "left")
    size.add_row(
        "Size score",
        f"{data.size_score:+.2f}",
        "standardized size exposure; market = 0, below -1 is a small-cap tilt",
    )
    if data.equity_value > 0:
        size.add_row(
            "Geometric mean market cap", fmt(data.geometric_mean_cap, "cap"), "value-weighted"
        )
    size.add_row(
        "Resting on estimated caps",
        fmt(data.estimated_share["size"], "%"),
        "holdings whose market cap is estimated",
    )

    risks = Table(title="Small-cap risks (look-through)", title_justify="left")
    for column in ("Measure", "Value", "Limit", "Estimated"):
        risks.add_column(column, justify="left" if column == "Measure" else "right")
    for risk in RISK_MEASURES:
        limit = None if risk.cap is None else getattr(scored.loaded.portfolio.limits, risk.cap.key)
        risks.add_row(
            risk.label,
            fmt(data.risk(risk.name), risk.kind),
            fmt(limit, risk.kind) if limit is not None else "",
            fmt(data.estimated_share[risk.key], "%"),
        )

    sectors = Table(title="Sectors (GICS, look-through)", title_justify="left")
    sectors.add_column("Sector")
    sectors.add_column("Weight", justify="right")
    sectors.add_column("")
    for sector, weight in sorted(data.sectors.items(), key=lambda kv: -kv[1]):
        sectors.add_row(sector, fmt(weight, "%"), bar(weight))

    held = Table(title="Holdings", title_justify="left")
    for column in ("Ticker", "Shares", "Price", "Price date", "Price source", "Value", "Weight"):
        held.add_column(column, justify="left" if column in ("Ticker", "Price source") else "right")
    for row in scored.positions.itertuples():
        held.add_row(
            str(row.ticker),
            f"{row.shares:,.4g}",
            f"{row.price:,.2f}",
            str(row.price_date) or "-",
            str(row.price_source),
            fmt(row.value, "usd"),
            fmt(row.value / data.value if data.value else 0.0, "%"),
        )
    companies = Table(
        title="Largest companies (look-through, share of value)",
        title_justify="left",
    )
    companies.add_column("Company")
    companies.add_column("Weight", justify="right")
    companies.add_column("")
    for company, weight in data.companies.items():
        companies.add_row(company, fmt(weight, "%"), bar(weight))
    note = Text(
        "Estimated: share of equity value whose figure is estimated by the model's "
        "documented rules rather than reported (see `advisor model show`).",
        style="dim",
    )
    return Group(head, bands, size, risks, sectors, held, *_baskets(scored), companies, note)


def _baskets(scored: Scored) -> list[Text]:
    """A line per fund whose holdings another basket or a file stands in for; a fund from a
    holdings file lists the holdings the model lacks, with their weight."""
    from advisor.scoring import fund_baskets

    lines = []
    for basket in fund_baskets(scored):
        lines.append(Text(plain(basket["note"]), style="yellow" if basket["approximate"] else ""))
        missing = basket.get("unmatched", [])
        if missing:
            shown = ", ".join(f"{m['ticker'] or m['name']} {fmt(m['weight'], '%')}"
                              for m in missing[:UNMATCHED_SHOWN])  # fmt: skip
            more = len(missing) - UNMATCHED_SHOWN
            shown += f" and {more} more (see --json)" if more > 0 else ""
            lines.append(Text(plain(f"  not in the model, left out: {shown}"), style="yellow"))
    return lines


def model_view(meta: dict[str, Any], counts: dict[str, Any]) -> Group:
    head = Table.grid(padding=(0, 2))
    head.add_row("Model", f"{meta['name']} as of {meta['as_of']}")
    head.add_row(
        "Stocks",
        f"{counts['stocks']:,} ({counts['ranked']:,} in the ranking "
        f"universe, {counts['not_listed']:,} fund holdings not listed)",
    )
    head.add_row("Funds", ", ".join(meta.get("funds", {})))
    stand_ins = meta.get("stand_ins") or {}
    if stand_ins:
        head.add_row("Through their baskets", ", ".join(f"{t} ({s['basket']})"
                                                       for t, s in stand_ins.items()))  # fmt: skip
    sources = Table(title="Sources", title_justify="left")
    for column in ("File", "Publisher", "Date", "Used for"):
        sources.add_column(column)
    for source in meta.get("sources", []):
        sources.add_row(
            source["file"], source["publisher"], str(source["date"]), source["used_for"]
        )
    funds = Table(title="Funds (look-through)", title_justify="left")
    for column in ("Fund", "As of", "Equity lines", "Non-equity share", "NAV"):
        funds.add_column(column, justify="left" if column in ("Fund", "As of") else "right")
    for ticker, fund in meta.get("funds", {}).items():
        funds.add_row(
            ticker,
            str(fund.get("as_of", "")),
            str(fund.get("equity_lines", "")),
            fmt(fund.get("non_equity_share"), "%"),
            f"{fund['nav']:.2f}" if fund.get("nav") else "-",
        )
    sources_of = Table(title="Reported vs estimated (share of stocks)", title_justify="left")
    for column in ("Field", "Reported", "Estimated", "How"):
        sources_of.add_column(
            column, justify="right" if column in ("Reported", "Estimated") else "left"
        )
    for field, row in counts["sources"].items():
        how = meta.get("estimation", {}).get(field, "")
        how = how.get("rule", "") if isinstance(how, dict) else str(how)
        sources_of.add_row(field, fmt(row["reported"], "%"), fmt(row["estimated"], "%"), how)
    return Group(head, sources, funds, sources_of)


class PlainConsole(Console):
    """A console that shows every string as itself: no markup or emoji codes read from it, and
    its control characters escaped (advisor.text.plain). User text (an account, a ticker, a
    path, a reason) reaches the views as plain strings; styled text is built as rich Text, and
    Text holding user text is built from plain() too."""

    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, emoji=False, **options)

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(plain(text), **options)


def print_view(view: Group, console: Console | None = None) -> None:
    (console or PlainConsole()).print(view)


def batch_view(results: list[Any]) -> Group:
    table = Table(title=f"Batch: {len(results)} accounts", title_justify="left")
    for column in ("Account", "File", "Status", "Trades", "Turnover", "Target reached"):
        table.add_column(column, justify="right" if column in ("Trades", "Turnover") else "left")
    for result in results:
        reached = {True: "yes", False: "no", None: "-"}[result.target_reached]
        table.add_row(
            result.account or "-",
            Path(result.path).name,
            result.status,
            str(result.trades),
            fmt(result.turnover, "%"),
            reached,
        )
    notes = [
        Text(plain(f"{Path(r.path).name}: {r.message}"), style="yellow")
        for r in results
        if r.message
    ]
    return Group(table, *notes)
