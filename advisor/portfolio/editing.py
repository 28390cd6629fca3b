"""Editing a portfolio file in place: holdings, tax lots, cash and the `tax:` record of
realized gains and loss sales, keeping comments and layout.

ruamel.yaml's round trip keeps comments, key order, quoting and flow style (`{ticker: X,
shares: N}` stays on its line); the indentation is read from the file itself. Only what a fill
changes is touched.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from advisor.portfolio.tickers import ticker_key

NO_DATE = date.max  # sorts lots without an acquired date after every dated one
EMPTY = 1e-9  # shares left in a lot below this are none (share counts are kept to 6 decimals)


@dataclass(frozen=True)
class LotView:
    """A tax lot as the file holds it."""

    shares: float
    cost_basis: float | None
    acquired: date | None


@dataclass(frozen=True)
class LossSale:
    """A sale at a loss, for `tax.recent_sales`."""

    ticker: str
    day: date
    shares: float
    loss: float


class EditableYaml:
    def __init__(self, text: str) -> None:
        self.yaml = YAML(typ="rt")
        self.yaml.preserve_quotes = True
        self.yaml.width = 4096  # never re-wrap a long line
        self.doc: CommentedMap = self.yaml.load(text)
        mapping, sequence, offset = _indentation(self.doc)
        self.yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        if "holdings" not in self.doc or self.doc["holdings"] is None:
            self.doc["holdings"] = CommentedSeq()
        self.holdings: CommentedSeq = self.doc["holdings"]
        # Decided once, from the file as it was: a sale emptying the last lots must not change
        # how a buy of a new holding is written (fills are applied in any order).
        self.keeps_lots = any(isinstance(h, CommentedMap) and "lots" in h for h in self.holdings)

    def dump(self) -> str:
        out = io.StringIO()
        self.yaml.dump(self.doc, out)
        return out.getvalue()

    def find(self, ticker: str) -> CommentedMap | None:
        key = ticker_key(ticker)
        for holding in self.holdings:
            if ticker_key(str(holding["ticker"])) == key:
                return holding  # type: ignore[no-any-return]
        return None

    def shares(self, ticker: str) -> float:
        holding = self.find(ticker)
        if holding is None:
            return 0.0
        if holding.get("lots"):
            return float(sum(lot["shares"] for lot in holding["lots"]))
        return float(holding.get("shares") or 0)

    def set_cash(self, cash: float) -> None:
        self.doc["cash"] = _scalar(f"{cash:.2f}")

    def buy(self, ticker: str, shares: float, price: float, acquired: date) -> None:
        """More shares of a holding; a new lot where the holding (or the file) keeps lots."""
        holding = self.find(ticker)
        if holding is None:
            holding = self._new_holding(ticker, self.keeps_lots)
        if "lots" in holding:
            lots = holding["lots"]
            lot = _like(
                lots[-1] if lots else None,
                {"shares": _number(shares), "cost_basis": _number(price), "acquired": acquired},
            )
            lots.append(lot)
            if "shares" in holding:
                holding["shares"] = _number(self.shares(ticker))
        else:
            holding["shares"] = _number(float(holding.get("shares") or 0) + shares)

    def set_price(self, ticker: str, price: float) -> None:
        """The holding's `price:` (for a security the model has no price for)."""
        holding = self.find(ticker)
        if holding is None:  # the caller bought it; a bug if reached
            raise KeyError(ticker)
        holding["price"] = _number(price)

    def lots(self, ticker: str) -> list[LotView] | None:
        """The holding's lots in file order; None for a holding without lots."""
        holding = self.find(ticker)
        if holding is None or "lots" not in holding:
            return None
        return [
            LotView(float(lot["shares"]), _optional(lot.get("cost_basis")), lot.get("acquired"))
            for lot in holding["lots"]
        ]

    def lot_order(self, ticker: str, rule: str) -> list[int]:
        """The positions of the holding's lots in the order `rule` (hifo, fifo, lifo) sells
        them."""
        lots = self.find(ticker)["lots"]  # type: ignore[index]
        return sorted(range(len(lots)), key=lambda i: _lot_order(lots[i], i, rule))

    def sell(self, ticker: str, shares: float, rule: str) -> None:
        """Fewer shares; lots lose shares in the order `rule` gives (hifo, fifo or lifo)."""
        holding = self.find(ticker)
        if holding is None:  # the caller checked the holdings; a bug if reached
            raise KeyError(ticker)
        if "lots" not in holding:
            holding["shares"] = _number(max(float(holding["shares"]) - shares, 0.0))
            return
        taken: dict[int, float] = {}
        left = shares
        for index in self.lot_order(ticker, rule):
            taken[index] = min(float(holding["lots"][index]["shares"]), left)
            left -= taken[index]
            if left <= 1e-12:
                break
        self.take(ticker, taken)

    def take(self, ticker: str, taken: Mapping[int, float]) -> None:
        """Remove shares from lots by their position in the holding's `lots:`; emptied lots
        are removed, and a holding with none left keeps `shares: 0`."""
        holding = self.find(ticker)
        if holding is None:  # the caller checked the holdings; a bug if reached
            raise KeyError(ticker)
        lots: CommentedSeq = holding["lots"]
        for index, shares in taken.items():
            lots[index]["shares"] = _number(float(lots[index]["shares"]) - shares)
        for index in reversed(range(len(lots))):
            if float(lots[index]["shares"]) <= EMPTY:
                del lots[index]
        if not lots:  # every lot sold: the holding stays, with no shares
            position = list(holding).index("lots")
            del holding["lots"]
            holding.pop("shares", None)
            holding.insert(position, "shares", 0)
        elif "shares" in holding:
            holding["shares"] = _number(self.shares(ticker))

    def add_realized(self, short_term: float, long_term: float) -> None:
        """Add realized gains (losses negative, USD) to `tax.realized_this_year`."""
        tax = self._tax()
        realized = tax.get("realized_this_year")
        if not isinstance(realized, CommentedMap):
            realized = CommentedMap(short_term=0, long_term=0)
            realized.fa.set_flow_style()
            tax["realized_this_year"] = realized
        for key, amount in (("short_term", short_term), ("long_term", long_term)):
            realized[key] = _cents(float(realized.get(key) or 0) + amount)

    def add_loss_sales(self, sales: Iterable[LossSale]) -> None:
        """Append sales at a loss to `tax.recent_sales`, one `{ticker, date, shares, loss}`
        line each."""
        tax = self._tax()
        recent = tax.get("recent_sales")
        if not isinstance(recent, CommentedSeq):
            recent = CommentedSeq()
            recent.fa.set_block_style()
            tax["recent_sales"] = recent
        for sale in sales:
            values = {
                "ticker": sale.ticker,
                "date": sale.day,
                "shares": _number(sale.shares),
                "loss": _cents(sale.loss),
            }
            recent.append(_like(recent[-1] if len(recent) else None, values))

    def drop_sales_before(self, day: date) -> int:
        """Remove `tax.recent_sales` entries dated before `day`; how many went."""
        tax = self.doc.get("tax")
        recent = tax.get("recent_sales") if isinstance(tax, CommentedMap) else None
        if not isinstance(recent, CommentedSeq):
            return 0
        old = [i for i, sale in enumerate(recent) if _before(sale, day)]
        for index in reversed(old):
            del recent[index]
        return len(old)

    def _tax(self) -> CommentedMap:
        """The `tax:` mapping, added at the end of the file where it has none."""
        tax = self.doc.get("tax")
        if not isinstance(tax, CommentedMap):
            tax = CommentedMap()
            tax.fa.set_block_style()
            self.doc["tax"] = tax
        return tax

    def _new_holding(self, ticker: str, keeps_lots: bool) -> CommentedMap:
        """Appended in the style of the file: a flow `{ticker: X, shares: 0}` after flow
        holdings; a block mapping with `lots:` where the file keeps tax lots."""
        last = self.holdings[-1] if len(self.holdings) else None
        holding = CommentedMap(ticker=ticker)
        if keeps_lots:
            holding["lots"] = CommentedSeq()
            holding.fa.set_block_style()
        else:
            holding["shares"] = 0
            flow = not isinstance(last, CommentedMap) or last.fa.flow_style()
            if flow:
                holding.fa.set_flow_style()
            else:
                holding.fa.set_block_style()
        self.holdings.append(holding)
        return holding


def _lot_order(lot: Any, index: int, rule: str) -> tuple[Any, ...]:
    acquired = lot.get("acquired") or NO_DATE
    if rule == "fifo":
        return (acquired, index)
    if rule == "lifo":
        return (acquired == NO_DATE, -acquired.toordinal(), -index)
    cost = lot.get("cost_basis")
    return (cost is None, -(cost or 0.0), index)


def _like(example: Any, values: dict[str, Any]) -> CommentedMap:
    """A new mapping in the style of `example` (flow `{...}` unless it is a block mapping)."""
    mapping = CommentedMap(values)
    if isinstance(example, CommentedMap) and not example.fa.flow_style():
        mapping.fa.set_block_style()
    else:
        mapping.fa.set_flow_style()
    return mapping


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


def _before(sale: Any, day: date) -> bool:
    when = sale.get("date") if isinstance(sale, CommentedMap) else None
    return isinstance(when, date) and when < day


def _cents(value: float) -> int | float:
    return _number(round(value, 2))


def _number(value: float) -> int | float:
    rounded = round(value, 6)
    return int(rounded) if float(rounded).is_integer() else rounded


def _scalar(text: str) -> Any:
    """A number that prints as `text` (e.g. 40000.00 keeps its two decimals)."""
    return YAML(typ="rt").load(text)


def _indentation(doc: CommentedMap) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file writes them."""
    mapping, sequence, offset = 2, 4, 2  # the project's own style
    found_map = found_seq = False
    for key, value in doc.items():
        column = doc.lc.key(key)[1]
        if (
            isinstance(value, CommentedMap)
            and not found_map
            and not value.fa.flow_style()
            and value
        ):
            mapping, found_map = value.lc.col - column, True
        if (
            isinstance(value, CommentedSeq)
            and not found_seq
            and not value.fa.flow_style()
            and value
        ):
            offset = value.lc.col - column
            sequence, found_seq = value.lc.item(0)[1] - column, True
    return max(mapping, 1), max(sequence, offset + 2), offset
