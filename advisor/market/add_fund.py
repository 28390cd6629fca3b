"""`advisor model add-fund`: a fund from its holdings file, added to a model folder for good.

Writes funds/<TICKER>.csv (weights over the model's stocks), the fund's row in securities.csv
(every other row kept byte for byte) and its entry in model.yaml (file, sha256, date, what was
left out). A fund of the same ticker is replaced: a newer export of a shipped fund, or a fund's
own holdings where another basket stood in for it. A rebuild (`advisor model build`) starts
from the public exports again, without it.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from advisor.errors import InputError, Location
from advisor.market.funds import AddedFund, fund_row
from advisor.market.holdings import match_holdings, read_holdings
from advisor.market.model import load_model
from advisor.portfolio.tickers import display_ticker
from advisor.writing import write_atomic

SIGNIFICANT_DIGITS = 10  # as `advisor model build` writes (build.SIGNIFICANT_DIGITS)


@dataclass(frozen=True)
class Added:
    fund: AddedFund
    folder: Path
    replaced: bool


def add_fund(
    folder: Path,
    ticker: str,
    holdings_path: Path,
    name: str = "",
    price: tuple[float, date] | None = None,
) -> Added:
    model = load_model(folder)
    shown = model.tickers.resolve(ticker) or display_ticker(ticker)
    if shown in model.securities.index and not model.is_fund(shown):
        raise InputError(
            Location("TICKER"),
            f"is a stock in model {model.name}, not a fund",
            value=ticker,
            fix="give the fund's own ticker",
        )
    raw = holdings_path.read_bytes() if holdings_path.is_file() else b""
    fund = match_holdings(model, shown, read_holdings(holdings_path), name)
    adv = float(model.securities.loc[list(model.fund_weights), "adv"].min())
    dated = None if price is None else (price[0], price[1].isoformat())
    row = fund_row(fund, adv, dated)
    _write_securities(folder / "securities.csv", shown, row)
    weights = fund.weights.rename("weight").rename_axis("ticker").reset_index()
    text = weights.to_csv(index=False, float_format=f"%.{SIGNIFICANT_DIGITS}g", lineterminator="\n")
    write_atomic(folder / "funds" / f"{shown}.csv", text)
    _write_meta(folder / "model.yaml", fund, hashlib.sha256(raw).hexdigest())
    return Added(fund, folder, replaced=shown in model.fund_weights)


def _write_securities(path: Path, ticker: str, row: dict[str, object]) -> None:
    """securities.csv with the fund's row added (or replacing its old one), the rest as read."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    cells = {c: _cell(row.get(c, "")) for c in frame.columns}
    frame = frame[frame["ticker"] != ticker]
    frame = pd.concat([frame, pd.DataFrame([cells])], ignore_index=True)
    frame = frame.sort_values("ticker", kind="stable")
    write_atomic(path, frame.to_csv(index=False, lineterminator="\n"))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:.{SIGNIFICANT_DIGITS}g}"
    return str(value)


def _write_meta(path: Path, fund: AddedFund, sha256: str) -> None:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    meta = yaml.load(path.read_text(encoding="utf-8"))
    meta.setdefault("funds", {})[fund.ticker] = {
        "as_of": fund.as_of or "unknown",
        "file": fund.source,
        "sha256": sha256,
        "layout": fund.layout,
        "equity_lines": len(fund.weights),
        "unmatched_share": float(f"{fund.unmatched_share:.6g}"),
        "nav": float(f"{fund.nav:.6g}") if fund.nav else None,
        "added": "advisor model add-fund",
    }
    stand_ins = meta.get("stand_ins") or {}
    stand_ins.pop(fund.ticker, None)  # its own holdings now, not another basket
    meta.setdefault("counts", {})["funds"] = len(meta["funds"]) + len(stand_ins)
    buffer = io.StringIO()
    yaml.dump(meta, buffer)
    write_atomic(path, buffer.getvalue())
