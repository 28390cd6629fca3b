"""Which broker wrote an export, told by its content (never by its file name)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from advisor.brokers import fidelity, ibkr, plain, schwab, vanguard
from advisor.brokers.table import Export, Row, read_rows
from advisor.errors import InputError, Location

Reader = Callable[[Path, Sequence[Row]], Export]
Test = Callable[[Sequence[Row]], bool]

# Most specific first: a plain CSV's header (ticker and shares) would match any of the others.
LAYOUTS: tuple[tuple[str, Test, Reader], ...] = (
    ("Interactive Brokers Activity Statement", ibkr.recognise_statement, ibkr.read_statement),
    ("Interactive Brokers Flex Query", ibkr.recognise_flex, ibkr.read_flex),
    ("Charles Schwab", schwab.recognise, schwab.read),
    ("Vanguard", vanguard.recognise, vanguard.read),
    ("Fidelity", fidelity.recognise, fidelity.read),
    ("plain CSV", plain.recognise, plain.read),
)
KNOWN = ", ".join(name for name, _, _ in LAYOUTS)


def read_export(path: Path) -> Export:
    """The export read by the reader of its layout; exit 2 for a file of no known layout."""
    rows = read_rows(path)
    for _, recognise, read in LAYOUTS:
        if recognise(rows):
            return read(path, rows)
    first = next((row for row in rows if not row.blank), None)
    raise InputError(
        Location(path, first.line if first else 1, "file"),
        "is not a positions export of a known layout",
        value=first.text[:60] if first else None,
        fix=f"give a positions export of {KNOWN} (a plain CSV needs a header with ticker "
        "and shares)",
    )
