"""iShares "Fund Holdings" CSV exports, in the raw layout and the spreadsheet-resaved one.

Both have a preamble (fund name, "Fund Holdings as of", "Shares Outstanding", ...), a header row
starting with "Ticker", holdings rows, and sometimes a disclaimer block. Numbers may be quoted with
thousands separators ("1,234.50") or plain; dates may read "Apr 10, 2026" or "13-Apr-26".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from advisor.errors import InputError, Location

_DATE_FORMATS = ("%b %d, %Y", "%d-%b-%y", "%d-%b-%Y", "%Y-%m-%d", "%m/%d/%Y")
# Older exports call the share count "Shares" rather than "Quantity".
_RENAMES = {"Shares": "Quantity"}
_NEEDED = ("Ticker", "Name", "Sector", "Asset Class", "Market Value")


@dataclass(frozen=True)
class FundHoldings:
    fund_name: str
    as_of: date
    shares_outstanding: float | None
    holdings: pd.DataFrame  # ticker, name, sector, asset_class, market_value, price, location
    path: Path

    @property
    def total_market_value(self) -> float:
        return float(self.holdings["market_value"].sum())

    @property
    def equity(self) -> pd.DataFrame:
        """Equity lines with a ticker, weights renormalised to sum to one.

        Lines without a usable ticker (contingent value rights written '-' or '.') are tiny
        and cannot be traded or matched, so they leave the look-through.
        """
        equity = self.holdings["asset_class"] == "Equity"
        named = self.holdings["ticker"].str.contains(r"[A-Za-z0-9]", regex=True)
        lines = self.holdings[equity & named].copy()
        lines["weight"] = lines["market_value"] / lines["market_value"].sum()
        return lines

    @property
    def equity_share(self) -> float:
        """Share of the fund's market value in equity lines (the rest is cash, futures, ...)."""
        return float(self.equity["market_value"].sum() / self.total_market_value)

    @property
    def nav(self) -> float | None:
        """Net asset value per share, where the file gives shares outstanding."""
        if not self.shares_outstanding:
            return None
        return self.total_market_value / self.shares_outstanding


def number(text: str) -> float:
    """'1,234.50' -> 1234.5; '-' or '' -> NaN."""
    cleaned = text.strip().replace(",", "").replace("$", "")
    if cleaned in ("", "-", "--"):
        return float("nan")
    return float(cleaned)


def parse_date(text: str) -> date:
    cleaned = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"unrecognised date {cleaned!r}")


def read_ishares(path: Path, as_of: date | None = None) -> FundHoldings:
    """Reads an export; `as_of` is needed only where the preamble was cut off."""
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header_at = next((i for i, row in enumerate(rows) if row and row[0].strip() == "Ticker"), None)
    if header_at is None:
        raise InputError(
            Location(path),
            "has no header row starting with 'Ticker'",
            fix="give an iShares 'Fund Holdings' CSV export",
        )
    preamble = {row[0].strip(): row[1].strip() for row in rows[:header_at] if len(row) > 1}
    fund_name = rows[0][0].strip() if header_at > 0 and rows[0] else path.stem
    try:
        as_of = as_of or parse_date(preamble["Fund Holdings as of"])
    except (KeyError, ValueError) as exc:
        raise InputError(
            Location(path, None, "Fund Holdings as of"),
            f"is missing or unreadable ({exc})",
            fix="keep the preamble of the iShares export, or give the as-of date",
        ) from exc
    shares_text = preamble.get("Shares Outstanding", "")
    shares_outstanding = number(shares_text) if shares_text else None

    header = [_RENAMES.get(h.strip(), h.strip()) for h in rows[header_at]]
    missing = [c for c in _NEEDED if c not in header]
    if missing:
        raise InputError(
            Location(path, header_at + 1, "header"),
            f"lacks columns {missing}",
            fix="give an iShares 'Fund Holdings' CSV export",
        )
    body = []
    for row in rows[header_at + 1 :]:
        # Holdings end where the disclaimer (one long cell) or the blank padding row begins.
        if len(row) < len(header) or not row[0].strip():
            continue
        body.append(dict(zip(header, row, strict=False)))
    frame = pd.DataFrame(body)
    holdings = pd.DataFrame(
        {
            "ticker": frame["Ticker"].str.strip(),
            "name": frame["Name"].str.strip(),
            "sector": frame["Sector"].str.strip(),
            "asset_class": frame["Asset Class"].str.strip(),
            "market_value": frame["Market Value"].map(number),
            "price": frame["Price"].map(number) if "Price" in frame else float("nan"),
            "location": frame["Location"].str.strip() if "Location" in frame else "",
        }
    )
    shares_outstanding = shares_outstanding if shares_outstanding == shares_outstanding else None
    return FundHoldings(fund_name, as_of, shares_outstanding, holdings, path)
