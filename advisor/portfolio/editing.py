"""Editing a portfolio file in place: holdings, tax lots and cash, keeping comments and layout.

ruamel.yaml's round trip keeps comments, key order, quoting and flow style (`{ticker: X,
shares: N}` stays on its line); the indentation is read from the file itself. Only what a fill
changes is touched.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from advisor.portfolio.tickers import ticker_key

NO_DATE = date.max  # sorts lots without an acquired date after every dated one


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

    def sell(self, ticker: str, shares: float, rule: str) -> None:
        """Fewer shares; lots lose shares in the order `rule` gives (hifo, fifo or lifo)."""
        holding = self.find(ticker)
        if holding is None:  # the caller checked the holdings; a bug if reached
            raise KeyError(ticker)
        if "lots" not in holding:
            holding["shares"] = _number(max(float(holding["shares"]) - shares, 0.0))
            return
        lots: CommentedSeq = holding["lots"]
        left = shares
        for index in sorted(range(len(lots)), key=lambda i: _lot_order(lots[i], i, rule)):
            taken = min(float(lots[index]["shares"]), left)
            lots[index]["shares"] = _number(float(lots[index]["shares"]) - taken)
            left -= taken
            if left <= 1e-12:
                break
        for index in reversed(range(len(lots))):
            if float(lots[index]["shares"]) <= 1e-12:
                del lots[index]
        if not lots:  # every lot sold: the holding stays, with no shares
            position = list(holding).index("lots")
            del holding["lots"]
            holding.pop("shares", None)
            holding.insert(position, "shares", 0)
        elif "shares" in holding:
            holding["shares"] = _number(self.shares(ticker))

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
