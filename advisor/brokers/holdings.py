"""An account of an export turned into the portfolio file's holdings, cash and prices: each
row matched to the model's ticker, cash and money-market rows summed into cash, lots where the
export gives them (else one lot at the average cost, its date unknown), and every row not
imported kept with its reason."""

from __future__ import annotations

import math
import re
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date

from advisor.brokers.table import Account, Export, Lot, Position, Skipped, words
from advisor.errors import InputError, Location
from advisor.portfolio.model import MAX_PRICE, MAX_SHARES
from advisor.portfolio.tickers import TickerIndex

# US fund symbols are five letters ending in X; money-market funds end in XX (SPAXX, VMFXX).
_MONEY_MARKET_SYMBOL = re.compile(r"^[A-Z]{3}XX$")
_MUTUAL_FUND_SYMBOL = re.compile(r"^[A-Z]{4}X$")
_FUND_WORDS = ("etf", "fund", "trust", "index", "portfolio", "admiral", "investor", "closed end")
# An option: OCC symbols (AAPL261218C00200000), Fidelity's " -NVDA261218C200", Schwab's
# "AAPL 12/18/2026 200.00 C".
_OPTION = re.compile(r"^-|^[A-Z.]{1,6}\s*\d{6}[CP]\d+|\d{1,2}/\d{1,2}/\d{2,4} .*[CP]$")


@dataclass(frozen=True)
class Imported:
    """One account ready to write: holdings by the model's ticker, cash, prices."""

    export: Export
    account: Account
    model_name: str
    as_of: date
    as_of_from: str  # "the export" or "the file's date"
    holdings: dict[str, tuple[float, list[Lot] | None]]  # ticker -> shares, lots
    prices: dict[str, float]
    cash: float
    cash_rows: list[str]
    skipped: list[Skipped]
    unknown_dates: list[str] = field(default_factory=list)  # one lot at the average cost
    no_basis: list[str] = field(default_factory=list)


def choose_account(export: Export, wanted: str | None) -> Account:
    """The account named by --account (its name or number, whole or a unique part), or the
    only one; several without --account is an error listing them."""
    accounts = [a for a in export.accounts if a.positions or a.cash]
    listed = "; ".join(a.label for a in accounts)
    where = Location(export.path, None, "--account")
    if wanted is None:
        if len(accounts) == 1:
            return accounts[0]
        if not accounts:
            raise InputError(Location(export.path), "holds no positions", fix="check the export")
        raise InputError(
            where,
            f"is needed: the export holds {len(accounts)} accounts ({listed})",
            fix=f"pick one, e.g. --account {accounts[0].number or accounts[0].name!r}",
        )
    key = wanted.strip().lower()
    exact = [a for a in accounts if key in (a.name.lower(), a.number.lower(), a.label.lower())]
    partial = [a for a in accounts if key in a.label.lower()]
    found = exact or partial
    if len(found) == 1:
        return found[0]
    problem = "matches no account" if not found else "matches several accounts"
    raise InputError(where, problem, value=wanted, fix=f"the export holds: {listed}")


def money_market(position: Position) -> bool:
    """Cash in all but name: the broker says so, or a money-market fund's symbol or name."""
    described = f"{position.description} {position.kind}".lower()
    return (
        position.cash
        or bool(_MONEY_MARKET_SYMBOL.match(position.symbol.upper()))
        or "money market" in described
    )


def looks_like_fund(position: Position) -> bool:
    described = f" {words(position.description)} {words(position.kind)} "
    return bool(_MUTUAL_FUND_SYMBOL.match(position.symbol.upper())) or any(
        f" {word} " in described for word in _FUND_WORDS
    )


def _value(position: Position) -> float | None:
    if position.value is not None:
        return position.value
    if position.shares is not None and position.price is not None:
        return position.shares * position.price
    return None


def import_account(
    export: Export,
    account: Account,
    index: TickerIndex,
    model_name: str,
    file_day: date,
    model_priced: Container[str] = frozenset(),
) -> Imported:
    """The account's holdings by the model's ticker; `model_priced` are the tickers the model
    has a price for (a holding neither priced there nor by the export is refused)."""
    skipped = [*export.skipped, *account.skipped]
    cash = sum(value for _, _, value in account.cash)
    cash_rows = [f"line {line} {label} {value:,.2f}" for line, label, value in account.cash]
    found: dict[str, list[Position]] = {}
    for position in account.positions:
        symbol = position.symbol.strip()
        if symbol and money_market(position):
            value = _value(position)
            if value is None:
                value = position.shares or 0.0  # a money-market share is worth $1
            cash += value
            cash_rows.append(f"line {position.line} {symbol} {value:,.2f}")
            continue
        reason = _not_held(position, index, model_name)
        if reason:
            skipped.append(Skipped(position.line, symbol or "(no symbol)", reason))
            continue
        ticker = index.resolve(symbol)
        assert ticker is not None
        found.setdefault(ticker, []).append(position)
    if cash < 0:
        line = account.cash[0][0] if account.cash else None
        raise InputError(
            Location(export.path, line, "cash"),
            f"adds up to {cash:,.2f}, below zero (a margin loan)",
            fix="a portfolio file holds cash of 0 or more; repay the loan or edit cash by hand",
        )
    holdings: dict[str, tuple[float, list[Lot] | None]] = {}
    prices: dict[str, float] = {}
    unknown_dates: list[str] = []
    no_basis: list[str] = []
    for ticker, rows in found.items():
        shares = sum(p.shares or 0.0 for p in rows)
        lots = _lots(rows, shares)
        holdings[ticker] = (shares, lots)
        if lots is None:
            no_basis.append(ticker)
        elif any(lot.acquired is None for lot in lots):
            unknown_dates.append(ticker)
        price = next((p.price for p in rows if p.price), None)
        if price is None:
            value = sum(_value(p) or 0.0 for p in rows)
            price = value / shares if value > 0 else None
        if price is not None and 0 < price <= MAX_PRICE:
            prices[ticker] = price
        elif ticker not in model_priced:
            raise InputError(
                Location(export.path, rows[0].line, "price"),
                f"is missing for {ticker}, and model {model_name} has no price for it",
                value=None if price is None else f"{price:g}",
                fix="give the export with its prices, or add the holding's price: by hand",
            )
    dated = export.as_of is not None
    skipped.sort(key=lambda entry: entry.line)
    return Imported(
        export,
        account,
        model_name,
        export.as_of or file_day,
        "the export" if dated else "the file's date",
        holdings,
        prices,
        round(cash, 2),
        cash_rows,
        skipped,
        unknown_dates,
        no_basis,
    )


def _not_held(position: Position, index: TickerIndex, model_name: str) -> str:
    """Why a row is not imported as a holding; "" where it is."""
    symbol = position.symbol.strip()
    if not symbol:
        return "no symbol: not a position"
    if _OPTION.search(symbol) or "option" in position.kind.lower():
        return "an option: the portfolio file holds stocks and funds"
    if position.shares is None or position.shares == 0:
        return "no quantity"
    if position.shares < 0:
        return f"a short position ({position.shares:g} shares): the portfolio file holds long ones"
    if not math.isfinite(position.shares) or position.shares > MAX_SHARES:
        return f"{position.shares:g} shares: more than the {MAX_SHARES:g} a holding may have"
    if index.resolve(symbol) is not None:
        return ""
    value = _value(position)
    worth = f" (worth {value:,.2f})" if value is not None else ""
    reason = f"not in model {model_name}{worth}: kept out"
    if looks_like_fund(position):
        reason += (
            "; a fund: give its holdings file under `funds:` in the portfolio file "
            "(README, Funds) and add the holding"
        )
    return reason


def _lots(rows: list[Position], shares: float) -> list[Lot] | None:
    """The export's lots; else one lot at the average cost per row (date unknown); None where
    a row has no cost basis."""
    lots: list[Lot] = []
    for row in rows:
        if row.lots:
            lots += row.lots
        elif row.cost_total is not None and row.cost_total >= 0 and row.shares:
            lots.append(Lot(row.shares, row.cost_total / row.shares, None))
        else:
            return None
    if not math.isclose(sum(lot.shares for lot in lots), shares, rel_tol=1e-9):
        # Lot rows that do not add up to the summary: the average over the summary instead.
        costs = [row.cost_total for row in rows]
        if None in costs:
            return None
        return [Lot(shares, sum(c or 0.0 for c in costs) / shares, None)]
    if any(lot.cost_basis is not None and lot.cost_basis > MAX_PRICE for lot in lots):
        return None
    return lots
