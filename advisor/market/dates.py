"""The date each public export states for itself, and how it was read, for model.yaml.

Where a file states no date of its own, the date falls back, in order, to a date in its folder's
name, the As-of line of the SOURCE.md beside it, and its modification time (a download's moment).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Nasdaq names each download after its moment in milliseconds since the epoch (UTC).
_NASDAQ_STAMP = re.compile(r"nasdaq_screener_(\d{13})$")
_FISCAL_SPAN = re.compile(r"FY(\d{4})(?:-(\d{4}))?$")

# How a date was read, as model.yaml says it.
OWN_FIELD = "the file's own field"
DOWNLOAD_STAMP = "the file's download stamp"
FOLDER_NAME = "its folder's name"
SOURCE_NOTE = "the SOURCE.md beside it"
MODIFIED = "its modification time"


def screener_date(path: Path) -> tuple[str, str]:
    """The screener's contents carry no date; its download name does (else the fallbacks)."""
    found = _NASDAQ_STAMP.search(path.stem)
    if found is None:
        return file_date(path)
    stamp = datetime.fromtimestamp(int(found[1]) / 1000, tz=UTC)
    return stamp.date().isoformat(), DOWNLOAD_STAMP


def fiscal_years(path: Path) -> tuple[str, str]:
    """The span of the 10-K file's own ForYear column, as `FY2012-2016`.

    A fiscal year ends in its own year or early in the next, so a ForYear further from its row's
    PeriodEnding is a typo in the file (one row says 1215) and is left out.
    """
    try:
        raw = pd.read_csv(path, usecols=["PeriodEnding", "ForYear"])
    except ValueError:  # an export without the ForYear column
        return file_date(path)
    ending = pd.to_datetime(raw["PeriodEnding"], errors="coerce").dt.year
    stated = pd.to_numeric(raw["ForYear"], errors="coerce")
    years = stated[(ending - stated).between(0, 1)].astype(int)
    if years.empty:
        return file_date(path)
    low, high = years.min(), years.max()
    return (f"FY{low}" if low == high else f"FY{low}-{high}"), OWN_FIELD


def file_date(path: Path) -> tuple[str, str]:
    """For a file that states no date: its folder's name, its SOURCE.md, else its mtime."""
    found = _ISO_DATE.search(path.parent.name)
    if found is not None:
        return found[0], FOLDER_NAME
    note = path.parent / "SOURCE.md"
    if note.is_file():
        for line in note.read_text(encoding="utf-8", errors="replace").splitlines():
            if "As-of:" in line and (found := _ISO_DATE.search(line)) is not None:
                return found[0], SOURCE_NOTE
    modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return modified.date().isoformat(), MODIFIED


def folder_date(path: Path) -> str:
    return file_date(path)[0]


def sortable(stated: str) -> str:
    """A stated date as an ISO text that sorts by recency (a fiscal span by its last year)."""
    found = _FISCAL_SPAN.match(stated)
    if found is not None:
        return f"{found[2] or found[1]}-12-31"
    return stated if _ISO_DATE.fullmatch(stated) else ""
