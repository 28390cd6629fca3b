"""Applying executed fills to the portfolio file (`advisor apply`).

A saved proposal says which file it was made from (its path and sha256) and which trades it
proposed. The fills a broker executed (ticker, side, shares, price, optional date) are checked
against both, then the file's holdings, tax lots and cash are updated in place: ruamel.yaml's
round trip keeps comments and layout, the old file is kept as `<name>.bak`, and both writes are
atomic. Nothing is written unless every fill is valid.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

from advisor.enums import Side
from advisor.errors import InputError, Location
from advisor.portfolio import Portfolio
from advisor.portfolio.editing import EditableYaml
from advisor.portfolio.loading import load_portfolio
from advisor.portfolio.tickers import ticker_key
from advisor.proposal import Order, Orders, read_orders
from advisor.writing import write_atomic

REQUIRED = ("ticker", "side", "shares", "price")
OPTIONAL = ("date",)
TOLERANCE = 1e-9  # relative slack when comparing share counts


class LotRule(StrEnum):
    """Which tax lots a sale takes shares from first."""

    hifo = "hifo"  # highest cost basis first (lots without a basis last): the default
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
class Applied:
    portfolio: Path
    backup: Path
    fills: tuple[Fill, ...]
    cash_before: float
    cash_after: float
    shares: dict[str, tuple[float, float]]  # ticker: (before, after)


def apply_fills(
    proposal_path: Path,
    fills_path: Path,
    *,
    portfolio: Path | None = None,
    lot_rule: LotRule = LotRule.hifo,
    today: date | None = None,
) -> Applied:
    """Check every fill, then update the portfolio file; raise InputError before any write."""
    orders = read_orders(proposal_path)
    path, raw = _portfolio_bytes(orders, proposal_path, portfolio)
    loaded = load_portfolio(path)
    held: dict[str, float] = defaultdict(float)
    for holding in loaded.portfolio.holdings:
        held[ticker_key(holding.ticker)] += holding.quantity
    fills = read_fills(fills_path, orders.trades, held, today or date.today())
    document = EditableYaml(raw.decode("utf-8-sig"))
    before = {f.ticker: document.shares(f.ticker) for f in fills}
    cash_before = float(loaded.portfolio.cash)
    cash_after = round(cash_before + math.fsum(f.cash for f in fills), 2)
    if cash_after < 0:
        spent = -math.fsum(f.cash for f in fills)
        raise InputError(
            Location(fills_path, field="buys"),
            f"spend ${spent:,.2f} net of sales, more than the ${cash_before:,.2f} cash held",
            fix="check the prices and share counts (a portfolio file cannot record a negative "
            "cash balance)",
        )
    for fill in fills:
        if fill.side == Side.BUY:
            document.buy(fill.ticker, fill.shares, fill.price, fill.acquired)
        else:
            document.sell(fill.ticker, fill.shares, lot_rule.value)
    document.set_cash(cash_after)
    text = document.dump()
    _check_valid(text)
    backup = path.with_name(path.name + ".bak")
    write_atomic(backup, raw)
    write_atomic(path, text)
    after = {t: (before[t], document.shares(t)) for t in before}
    return Applied(path, backup, tuple(fills), cash_before, cash_after, after)


def _portfolio_bytes(
    orders: Orders, proposal_path: Path, override: Path | None
) -> tuple[Path, bytes]:
    inputs = orders.inputs
    path = override or Path(inputs.portfolio)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        fix = (
            "run apply from the folder where rebalance was run, or give --portfolio PATH"
            if override is None
            else "give the portfolio file the proposal was made from"
        )
        raise InputError(
            Location(path, field="file"), f"cannot be read ({exc.strerror})", fix=fix
        ) from exc
    digest = hashlib.sha256(raw).hexdigest()
    if digest != inputs.sha256:
        raise InputError(
            Location(path, field="file"),
            f"has changed since the proposal was made (sha256 {digest[:12]}..., the proposal "
            f"{proposal_path} was made from {inputs.sha256[:12]}...)",
            fix="run `advisor rebalance` again and apply the fills against the new proposal",
        )
    return path, raw


def read_fills(path: Path, trades: list[Order], held: dict[str, float], today: date) -> list[Fill]:
    """Parse the fills CSV and check each fill against the proposal and the holdings."""
    rows = _rows(path)
    proposed = {ticker_key(t.ticker): t for t in trades}
    filled: dict[str, float] = defaultdict(float)
    fills = []
    for line, row in rows:
        fill = _fill(path, line, row, proposed, today)
        key = ticker_key(fill.ticker)
        filled[key] += fill.shares
        total, trade = filled[key], proposed[key]
        if fill.side == Side.SELL and total > held.get(key, 0.0) * (1 + TOLERANCE):
            raise InputError(
                Location(path, line, "shares"),
                f"sells {total:g} {fill.ticker} in all but the portfolio holds "
                f"{held.get(key, 0.0):g}",
                value=row["shares"],
                fix="a sale cannot exceed the shares held; check the fills",
            )
        if total > trade.shares * (1 + TOLERANCE):
            raise InputError(
                Location(path, line, "shares"),
                f"fills {total:g} {fill.ticker} in all, more than the {trade.shares:g} proposed",
                value=row["shares"],
                fix="fills may be partial but never exceed the proposal",
            )
        fills.append(fill)
    if not fills:
        raise InputError(
            Location(path, field="file"),
            "has no fills",
            fix="list one fill a line: ticker,side,shares,price[,date]",
        )
    return fills


def _rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(
            Location(path, field="file"),
            f"cannot be read ({exc.strerror})",
            fix="give the path of the fills CSV",
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            Location(path, field="file"), "is not UTF-8 text", fix="save it as CSV (UTF-8)"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if header is None:
                header = _header(path, reader.line_num, values)
                continue
            if len(values) != len(header):
                raise InputError(
                    Location(path, reader.line_num, "row"),
                    f"has {len(values)} fields, the header has {len(header)}",
                    fix="one value per column: " + ",".join(header),
                )
            rows.append(
                (reader.line_num, dict(zip(header, (v.strip() for v in values), strict=True)))
            )
    except csv.Error as exc:
        raise InputError(
            Location(path, reader.line_num, "CSV"),
            f"is not valid CSV ({exc})",
            fix="check the quotes on this line",
        ) from exc
    if header is None:
        raise InputError(
            Location(path, field="file"),
            "is empty",
            fix="start with the header ticker,side,shares,price[,date]",
        )
    return rows


def _header(path: Path, line: int, values: list[str]) -> list[str]:
    names = [v.strip().lower() for v in values]
    for name in names:
        if name not in REQUIRED + OPTIONAL:
            raise InputError(
                Location(path, line, "header"),
                "is an unknown column",
                value=name,
                fix="the columns are ticker, side, shares, price and optional date",
            )
        if names.count(name) > 1:
            raise InputError(
                Location(path, line, "header"),
                "is a repeated column",
                value=name,
                fix="give each column once",
            )
    for name in REQUIRED:
        if name not in names:
            raise InputError(
                Location(path, line, "header"),
                f"lacks the column {name!r}",
                fix="the columns are ticker, side, shares, price and optional date",
            )
    return names


def _fill(
    path: Path, line: int, row: dict[str, str], proposed: dict[str, Order], today: date
) -> Fill:
    def error(field: str, problem: str, fix: str) -> InputError:
        return InputError(Location(path, line, field), problem, value=row[field], fix=fix)

    trade = proposed.get(ticker_key(row["ticker"]))
    if trade is None:
        known = ", ".join(t.ticker for t in proposed.values()) or "none"
        raise error(
            "ticker",
            "is not a trade in the proposal",
            f"fills must be trades the proposal made (proposed: {known}); make a new "
            "proposal for other trades",
        )
    try:
        side = Side(row["side"].upper())
    except ValueError:
        raise error("side", "is not a side", "write BUY or SELL") from None
    if side != trade.side:
        raise error(
            "side",
            f"is not the proposal's side ({trade.side} {trade.ticker})",
            f"the proposal {trade.side.lower()}s {trade.ticker}",
        )
    shares = _positive(row["shares"])
    if shares is None:
        raise error("shares", "is not a positive number", "write the shares filled, e.g. 59")
    price = _positive(row["price"])
    if price is None:
        raise error(
            "price",
            "is not a positive number",
            "write the price per share, e.g. 190.04 (no $ or thousands separators)",
        )
    acquired = today
    if "date" in row:
        try:
            acquired = date.fromisoformat(row["date"])
        except ValueError:
            raise error("date", "is not a date", "write the trade date as YYYY-MM-DD") from None
    return Fill(line, trade.ticker, side, shares, price, acquired)


def _positive(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _check_valid(text: str) -> None:
    """The updated file must still be a valid portfolio (a failure here is a bug)."""
    from ruamel.yaml import YAML

    Portfolio.model_validate(YAML(typ="safe", pure=True).load(text), strict=True)
