"""The Nasdaq stock screener export: every US-listed security with market cap, price and volume.

The screener lists preferreds, notes, warrants, rights, SPAC units, closed-end funds and ETFs
beside common stock, often carrying the parent company's market cap (Nasdaq values a preferred
on its issuer's share count), and lists each share class of a company (GOOG and GOOGL) with the
company's whole market cap. Both would count a company twice in a size ranking, so this module
keeps common equity only (`not_common` gives each rule's reason) and groups share classes into
one company.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from advisor.market.ishares import number
from advisor.portfolio.tickers import display_ticker, ticker_key

# Securities that are not a company's common equity, by what their names say: preferreds and
# their depositary shares (an ADR's "American Depositary Shares" is common equity), notes,
# exchangeable notes (ZONES), trust certificates (STRATS), warrants, rights, exchange-traded funds.
_NOT_COMMON = re.compile(
    r"%|\bwarrants?\b|\brights?\b|\bpreferred\b|\bnotes?\b|\bdebentures?\b|"
    r"(?<!american )(?<!global )\bdeposit[ao]ry shares?\b|\bdep shr\b|\bperpetual\b|"
    r"\bsubordinated\b|\bzones\b|\bstrats\b|\bcertificates?\b|\bcapital trust\b|"
    r"\betf\b|\betn\b|exchange[- ]traded",
    re.IGNORECASE,
)
_SPAC_UNIT = re.compile(r"\bunits?\b", re.IGNORECASE)
_PARTNERSHIP_UNIT = re.compile(r"common units|limited partner|\bL\.?P\.?\b", re.IGNORECASE)
_CLOSED_END_FUND = re.compile(r"\bfund\b", re.IGNORECASE)
# A closed-end fund or grantor trust: a trust, portfolio or municipal-bond vehicle that Nasdaq files
# under an investment industry (or none). REITs, banks and royalty trusts sit in other industries.
_FUND_WORDS = re.compile(
    r"\btrust\b|\bportfolio\b|\bmunicipals?\b|beneficial (interest|ownership)|\bshs of bi\b",
    re.IGNORECASE,
)
INVESTMENT_INDUSTRIES = frozenset(
    {
        "",
        "Trusts Except Educational Religious and Charitable",
        "Investment Managers",
        "Finance Companies",
        "Finance/Investors Services",
        "Investment Bankers/Brokers/Service",
    }
)
# Words that name a share class rather than the company.
_CLASS_WORDS = re.compile(
    r"\b(class [a-z]|cl [a-z]|series [a-z]|common stock|capital stock|ordinary shares?|"
    r"common shares?|subordinate voting shares|non-?voting|voting|inc|corp|corporation|co|company|"
    r"ltd|plc|holdings?|the)\b|[^a-z0-9 ]",
    re.IGNORECASE,
)
# Nasdaq prices every listing of an issuer on the issuer's one share count (GOOG and GOOGL, but also
# CMCSA and the Comcast ZONES CCZ, FITB and its depositary shares FITBI): market cap / price gives
# one share count to about 1e-9 for such listings, while two companies' counts (Crane and its
# spin-off Crane NXT) differ by 0.3%.
SAME_SHARE_COUNT = 1e-6


def read_screener(path: Path) -> pd.DataFrame:
    """All rows with a positive market cap, typed, one row per listed ticker."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = pd.DataFrame(
        {
            "ticker": raw["Symbol"].str.strip().map(display_ticker),
            "name": raw["Name"].str.strip(),
            "price": raw["Last Sale"].map(number),
            "market_cap": raw["Market Cap"].map(number),
            "country": raw["Country"].str.strip(),
            "volume": raw["Volume"].map(number),
            "nasdaq_sector": raw["Sector"].str.strip(),
            "industry": raw["Industry"].str.strip(),
        }
    )
    frame = frame[(frame["market_cap"] > 0) & (frame["price"] > 0) & (frame["ticker"] != "")]
    frame = frame[~frame["ticker"].str.contains("^", regex=False)]
    frame["key"] = frame["ticker"].map(ticker_key)
    # A key shared by two listings (ABC.A and ABCA) keeps the larger one; both are rare.
    frame = frame.sort_values("market_cap", ascending=False).drop_duplicates("key")
    return frame.sort_values("ticker").reset_index(drop=True)


def is_common_equity(name: str) -> bool:
    """What the name alone says (the industry and share-count rules are in `not_common`)."""
    if _NOT_COMMON.search(name):
        return False
    if _SPAC_UNIT.search(name) and not _PARTNERSHIP_UNIT.search(name):
        return False
    return not _CLOSED_END_FUND.search(name)


def not_common(frame: pd.DataFrame) -> pd.Series:
    """Why each listing is not a company's common equity ("" where it is), rule by rule.

    1. the name names another kind of security (`is_common_equity`);
    2. a closed-end fund or grantor trust: fund words in the name under an investment industry;
    3. priced on another listing's share count by the same issuer, its name that listing's
       name with words added (class words aside): exchangeable notes, preferreds and trust
       certificates that Nasdaq values as if they were the company.
    """
    reason = pd.Series("", index=frame.index, dtype=object)
    reason[~frame["name"].map(is_common_equity)] = "name: not common stock"
    fund = frame["name"].map(lambda n: bool(_FUND_WORDS.search(n))) & frame["industry"].isin(
        INVESTMENT_INDUSTRIES
    )
    reason[(reason == "") & fund] = "closed-end fund or trust: fund words, investment industry"
    stems = _stems(frame)
    common = frame[reason == ""]
    by_adv = common.assign(adv=common["volume"] * common["price"]).sort_values(
        ["adv", "ticker"], ascending=[False, True]
    )
    for group in _same_issuer_groups(by_adv):
        lead = group[0]
        for row in group[1:]:
            if stems[row].startswith(stems[lead] + " "):
                reason[row] = f"priced on {frame.at[lead, 'ticker']}'s share count, not its stock"
    return reason


def company_ids(frame: pd.DataFrame, caps_per_class: bool = False) -> pd.Series:
    """One id per company: share classes (GOOG and GOOGL, FOX and FOXA) share an id.

    Two listings are classes of one company when their names agree once class words are
    removed, and either Nasdaq prices them on one share count (RUSHA and RUSHB, RDI and RDIB,
    whose caps differ with their prices) or their tickers agree but for the last letter or a
    suffix and their market caps are within a factor of two. Where each cap is one class's own
    value (`caps_per_class`, estimated from fund weights), caps need not agree.
    """
    stem = _stems(frame)
    ids = frame["ticker"].copy()
    for _, group in frame.groupby(stem, sort=False):
        if len(group) < 2:
            continue
        keys = group["ticker"].map(ticker_key)
        caps = group["market_cap"]
        prefix = _common_prefix(list(keys))
        caps_agree = caps_per_class or caps.max() <= 2 * caps.min()
        if len(prefix) >= min(map(len, keys)) - 1 and caps_agree:
            ids.loc[group.index] = group.sort_values("ticker")["ticker"].iloc[0]
    if "price" in frame and not caps_per_class:
        for group in _same_issuer_groups(frame.sort_values("ticker")):
            classes = [row for row in group if stem[row] == stem[group[0]]]
            if len(classes) > 1:
                ids.loc[classes] = ids.loc[classes].min()
    return ids


def _stems(frame: pd.DataFrame) -> pd.Series:
    stem = frame["name"].str.lower().str.replace(_CLASS_WORDS, " ", regex=True)
    return stem.str.split().str.join(" ")


def _same_issuer_groups(frame: pd.DataFrame) -> list[list[object]]:
    """Index labels of listings with one share count (market cap / price) and the same first
    word of name, in `frame`'s order; groups of two or more only."""
    shares = frame["market_cap"] / frame["price"]
    first = frame["name"].str.lower().str.extract(r"([a-z0-9]+)", expand=False)
    groups: list[list[object]] = []
    for _, rows in frame.groupby(first, sort=False):
        if len(rows) < 2:
            continue
        taken: set[object] = set()
        for row in rows.index:
            if row in taken:
                continue
            near = (shares[rows.index] / shares[row] - 1).abs() <= SAME_SHARE_COUNT
            members = [r for r in rows.index[near.to_numpy()] if r not in taken]
            if len(members) > 1:
                taken.update(members)
                groups.append(members)
    return groups


def _common_prefix(words: list[str]) -> str:
    first, last = min(words), max(words)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]
