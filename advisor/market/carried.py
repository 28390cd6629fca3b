"""What a model folder carries forward, so a later build given only some exports (a newer
screener, say) keeps what the earlier sources gave, marked with their files and dates.

- fundamentals.csv: the per-company figures the build read from each fundamentals source (the
  Russell 3000 snapshot, the 10-K file, its company list, the S&P 500 sector list), one column
  per figure under the source's tag, beside that source's file and date. It holds the figures the
  build uses, not a copy of the raw files.
- funds/<TICKER>.csv with the fund's row in securities.csv and its entry in model.yaml: enough to
  stand in for the fund's holdings export.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import Location, ModelError
from advisor.market.ishares import FundHoldings
from advisor.portfolio.tickers import ticker_key

FUNDAMENTALS_FILE = "fundamentals.csv"
# Tags of the fundamentals sources, as column prefixes in fundamentals.csv.
SNAPSHOT, TEN_K, NAMES, SECTORS = "snapshot", "10k", "names", "sectors"


def fundamentals_table(frames: dict[str, tuple[pd.DataFrame, str, str]]) -> pd.DataFrame:
    """One row per company key: each source's figures as `<tag>.<figure>`, with `<tag>.file`
    and `<tag>.date` where that source has the company."""
    parts = []
    for tag, (frame, file, day) in sorted(frames.items()):
        part = frame.assign(file=file, date=day).add_prefix(f"{tag}.")
        parts.append(part[~part.index.duplicated()])
    table = pd.concat(parts, axis=1).sort_index()
    return table.rename_axis("ticker").reset_index()


def read_fundamentals(folder: Path) -> dict[str, tuple[pd.DataFrame, str, str]]:
    """The frames fundamentals_table wrote, by tag, each with its file name and date."""
    path = folder / FUNDAMENTALS_FILE
    if not path.is_file():
        return {}
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    raw = raw.set_index("ticker")
    frames = {}
    for tag in sorted({c.split(".", 1)[0] for c in raw.columns}):
        part = raw[[c for c in raw.columns if c.startswith(f"{tag}.")]]
        part = part[part[f"{tag}.file"].notna()]
        part.columns = [c.split(".", 1)[1] for c in part.columns]
        file, day = str(part["file"].iloc[0]), str(part["date"].iloc[0])
        figures = part.drop(columns=["file", "date"]).apply(_numbers_where_all_are)
        frames[tag] = (figures.rename_axis("key"), file, day)
    return frames


def _numbers_where_all_are(column: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(column, errors="coerce")
    return numbers if numbers.notna().sum() == column.notna().sum() else column


def fund(folder: Path, ticker: str, meta: dict[str, Any], fund_adv_share: float) -> FundHoldings:
    """A fund as an earlier model holds it, in the shape of its holdings export.

    The basket's weights, the fund's non-equity share, NAV and total assets (its ADV over the
    share of assets assumed traded a day) come back as they were; holdings' names, sectors,
    countries and prices are the earlier model's.
    """
    securities = pd.read_csv(folder / "securities.csv", dtype=str, keep_default_na=False)
    securities = securities.set_index("ticker")
    weights = pd.read_csv(folder / "funds" / f"{ticker}.csv", dtype={"ticker": str})
    facts = meta.get("funds", {}).get(ticker)
    if facts is None or ticker not in securities.index:
        raise ModelError(
            Location(folder / "model.yaml", None, f"funds.{ticker}"),
            "is missing, so the fund cannot be carried into the new model",
            fix="give the fund's holdings export with --holdings",
        )
    row = securities.loc[ticker]
    total = float(row["adv"]) / fund_adv_share
    equity_share = float(facts["equity_share"])
    held = securities.reindex(weights["ticker"])
    gics = held["sector_source"].str.startswith("GICS").fillna(False).to_numpy()
    lines = pd.DataFrame(
        {
            "ticker": weights["ticker"].to_numpy(),
            "name": held["name"].to_numpy(),
            "sector": np.where(gics, held["sector"], ""),
            "asset_class": "Equity",
            "market_value": weights["weight"].to_numpy() * total * equity_share,
            "price": pd.to_numeric(held["price"], errors="coerce").to_numpy(),
            "location": held["country"].to_numpy(),
        }
    )
    other: dict[str, Any] = {"ticker": "-", "name": "Cash and other", "sector": ""}
    other |= {"asset_class": "Cash", "market_value": total * (1 - equity_share)}
    other |= {"price": np.nan, "location": ""}
    holdings = pd.concat([lines, pd.DataFrame([other])], ignore_index=True)
    nav = facts.get("nav")
    shares = total / float(nav) if nav else None
    as_of = pd.Timestamp(str(facts["as_of"])).date()
    path = folder / "funds" / f"{ticker}.csv"
    return FundHoldings(str(row["name"]), as_of, shares, holdings, path)


def baskets(previous: Path | None) -> dict[str, pd.Series]:
    """An earlier model's fund baskets (weights by ticker key)."""
    if previous is None or not (previous / "funds").is_dir():
        return {}
    baskets = {}
    for path in sorted((previous / "funds").glob("*.csv")):
        frame = pd.read_csv(path, dtype={"ticker": str}, keep_default_na=False)
        baskets[path.stem] = frame.groupby(frame["ticker"].map(ticker_key))["weight"].sum()
    return baskets


def csv_text(table: pd.DataFrame) -> str:
    """Figures written exactly (shortest round-trip form), so a carried figure is the figure."""
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def prices(folder: Path | None) -> dict[str, tuple[float, str, str]]:
    """The funds an earlier model prices from a price history (no holdings file of their own):
    price, source and date by ticker."""
    if folder is None or not (folder / "securities.csv").is_file():
        return {}
    rows = pd.read_csv(folder / "securities.csv", dtype=str, keep_default_na=False)
    closes = rows[(rows["type"] == "fund") & rows["price_source"].str.startswith("last close")]
    return {
        r.ticker: (float(r.price), str(r.price_source), str(r.price_date))
        for r in closes.itertuples()
    }
