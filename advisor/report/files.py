"""Proposal files: trades CSV, full JSON, broker basket CSV and its lots companion. Byte-stable;
written together by advisor/writing.py's Outputs."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from advisor.checks import Check
from advisor.enums import Status
from advisor.errors import InputError, Location, PreTradeCheckFailed
from advisor.limits import DEFAULTS, NO_SELL
from advisor.proposal import (
    CheckResult,
    Costs,
    Inputs,
    Limit,
    Measures,
    ModelRef,
    Position,
    ProposalDocument,
    Solver,
    Target,
    Trade,
)
from advisor.rebalance import Proposal, turnover
from advisor.report.html import proposal_html
from advisor.report.markdown import proposal_markdown
from advisor.report.summary import with_summary
from advisor.report.taxes import lots_cell, sells_with_lots
from advisor.scoring import basket_tickers, exposures_dict
from advisor.text import csv_cell, encodable
from advisor.writing import check_file_target, refusal

TRADE_COLUMNS = (
    "ticker",
    "side",
    "shares",
    "price",
    "value",
    "estimated_cost",
    "reason",
    "price_source",
    "price_date",
    "lots",  # a sell's lots, `acquired:shares@cost_basis;...` (advisor/report/taxes.py)
)
# The lots each sell takes, beside the basket: what a broker's specific-lot form asks for.
LOT_COLUMNS = ("ticker", "side", "acquired", "shares", "cost_basis", "term")
# The price each order was sized at, after the columns a broker reads.
PRICE_COLUMNS = ("Reference Price", "Price Date", "Price Source")
BASKET_COLUMNS = ("Symbol", "Side", "Quantity", "Order Type", "Time in Force", *PRICE_COLUMNS)
LIMIT_BASKET_COLUMNS = (
    "Symbol",
    "Side",
    "Quantity",
    "Order Type",
    "Limit Price",
    "Time in Force",
    *PRICE_COLUMNS,
)
# Interactive Brokers' BasketTrader file (TWS > Trade > BasketTrader > Import), as IBKR's
# guide "Manually Create a Basket File" writes it: a market order needs these eight fields, a
# limit order LmtPrice too; STK on SMART routing in USD; a share class after a space (BRK B).
IBKR_COLUMNS = ("Action", "Quantity", "Symbol", "SecType", "Exchange", "Currency", "TimeInForce")
MAX_LIMIT_BAND_BPS = 1000.0  # 10%: a wider band is almost surely a typo


def trade_rows(proposal: Proposal) -> list[dict[str, Any]]:
    quotes = proposal.trade_quotes
    return [
        {
            "ticker": ticker,
            "side": str(row.side).upper(),
            "shares": _number(row.shares),
            "price": round(float(row.price), 4),
            "value": round(abs(float(row.value)), 2),
            "estimated_cost": round(float(row.cost), 2),
            "reason": str(row.reason),
            "price_source": quotes[ticker].source,
            "price_date": quotes[ticker].day_text,
        }
        for ticker, row in zip(
            proposal.plan.trades.index, proposal.plan.trades.itertuples(index=False), strict=True
        )
    ]


def _number(shares: float) -> float | int:
    return int(shares) if float(shares).is_integer() else round(float(shares), 6)


def trades_csv(proposal: Proposal, document: ProposalDocument | None = None) -> str:
    """The trades, one a row; a sell's lots (from its document) in the `lots` column."""
    if document is None:
        document = proposal_document(proposal)
    lots = {(t.ticker, str(t.side).upper()): lots_cell(t.lots) for t in document.trades}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TRADE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in trade_rows(proposal):
        row["lots"] = lots.get((row["ticker"], row["side"]), "")
        writer.writerow(_cells(row))
    return buffer.getvalue()


def lots_path(basket: Path) -> Path:
    """The basket's lots companion: basket.csv -> basket.lots.csv."""
    return basket.with_name(f"{basket.stem}.lots.csv")


def basket_lots_csv(document: ProposalDocument, replacing: bool = False) -> str | None:
    """Each sell's lots, one a row, to hand to the broker's specific-lot form with the basket;
    None where no sell has lots. `replacing`: a companion left by an earlier run is there, so
    it becomes the header alone rather than stay beside a basket it does not describe. An
    unknown date or basis is an empty cell."""
    sells = sells_with_lots(document)
    if not sells and not replacing:
        return None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LOT_COLUMNS)
    for trade in sells:
        for lot in trade.lots:
            basis = "" if lot.cost_basis is None else f"{lot.cost_basis:.2f}"
            cells = [trade.ticker, "SELL", lot.acquired, _number(lot.shares), basis, lot.term]
            writer.writerow([csv_cell(cell) for cell in cells])
    return buffer.getvalue()


def _cells(row: dict[str, Any]) -> dict[str, Any]:
    """A row's cells as a spreadsheet should show them: text never read as a formula."""
    return {key: csv_cell(value) for key, value in row.items()}


class BasketFormat(StrEnum):
    """The layouts --basket writes (README, "The basket")."""

    default = "default"  # Symbol, Side, Quantity, Order Type, ..., and the reference price
    ibkr = "ibkr"  # Interactive Brokers BasketTrader


def basket_csv(
    proposal: Proposal,
    limit_band_bps: float | None = None,
    layout: BasketFormat = BasketFormat.default,
) -> str:
    """Orders for import at a broker, for the day; review before sending. Market orders, or
    with `limit_band_bps` limit orders at price x (1 + band) to buy, x (1 - band) to sell."""
    if layout == BasketFormat.ibkr:
        return _ibkr_basket(proposal, limit_band_bps)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(BASKET_COLUMNS if limit_band_bps is None else LIMIT_BASKET_COLUMNS)
    for row in trade_rows(proposal):
        row["ticker"] = csv_cell(row["ticker"])  # text cells; side is BUY or SELL
        priced = [row["price"], row["price_date"], csv_cell(row["price_source"])]
        if limit_band_bps is None:
            writer.writerow([row["ticker"], row["side"], row["shares"], "MARKET", "DAY", *priced])
        else:
            limit = limit_price(row["price"], row["side"], limit_band_bps)
            order = [row["ticker"], row["side"], row["shares"], "LIMIT", limit, "DAY"]
            writer.writerow([*order, *priced])
    return buffer.getvalue()


def _ibkr_basket(proposal: Proposal, limit_band_bps: float | None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    limit = limit_band_bps is not None
    writer.writerow([*IBKR_COLUMNS, "OrderType", *(["LmtPrice"] if limit else [])])
    for row in trade_rows(proposal):
        symbol = csv_cell(row["ticker"].replace(".", " "))
        order = [row["side"], row["shares"], symbol, "STK", "SMART", "USD", "DAY"]
        if limit_band_bps is None:
            writer.writerow([*order, "MKT"])
        else:
            writer.writerow([*order, "LMT", limit_price(row["price"], row["side"], limit_band_bps)])
    return buffer.getvalue()


def refuse_stale_limits(proposal: Proposal, limit_band_bps: float | None, allow: bool) -> None:
    """Limit prices from stale quotes would sit far from the market: refuse the basket (exit
    4, nothing written) unless the user accepts them. Market orders only warn."""
    if limit_band_bps is None or allow:
        return
    found = proposal.stale_trades()
    if not found:
        return
    days = proposal.scored.prices.max_age_days
    named = ", ".join(
        f"{s.ticker} ({s.day.isoformat() if s.day else 'undated'})" for s in found[:5]
    )
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    raise PreTradeCheckFailed(
        f"--limit-band: nothing was written: {len(found)} trade(s) would get limit prices from "
        f"prices older than {days} days: {named}{more}; give --prices FILE with today's quotes, "
        "or --allow-stale-prices to write them anyway"
    )


def limit_price(price: float, side: str, band_bps: float) -> str:
    """price x (1 + band) for a buy, x (1 - band) for a sell, rounded half up to cents."""
    band = Decimal(str(band_bps)) / Decimal(10_000)
    factor = 1 + band if side.upper() == "BUY" else 1 - band
    return str((Decimal(str(price)) * factor).quantize(Decimal("0.01"), ROUND_HALF_UP))


def check_limit_band(
    band_bps: float | None, basket: Path | None, layout: BasketFormat = BasketFormat.default
) -> None:
    """Refuse a band that is negative, absurdly wide, or given without --basket; and a
    --basket-format without --basket."""
    if layout != BasketFormat.default and basket is None:
        raise InputError(
            Location("--basket-format"),
            "needs --basket",
            value=layout.value,
            fix="add --basket FILE.csv, or drop --basket-format",
        )
    if band_bps is None:
        return
    if basket is None:
        raise InputError(
            Location("--limit-band"),
            "needs --basket",
            value=band_bps,
            fix="add --basket FILE.csv, or drop --limit-band",
        )
    if not 0 <= band_bps <= MAX_LIMIT_BAND_BPS:
        raise InputError(
            Location("--limit-band"),
            "is out of range",
            value=band_bps,
            fix=f"give basis points from 0 to {MAX_LIMIT_BAND_BPS:g}, e.g. 25 for 0.25%",
        )


def proposal_document(proposal: Proposal) -> ProposalDocument:
    """The typed document every proposal output is written from, its summary filled in."""
    scored, plan, limits = proposal.scored, proposal.plan, proposal.limits
    target = scored.loaded.portfolio.target
    solution = plan.solution
    kept = [
        held.note(name, getattr(limits, held.limit) or 0.0)
        for name, held in limits.kept.items()
        if held.why == NO_SELL
    ]
    traded = [str(t) for t in plan.trades.index]
    document = ProposalDocument(
        warnings=proposal.warnings(),
        kept=kept,
        funds=scored.model.basket_notes([*basket_tickers(scored), *traded]),
        status=Status(plan.status),
        target=None
        if target is None
        else Target(measure=target.measure, value=target.value, band=target.band),
        trades=[
            Trade.model_validate({**row, "lots": proposal.lots.get(row["ticker"], [])})
            for row in trade_rows(proposal)
        ],
        positions=[
            Position(
                ticker=str(row.ticker),
                shares=float(row.shares),
                price=float(row.price),
                price_source=str(row.price_source),
                price_date=str(row.price_date),
                value=float(row.value),
            )
            for row in scored.positions.itertuples()
        ],
        before=Measures.model_validate(exposures_dict(proposal.before)),
        after=Measures.model_validate(exposures_dict(proposal.after)),
        costs=Costs(
            estimated_total=float(plan.trades["cost"].sum()) if len(plan.trades) else 0.0,
            turnover=turnover(proposal),
        ),
        limits={
            name: Limit(value=getattr(limits, name), source=limits.source(name))
            for name in (*DEFAULTS, *(["max_names"] if limits.max_names else []))
        },
        checks=[_check(c) for c in plan.checks],
        pretrade_checks=[_check(c) for c in proposal.pretrade],
        diagnosis=None if plan.diagnosis is None else plan.diagnosis.lines(),
        inputs=Inputs(
            portfolio=encodable(str(scored.loaded.path)),
            sha256=scored.loaded.sha256,
            account=encodable(scored.loaded.portfolio.account),
            model=ModelRef(name=scored.model.name, as_of=scored.model.as_of),
            size_scheme=scored.scheme.value,
            run_date=scored.prices.day.isoformat(),
            max_price_age=scored.prices.max_age_days,
        ),
        solver=None
        if solution is None
        else Solver(
            name=solution.solver,
            status=solution.status,
            objective=solution.objective,
            terms=solution.terms,
            repairs=plan.repairs,
        ),
        tax=proposal.tax,
    )
    return with_summary(document)


def _check(check: Check) -> CheckResult:
    return CheckResult(
        name=check.name, ok=check.ok, value=check.value, limit=check.limit, detail=check.detail
    )


def document_json(document: ProposalDocument) -> str:
    """The document's JSON; one saved without a summary gains it."""
    return with_summary(document).to_json()


# What --output writes, by extension. A saved proposal is rendered again from its document.
DOCUMENT_WRITERS: dict[str, Callable[[ProposalDocument], str]] = {
    ".json": document_json,
    ".html": proposal_html,
    ".md": proposal_markdown,
}
OUTPUTS = (".csv", *DOCUMENT_WRITERS)  # .csv: the trades alone


def check_output_path(path: Path, option: str, allowed: tuple[str, ...]) -> None:
    """Refuse a bad output path before any work is done: an unknown extension, or a path
    that cannot take a file (writing.check_file_target)."""
    check_file_target(path, option)
    if path.suffix.lower() not in allowed:
        raise refusal(
            option,
            path,
            f"has an unknown extension {path.suffix!r}",
            fix=f"use one of {', '.join(allowed)}",
        )


def proposal_text(proposal: Proposal, document: ProposalDocument, path: Path) -> str:
    """What `--output PATH` holds for a fresh proposal, by extension (`document` is its own)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return trades_csv(proposal, document)
    return DOCUMENT_WRITERS[suffix](document)


def document_text(document: ProposalDocument, path: Path) -> str:
    """What `--output PATH` holds for a saved proposal, by extension."""
    return DOCUMENT_WRITERS[path.suffix.lower()](document)


SUMMARY_COLUMNS = (
    "path",
    "account",
    "status",
    "exit_code",
    "trades",
    "turnover",
    "target_reached",
    "summary",
    "message",
)


def batch_summary_csv(results: list[Any]) -> str:
    """One row per account of a batch: what happened and whether the target was reached."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for result in results:
        writer.writerow(_cells(result.row()))
    return buffer.getvalue()
