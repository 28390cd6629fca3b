"""Which company a fundamentals row describes: rows are joined by ticker, and tickers are reused.

A ticker freed by a merger or bankruptcy is soon given to another company (STI was SunTrust Banks
in 2016 and is Solidion Technology today), so a snapshot row joined by ticker alone can lend one
company's debt and earnings to another. A row is used for a stock only where

1. it names today's company: the names agree (`same_company`: once legal forms and security
   words are removed, they share a distinctive word, or one word is the start of the other's,
   "Walgreen"/"Walgreens", or one name contains the other, "Strategy"/"MicroStrategy"); or, for a
   company renamed since (Raytheon Technologies, now RTX), the row's share count is within
   SHARE_COUNT_DRIFT of today's and its sector is today's; and
2. its figures are plausible for today's company: the row's revenue is at most MAX_REVENUE_TO_CAP
   times today's market cap. A company priced below 5 cents per dollar of the row's sales is not
   the company the row describes any more (the brand "Bed Bath & Beyond" now names a far smaller
   online retailer).

Elsewhere the figure is estimated by the model's rules, and `fundamentals_note` says why.
"""

from __future__ import annotations

import re

import pandas as pd

# The row's revenue above this multiple of today's market cap marks another company. Among rows
# whose names agree, 99% are below 15; above 20 sit the renamed brand above and a dozen companies
# whose equity has since nearly vanished (bankrupt or distressed), whose old figures no longer
# describe today's balance sheet either.
MAX_REVENUE_TO_CAP = 20.0
# A renamed company keeps its shares: of the snapshot rows whose names disagree with today's, most
# renamed companies' share counts are within 20% of today's (buybacks, issuance), while a reused
# ticker's company has another count (2 of 12 within it, neither in the same sector).
SHARE_COUNT_DRIFT = 0.20
# Legal forms, security descriptions and filler that say nothing about which company it is.
_NOISE = re.compile(
    r"\b(class [a-z0-9]+|cl [a-z]|series [a-z0-9]+|common|stock|capital stock|ordinary|shares?|"
    r"units?|representing|limited|partners?|partnership|interests?|beneficial|of|american|"
    r"depositary|inc|incorporated|corp|corporation|co|company|companies|ltd|plc|llc|lp|l p|"
    r"n v|nv|s a|sa|ag|se|holdings?|group|the|new|de|dba|d b a|and)\b"
)
# Words too common in company names to identify one (two banks share "financial").
GENERIC = frozenset(
    """first american united national international global general bank banks bancorp
    bancshares financial energy capital technologies technology therapeutics
    pharmaceuticals pharma biosciences bio health healthcare medical resources natural
    properties property realty reit trust systems industries industrial services solutions
    partners brands acquisition investment investors mining materials motors networks
    software communications media entertainment restaurants insurance foods products
    manufacturing enterprises""".split()  # noqa: SIM905
)


def name_words(name: str) -> list[str]:
    """A company name's identifying words, lower case, in order."""
    text = name.lower().replace("&", " and ").replace("'", "")
    text = re.sub(r"[^a-z0-9 ]", " ", text)
    return _NOISE.sub(" ", text).split()


def same_company(first: str, second: str) -> bool:
    """Whether two names can name one company (spellings, abbreviations and suffixes aside)."""
    a, b = name_words(first), name_words(second)
    if not a or not b:
        return False
    if _shared_word(a, b):
        return True
    shorter, longer = sorted(("".join(a), "".join(b)), key=len)
    # "3M", "F.N.B." and "HP" are all initials: the whole short name must lead or end the long
    # one ("NOW", "DNOW"); a longer one may sit anywhere in it.
    return (
        longer.startswith(shorter)
        or longer.endswith(shorter)
        or (len(shorter) >= 4 and shorter in longer)
    )


def _shared_word(a: list[str], b: list[str]) -> bool:
    for x in a:
        for y in b:
            if x in GENERIC or y in GENERIC or min(len(x), len(y)) < 3:
                continue
            short, long = sorted((x, y), key=len)
            if x == y or (len(short) >= 5 and long.startswith(short)):
                return True
    return False


def checked_rows(
    stocks: pd.DataFrame, rows: pd.DataFrame, source: str
) -> tuple[pd.DataFrame, pd.Series]:
    """The rows (indexed by ticker key, with `name`, `sector`, `shares` and `total_revenue`)
    that describe the stock of the same key today, and a note per stock where a row was refused.

    `source` names the rows in the note, e.g. "Russell 3000 snapshot (2022-01-04)".
    """
    today = stocks.set_index("key")
    found = rows.reindex(today.index).dropna(subset=["name"])
    notes = pd.Series("", index=today.index, dtype=object)
    for key, row in found.iterrows():
        stock = today.loc[key]
        ticker, name, cap = stock["ticker"], str(stock["name"]), stock["market_cap"]
        renamed = (
            abs(row["shares"] / (cap / stock["price"]) - 1) <= SHARE_COUNT_DRIFT
            and row["sector"] == stock["sector"]
        )
        if not (same_company(str(row["name"]), name) or renamed):
            notes[key] = (
                f"{source} row {ticker} is {row['name']}, not {short_name(name)}: estimated"
            )
        elif row["total_revenue"] > MAX_REVENUE_TO_CAP * cap:
            notes[key] = (
                f"{source} row {ticker} ({row['name']}) has revenue "
                f"{row['total_revenue'] / cap:.0f}x today's market cap: estimated"
            )
    refused = notes.index[notes != ""]
    return rows.drop(refused, errors="ignore"), pd.Series(notes.to_numpy(), index=stocks.index)


def short_name(name: str) -> str:
    """A listing's name without its security description ("Apple Inc. Common Stock" -> "Apple
    Inc.")."""
    cut = re.split(
        r"\s+(?=(class [a-z]|series [a-z]|common|ordinary|capital stock|american depositary)\b)",
        name,
        maxsplit=1,
        flags=re.IGNORECASE,
    )[0]
    return cut.strip() or name
