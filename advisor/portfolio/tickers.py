"""Ticker spellings: BRK.B, BRK/B, BRK-B and BRKB name one security."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

_SEPARATORS = str.maketrans("", "", "./- ")


def ticker_key(ticker: str) -> str:
    """The spelling-free key of a ticker: upper case, share-class separators removed."""
    return ticker.strip().upper().translate(_SEPARATORS)


def display_ticker(ticker: str) -> str:
    """The spelling the tool shows: upper case with '.' before a share class (BRK.B)."""
    return re.sub(r"[/\- ]", ".", ticker.strip().upper())


def nearest(key: str, known: Iterable[str]) -> str | None:
    """The closest known ticker key to `key`, or None when nothing is close."""
    matches = difflib.get_close_matches(ticker_key(key), list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


class TickerIndex:
    """Maps any spelling of a ticker to the model's display ticker."""

    def __init__(self, tickers: Iterable[str]) -> None:
        self._by_key: dict[str, str] = {}
        for ticker in tickers:
            self._by_key.setdefault(ticker_key(ticker), ticker)

    @property
    def by_key(self) -> Mapping[str, str]:
        return self._by_key

    def __len__(self) -> int:
        return len(self._by_key)

    def resolve(self, ticker: str) -> str | None:
        return self._by_key.get(ticker_key(ticker))

    def suggest(self, ticker: str) -> str | None:
        key = nearest(ticker, self._by_key)
        return self._by_key[key] if key else None
