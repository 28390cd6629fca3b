"""Amounts as people and brokers write them: `$1,234.50`, `(12.50)` for a negative, `-$3.10`
and `+$0.16` with a sign before the dollar, `--` or `n/a` for none.

`parse_amount` is the one reading of such a cell for every file that allows them (brokers'
positions and fills, quotes files);
`amount` is the same with a located error for a cell that is not a number.
"""

from __future__ import annotations

import math
import re

from advisor.errors import InputError, Location

# Cells that mean "no figure": Fidelity and Schwab write `--`, others `n/a` or leave it empty.
NONE_WORDS = frozenset({"", "-", "--", "n/a", "na", "none", "null"})
# Commas group thousands only (1,234,567.89); `12,5` (a decimal comma) is not read as 125.
_NUMBER = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")
FIX = "write a number such as 1234.50, $1,234.50, -12.50 or (12.50); -- for none"


def parse_amount(text: str) -> float | None:
    """The number in a broker's cell, None where the cell means none (`--`, `n/a`, empty).

    Accepted: a sign (`+`, `-`, or U+2212) before or after a `$`, parentheses for a negative,
    commas grouping thousands, a trailing `%` is refused (a share is not an amount). Raises
    ValueError for anything else.
    """
    cell = text.strip()
    if cell.lower() in NONE_WORDS:
        return None
    negative = False
    if cell.startswith("(") and cell.endswith(")"):
        negative, cell = True, cell[1:-1].strip()
    cell = cell.replace("\u2212", "-")
    sign = ""
    for _ in range(2):  # `-$12.50` and `$-12.50` alike
        if cell[:1] in "+-" and cell[:1]:
            sign, cell = cell[0], cell[1:].strip()
        cell = cell.removeprefix("$").strip()
    if not cell or not _NUMBER.match(cell) or cell == ".":
        raise ValueError(f"{text!r} is not a number")
    value = float(cell.replace(",", ""))
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return -value if negative or sign == "-" else value


def amount(text: str, where: Location) -> float | None:
    """parse_amount, with an InputError naming the file, line and column of a bad cell."""
    try:
        return parse_amount(text)
    except ValueError:
        raise InputError(where, "is not a number", value=text, fix=FIX) from None
