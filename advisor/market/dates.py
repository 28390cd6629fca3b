"""The date each public export states for itself, for the sources listed in model.yaml."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Nasdaq names each download after its moment in milliseconds since the epoch (UTC).
_NASDAQ_STAMP = re.compile(r"nasdaq_screener_(\d{13})$")


def screener_date(path: Path) -> str:
    """The screener's contents carry no date; its download name does (else the fallback)."""
    found = _NASDAQ_STAMP.search(path.stem)
    if found is None:
        return folder_date(path)
    return datetime.fromtimestamp(int(found[1]) / 1000, tz=UTC).date().isoformat()


def fiscal_years(path: Path) -> str:
    """The span of the 10-K file's own ForYear column, as `FY2012-2016`.

    A fiscal year ends in its own year or early in the next, so a ForYear further from its row's
    PeriodEnding is a typo in the file (one row says 1215) and is left out.
    """
    raw = pd.read_csv(path, usecols=["PeriodEnding", "ForYear"])
    ending = pd.to_datetime(raw["PeriodEnding"], errors="coerce").dt.year
    years = raw["ForYear"][(ending - raw["ForYear"]).between(0, 1)].astype(int)
    if years.empty:
        return folder_date(path)
    low, high = years.min(), years.max()
    return f"FY{low}" if low == high else f"FY{low}-{high}"


def folder_date(path: Path) -> str:
    """For a file that states no date: a date in its folder's name, else the As-of line of the
    SOURCE.md beside it, else `unknown`."""
    found = _ISO_DATE.search(path.parent.name)
    if found is not None:
        return found[0]
    note = path.parent / "SOURCE.md"
    if note.is_file():
        for line in note.read_text(encoding="utf-8").splitlines():
            if "As-of:" in line and (found := _ISO_DATE.search(line)) is not None:
                return found[0]
    return "unknown"
