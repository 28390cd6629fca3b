"""Applying executed fills to the portfolio file (`advisor apply`).

A saved proposal says which file it was made from (its path and sha256) and which trades it
proposed. The proposal's trades are checked first (numbers, sides, tickers of the portfolio's
model); the fills a broker executed (ticker, side, shares, price, optional date) are checked
against them and the holdings, then the file's holdings, tax lots and cash are updated in place:
ruamel.yaml's round trip keeps comments and layout. The file is locked from the sha256 check to
the write (advisor/portfolio/rewrite.py), the new text must pass the loader `advisor validate`
uses, the old file is kept as `<name>.bak`, and both writes are atomic. Nothing is written
unless every fill is valid. Fills are applied as a set: their order in the file does not matter.

A sale takes the shares of the lots the proposal lists for it (specific identification), in the
proposal's order, so a partial fill takes the first lots listed first; a lot rule (hifo, fifo,
lifo) is used where the proposal lists none or the user asks for one. In a taxable account the
gains realized on lots with a known basis are added to `tax.realized_this_year`, the sales at a
loss to `tax.recent_sales`, and loss sales older than 61 days are dropped from it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from advisor.brokers.table import parse_date
from advisor.enums import Side
from advisor.errors import InputError, Location
from advisor.fill_files import (
    NUMBER,
    FillRow,
    FillTable,
    Skipped,
    broker_number,
    drop_earlier,
    read_table,
)
from advisor.market import MarketModel
from advisor.portfolio.editing import EditableYaml, LossSale, LotView
from advisor.portfolio.loading import LoadedPortfolio, check_tax
from advisor.portfolio.model import Account
from advisor.portfolio.rewrite import locked, replace
from advisor.portfolio.tickers import ticker_key
from advisor.proposal import FIX, LotOrder, LotSale, Order, Orders, read_orders
from advisor.tax.lots import is_short

TOLERANCE = 1e-9  # relative slack when comparing share counts
MAX_PRICE_MOVE = 0.20  # a fill this far from the proposal's price is more likely a typo
OrderT = TypeVar("OrderT", bound=Order)
KEEP_SALES_DAYS = 61  # tax.recent_sales entries this old are kept; older ones dropped


class LotRule(StrEnum):
    """Which tax lots a sale takes shares from first."""

    hifo = "hifo"  # highest cost basis first (lots without a basis last): without proposal lots
    fifo = "fifo"  # oldest acquired first
    lifo = "lifo"  # newest acquired first


@dataclass(frozen=True)
class Fill:
    line: int  # in the fills file
    ticker: str  # as the proposal spells it
    side: Side
    shares: float
    price: float
    acquired: date  # the fill's date, else today

    @property
    def cash(self) -> float:
        """Cash the fill adds (a sale) or spends (a purchase)."""
        amount = self.shares * self.price
        return amount if self.side == Side.SELL else -amount


@dataclass(frozen=True)
class Taken:
    """Shares one sale fill took from one tax lot."""

    fill: Fill
    lot: LotView
    shares: float

    @property
    def gain(self) -> float | None:
        """Realized gain (a loss negative); None where the lot's basis is unknown."""
        basis = self.lot.cost_basis
        return None if basis is None else (self.fill.price - basis) * self.shares

    @property
    def term(self) -> str:
        return holding_term(self.lot.acquired, self.fill.acquired)


def holding_term(acquired: date | None, sold: date) -> str:
    """'short' or 'long' for a lot sold on `sold` (advisor/tax/lots.py's rule)."""
    return "short" if is_short(acquired, sold) else "long"


@dataclass(frozen=True)
class TaxRecord:
    """What apply wrote to the file's `tax:` section."""

    short_term: float  # realized gains added to tax.realized_this_year (losses negative)
    long_term: float
    loss_sales: int  # entries added to tax.recent_sales
    dropped: int  # entries older than KEEP_SALES_DAYS removed from it


@dataclass(frozen=True)
class Applied:
    portfolio: Path
    backup: Path
    fills: tuple[Fill, ...]
    cash_before: float
    cash_after: float
    shares: dict[str, tuple[float, float]]  # ticker: (before, after)
    tax: TaxRecord | None = None  # None: nothing recorded (no lots sold, or not taxable)
    layout: str = "plain"  # how the fills file was read
    skipped: tuple[Skipped, ...] = ()  # its rows that are not fills of the proposal


def apply_fills(
    proposal_path: Path,
    fills_path: Path,
    *,
    portfolio: Path | None = None,
    lot_rule: LotRule | None = None,
    allow_price_move: bool = False,
    today: date | None = None,
) -> Applied:
    """Check the proposal and every fill, then update the portfolio file; raise InputError
    before any write. Sales take the proposal's lots, or `lot_rule`'s where given (hifo where
    the proposal lists none)."""
    from advisor.scoring import load_inputs

    orders = read_orders(proposal_path)
    _check_trades(proposal_path, orders.trades)
    table = read_table(fills_path)
    drop_earlier(table, _run_date(proposal_path), {ticker_key(t.ticker) for t in orders.trades})
    path = portfolio or Path(orders.inputs.portfolio)
    fix = (
        "run apply from the folder where rebalance was run, or give --portfolio PATH"
        if portfolio is None
        else "give the portfolio file the proposal was made from"
    )
    with locked(path, fix) as current:
        _check_unchanged(hashlib.sha256(current.raw).hexdigest(), orders, proposal_path, path)
        loaded, market = load_inputs(current.path)
        _check_unchanged(loaded.sha256, orders, proposal_path, path)  # read again: the same
        whole = loaded.portfolio.limits.whole_shares
        for i, trade in enumerate(orders.trades):
            if market.tickers.resolve(trade.ticker) is None:
                raise InputError(
                    Location(proposal_path, field=f"trades[{i}].ticker"),
                    f"is not in model {market.name}",
                    value=trade.ticker,
                    fix=f"trades must be securities of the portfolio's model; {FIX}",
                )
            if whole and not float(trade.shares).is_integer() and not _sells_all(trade, loaded):
                raise InputError(
                    Location(proposal_path, field=f"trades[{i}].shares"),
                    "is not a whole number of shares, and the portfolio trades whole shares",
                    value=trade.shares,
                    fix=f"trades are in whole shares unless limits.whole_shares is false; {FIX}",
                )
        held: dict[str, float] = defaultdict(float)
        for holding in loaded.portfolio.holdings:
            held[ticker_key(holding.ticker)] += holding.quantity
        fills = read_fills(
            fills_path,
            table,
            list[Order](orders.trades),
            held,
            today or date.today(),
            allow_price_move=allow_price_move,
        )
        cash_before = float(loaded.portfolio.cash)
        cash_after = round(cash_before + math.fsum(f.cash for f in fills), 2)
        if cash_after < 0:
            spent = -math.fsum(f.cash for f in fills)
            raise InputError(
                Location(fills_path, field="buys"),
                f"spend ${spent:,.2f} net of sales, more than the ${cash_before:,.2f} cash held",
                fix="check the prices and share counts (a portfolio file cannot record a "
                "negative cash balance)",
            )
        document = EditableYaml(current.raw.decode("utf-8-sig"))
        before = {t.ticker: document.shares(t.ticker) for t in _traded(orders.trades, fills)}
        taken = _edit(document, orders.trades, fills, lot_rule, proposal_path)
        if loaded.portfolio.prices is None:
            _price_unpriced(document, market, fills)
        record = None
        if loaded.portfolio.tax.account == Account.taxable:  # no tax inside an IRA or a Roth
            record = _record_tax(document, taken, max(f.acquired for f in fills))
        document.set_cash(cash_after)
        backup = current.path.with_name(current.path.name + ".bak")
        # The run date of the check: the last fill's (a lot or a sale dated that day is valid).
        day = max(today or date.today(), *(f.acquired for f in fills))
        check = lambda new: _check_valid(new, current.path, day)  # noqa: E731
        replace(current, document.dump(), check, backup)
    after = {t: (before[t], document.shares(t)) for t in before}
    return Applied(
        current.path,
        backup,
        tuple(fills),
        cash_before,
        cash_after,
        after,
        record,
        table.layout.name,
        tuple(table.skipped),
    )


def _price_unpriced(document: EditableYaml, market: MarketModel, fills: list[Fill]) -> None:
    """A security bought that the model has no price for (a fund such as VOO, priced by
    --prices when proposed) keeps its last fill price as the holding's `price:`, unless the
    file gives one: else the file would not score."""
    last = {fill.ticker: fill for fill in sorted(fills, key=_fill_order) if fill.side == Side.BUY}
    for ticker, fill in last.items():
        resolved = market.tickers.resolve(ticker)
        price = float(market.securities.at[resolved, "price"]) if resolved else math.nan
        holding = document.find(ticker)
        if not price > 0 and holding is not None and "price" not in holding:
            document.set_price(ticker, fill.price)


def _run_date(path: Path) -> date | None:
    """The proposal's run date (`inputs.run_date`; older proposals have none)."""
    try:
        day = json.loads(path.read_bytes())["inputs"].get("run_date") or ""
        return date.fromisoformat(day) if day else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _sells_all(trade: Order, loaded: LoadedPortfolio) -> bool:
    """A sale of a whole holding, part shares included (rebalance proposes such sales)."""
    held = math.fsum(h.quantity for h in loaded.portfolio.holdings
                     if ticker_key(h.ticker) == ticker_key(trade.ticker))  # fmt: skip
    return trade.side == Side.SELL and math.isclose(trade.shares, held, rel_tol=1e-9)


def _check_trades(path: Path, trades: Sequence[Order]) -> None:
    """Every trade a positive, finite number of shares at a positive, finite price, each
    ticker once (fills are matched to trades by ticker)."""
    seen: dict[str, int] = {}
    for i, trade in enumerate(trades):
        for name in ("shares", "price"):
            value = getattr(trade, name)
            if not (math.isfinite(value) and value > 0):
                raise InputError(
                    Location(path, field=f"trades[{i}].{name}"),
                    "is not a positive finite number",
                    value=value,
                    fix=FIX,
                )
        key = ticker_key(trade.ticker)
        if key in seen:
            raise InputError(
                Location(path, field=f"trades[{i}].ticker"),
                f"is traded twice (also trades[{seen[key]}])",
                value=trade.ticker,
                fix=FIX,
            )
        seen[key] = i


def _check_unchanged(digest: str, orders: Orders, proposal_path: Path, path: Path) -> None:
    if digest != orders.inputs.sha256:
        raise InputError(
            Location(path, field="file"),
            f"has changed since the proposal was made: already applied, or edited (sha256 "
            f"{digest[:12]}..., the proposal {proposal_path} was made from "
            f"{orders.inputs.sha256[:12]}...)",
            fix="run `advisor rebalance` again and apply the fills against the new proposal",
        )


def _traded(trades: Sequence[OrderT], fills: list[Fill]) -> list[OrderT]:
    """The trades with at least one fill, in the proposal's order."""
    filled = {ticker_key(f.ticker) for f in fills}
    return [t for t in trades if ticker_key(t.ticker) in filled]


def _edit(
    document: EditableYaml,
    trades: list[LotOrder],
    fills: list[Fill],
    rule: LotRule | None,
    proposal_path: Path,
) -> list[Taken]:
    """Apply the fills as a set: trade by trade in the proposal's order, a ticker's fills by
    date (then price and size): a buy's lots in that order, a sale's fills taking lots in turn.
    So the fills file's order does not matter. The shares each sale took from each lot."""
    by_ticker: dict[str, list[Fill]] = defaultdict(list)
    for fill in fills:
        by_ticker[ticker_key(fill.ticker)].append(fill)
    taken: list[Taken] = []
    for trade in _traded(trades, fills):
        group = sorted(by_ticker[ticker_key(trade.ticker)], key=_fill_order)
        if trade.side == Side.BUY:
            for fill in group:
                document.buy(trade.ticker, fill.shares, fill.price, fill.acquired)
            continue
        lots = document.lots(trade.ticker)
        if lots is None:  # shares without lots: no basis, nothing to choose
            document.sell(trade.ticker, math.fsum(f.shares for f in group), LotRule.hifo.value)
            continue
        if rule is None and trade.lots:
            index = next(i for i, t in enumerate(trades) if t is trade)
            order = _proposal_lots(proposal_path, index, trade, lots)
        else:
            chosen = (rule or LotRule.hifo).value
            order = [(i, lots[i].shares) for i in document.lot_order(trade.ticker, chosen)]
        sold = _take(order, lots, group)
        per_lot: dict[int, float] = defaultdict(float)
        for position, piece in sold:
            per_lot[position] += piece.shares
        document.take(trade.ticker, per_lot)
        taken += [piece for _, piece in sold]
    return taken


def _fill_order(fill: Fill) -> tuple[date, float, float]:
    return (fill.acquired, fill.price, fill.shares)


def _proposal_lots(
    path: Path, index: int, trade: LotOrder, lots: list[LotView]
) -> list[tuple[int, float]]:
    """The file's lots the proposal's lots name, as (position in the file, shares), in the
    proposal's order. A lot is named by its acquired date and cost basis; lots alike in both
    are taken in the file's order."""
    where = f"trades[{index}].lots"
    total = math.fsum(sale.shares for sale in trade.lots)
    if not math.isclose(total, trade.shares, rel_tol=1e-7):
        raise InputError(
            Location(path, field=where),
            f"add up to {total:g} shares, not the {trade.shares:g} the trade sells",
            fix=f"the lots of a sell sum to its shares; {FIX}",
        )
    left = [lot.shares for lot in lots]
    order: list[tuple[int, float]] = []
    for j, sale in enumerate(trade.lots):
        need = sale.shares
        for position, lot in enumerate(lots):
            if need <= 0 or left[position] <= 0 or not _same_lot(sale, lot):
                continue
            # The proposal keeps 8 significant digits: a lot it sells whole is taken whole.
            whole = math.isclose(need, left[position], rel_tol=1e-7)
            shares = left[position] if whole else min(left[position], need)
            order.append((position, shares))
            left[position] -= shares
            need = 0.0 if whole else need - shares
        if need > 1e-7 * sale.shares:
            basis = "unknown" if sale.cost_basis is None else f"{sale.cost_basis:g}"
            raise InputError(
                Location(path, field=f"{where}[{j}]"),
                f"is not a lot of {trade.ticker} in the portfolio file ({need:g} of its "
                f"{sale.shares:g} shares acquired {sale.acquired or 'on an unknown date'} at "
                f"cost basis {basis} are not there)",
                fix=f"give --lots hifo, fifo or lifo to choose the lots by a rule; or {FIX}",
            )
    return order


def _same_lot(sale: LotSale, lot: LotView) -> bool:
    acquired = lot.acquired.isoformat() if lot.acquired is not None else ""
    if sale.acquired != acquired:
        return False
    if sale.cost_basis is None or lot.cost_basis is None:
        return sale.cost_basis is None and lot.cost_basis is None
    return math.isclose(sale.cost_basis, lot.cost_basis, rel_tol=1e-7, abs_tol=1e-9)


def _take(
    order: list[tuple[int, float]], lots: list[LotView], fills: list[Fill]
) -> list[tuple[int, Taken]]:
    """The sale fills take shares from the lots in `order`, each (position, shares) at most,
    one fill after another."""
    queue = [list(item) for item in order]
    sold: list[tuple[int, Taken]] = []
    for fill in fills:
        left = fill.shares
        for item in queue:
            if left <= 1e-9 * fill.shares:
                break
            position, room = int(item[0]), item[1]
            shares = min(room, left)
            if shares <= 0:
                continue
            item[1] -= shares
            left -= shares
            sold.append((position, Taken(fill, lots[position], shares)))
    return sold


def _record_tax(document: EditableYaml, taken: list[Taken], day: date) -> TaxRecord | None:
    """Realized gains, loss sales and the pruning of old loss sales, in the file's `tax:`.
    Only lots with a known basis realize a gain: a file without any writes nothing new."""
    known = [piece for piece in taken if piece.gain is not None]
    short = _gain(p for p in known if p.term == "short")
    long = _gain(p for p in known if p.term == "long")
    losses: dict[tuple[str, date], list[Taken]] = defaultdict(list)
    for piece in known:
        if (piece.gain or 0.0) < 0:
            losses[(piece.fill.ticker, piece.fill.acquired)].append(piece)
    if known:
        document.add_realized(short, long)
    if losses:
        document.add_loss_sales(
            LossSale(ticker, when, math.fsum(p.shares for p in pieces), -_gain(pieces))
            for (ticker, when), pieces in losses.items()
        )
    dropped = document.drop_sales_before(day - timedelta(days=KEEP_SALES_DAYS))
    if not known and not dropped:
        return None
    return TaxRecord(short, long, len(losses), dropped)


def _gain(pieces: Iterable[Taken]) -> float:
    return math.fsum(piece.gain or 0.0 for piece in pieces)


def _check_valid(new: Path, path: Path, day: date) -> None:
    """The updated file must pass the checks of `advisor validate` (at run date `day`), or
    nothing is written."""
    from advisor.scoring import load_inputs, positions

    try:
        loaded, market = load_inputs(new)
        positions(loaded, market)
        check_tax(loaded, day)
    except InputError as exc:
        where = Location(path, exc.location.line, exc.location.field)
        raise InputError(
            where,
            f"would not be valid after the fills ({exc.problem}); nothing was written",
            value=exc.value,
            fix=exc.fix or "check the fills",
        ) from exc


def read_fills(
    path: Path,
    table: FillTable,
    trades: list[Order],
    held: dict[str, float],
    today: date,
    *,
    allow_price_move: bool = False,
) -> list[Fill]:
    """Check each fill of the fills file against the proposal and the holdings. In a broker's
    export, a trade of a security the proposal does not trade is skipped (and listed)."""
    proposed = {ticker_key(t.ticker): t for t in trades}
    filled: dict[str, float] = defaultdict(float)
    fills = []
    for row in table.rows:
        if table.layout.broker and ticker_key(row.values["ticker"]) not in proposed:
            why = f"{row.values['ticker']}: not a trade of the proposal"
            table.skipped.append(Skipped(row.line, why))
            continue
        fill = _fill(path, row, proposed, today, allow_price_move)
        key = ticker_key(fill.ticker)
        filled[key] += fill.shares
        total, trade = filled[key], proposed[key]
        if fill.side == Side.SELL and total > held.get(key, 0.0) * (1 + TOLERANCE):
            raise InputError(
                Location(path, row.line, row.columns["shares"]),
                f"sells {total:g} {fill.ticker} in all but the portfolio holds "
                f"{held.get(key, 0.0):g}",
                value=row.values["shares"],
                fix="a sale cannot exceed the shares held; check the fills",
            )
        if total > trade.shares * (1 + TOLERANCE):
            raise InputError(
                Location(path, row.line, row.columns["shares"]),
                f"fills {total:g} {fill.ticker} in all, more than the {trade.shares:g} proposed",
                value=row.values["shares"],
                fix="fills may be partial but never exceed the proposal",
            )
        fills.append(fill)
    table.skipped.sort(key=lambda s: s.line)
    if not fills:
        skipped = f" ({len(table.skipped)} row(s) skipped)" if table.skipped else ""
        raise InputError(
            Location(path, field="file"),
            f"has no fills{skipped}",
            fix="list one fill a line: ticker,side,shares,price[,date], or give the broker's "
            "export of the trades the proposal made",
        )
    return fills


def _fill(
    path: Path,
    row: FillRow,
    proposed: dict[str, Order],
    today: date,
    allow_price_move: bool,
) -> Fill:
    def error(name: str, problem: str, fix: str) -> InputError:
        return InputError(
            Location(path, row.line, row.columns[name]), problem, value=row.values[name], fix=fix
        )

    broker = row.side is not None
    trade = proposed.get(ticker_key(row.values["ticker"]))
    if trade is None:
        known = ", ".join(t.ticker for t in proposed.values()) or "none"
        raise error(
            "ticker",
            "is not a trade in the proposal",
            f"fills must be trades the proposal made (proposed: {known}); make a new "
            "proposal for other trades",
        )
    side = row.side
    if side is None:
        try:
            side = Side(row.values["side"].upper())
        except ValueError:
            raise error("side", "is not a side", "write BUY or SELL") from None
    if side != trade.side:
        raise error(
            "side",
            f"is not the proposal's side ({trade.side} {trade.ticker})",
            f"the proposal {trade.side.lower()}s {trade.ticker}",
        )
    shares = _number(row.values["shares"], broker)
    if shares is None:
        raise error("shares", "is not a positive number", "write the shares filled, e.g. 59")
    price = _number(row.values["price"], broker)
    if price is None:
        raise error(
            "price",
            "is not a positive number",
            "write the price per share, e.g. 190.04"
            + ("" if broker else " (no $ or thousands separators)"),
        )
    move = price / trade.price - 1
    if abs(move) > MAX_PRICE_MOVE + 1e-12 and not allow_price_move:
        raise error(
            "price",
            f"is {move:+.1%} from the proposal's price {trade.price:g} for {trade.ticker}, "
            f"more than the {MAX_PRICE_MOVE:.0%} allowed",
            "check the fill (a typo?); if the price really moved that far, give --allow-price-move",
        )
    acquired = today
    if row.values.get("date"):
        day = parse_date(row.values["date"]) if broker else _iso_day(row.values["date"])
        if day is None:
            raise error("date", "is not a date", "write the trade date as YYYY-MM-DD")
        acquired = day
    return Fill(row.line, trade.ticker, side, shares, price, acquired)


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _number(text: str, broker: bool) -> float | None:
    """A positive number: a plain decimal such as 59 or 190.04 in the plain layout; in a
    broker's export as the broker writes it ($1,234.50), its sign dropped (brokers show a
    sale's quantity as negative). None for anything else."""
    if broker:
        value = broker_number(text)
        return abs(value) if value else None
    if not NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if value > 0 else None
