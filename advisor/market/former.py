"""Tickers a model knew in earlier years: renamed (FB, now META) or no longer listed."""

from __future__ import annotations

import csv
import difflib
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from advisor.market.identity import name_words, same_company
from advisor.portfolio.tickers import ticker_key

# How alike two company names must be spelled, beyond sharing a word, to call a listing today's
# ticker of a former one: "Meta Platforms" 1.0, but "AmerisourceBergen" and "Ameris" 0.52.
SAME_NAME = 0.75


@dataclass(frozen=True)
class FormerTickers:
    """What a model knows of tickers it no longer lists: its carried fundamentals.csv keeps
    tickers of earlier years with their company names (FB, "Meta Platforms, Inc." in 2022).
    Read only when a ticker is unknown."""

    folder: Path
    listed: Callable[[], Mapping[str, str]]  # today's listed stocks: display ticker -> name

    def advice(self, ticker: str) -> str | None:
        """What became of `ticker`: the company's ticker today, or that it is no longer
        listed; None when the model never knew it."""
        known = _former(self.folder).get(ticker_key(ticker))
        if known is None:
            return None
        name, seen = known
        now = _same_company_ticker(name, self.listed())
        if now is not None:
            when = f" on {seen}" if seen else ""
            return (
                f"{ticker.upper()} was {name}{when}, listed today as {now}: did you mean {now!r}?"
            )
        when = f", last seen {seen}" if seen else ""
        return (
            f"{ticker.upper()} ({name}{when}) is no longer listed as far as the model knows: "
            "remove it, or give the ticker it trades under now"
        )


@functools.lru_cache(maxsize=4)
def _former(folder: Path) -> dict[str, tuple[str, str]]:
    """Ticker key: (company name, date of the source that named it) from fundamentals.csv."""
    path = folder / "fundamentals.csv"
    if not path.is_file():
        return {}
    found: dict[str, tuple[str, str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for source in ("snapshot", "names"):  # the later source first
                name = (row.get(f"{source}.name") or "").strip()
                if name:
                    found[ticker_key(row["ticker"])] = (name, row.get(f"{source}.date") or "")
                    break
    return found


def _same_company_ticker(name: str, listed: Mapping[str, str]) -> str | None:
    """The listed ticker whose company name is `name`'s: of the names same_company accepts,
    the closest in spelling ("Meta Platforms" is Meta Platforms, not Meta Materials)."""
    words = " ".join(name_words(name))
    best: tuple[float, str] | None = None
    for ticker, other in listed.items():
        if not same_company(name, other):
            continue
        score = difflib.SequenceMatcher(None, words, " ".join(name_words(other))).ratio()
        if score >= SAME_NAME and (best is None or score > best[0]):
            best = (score, ticker)
    return best[1] if best else None
