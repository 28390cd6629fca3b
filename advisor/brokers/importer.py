"""`advisor import`: a broker's positions export to a portfolio file and its quotes file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from advisor.brokers.detect import read_export
from advisor.brokers.files import notes, portfolio_yaml, quotes_csv
from advisor.brokers.holdings import Imported, choose_account, import_account
from advisor.errors import InputError, Location
from advisor.market import cached_model, resolve_model_folder
from advisor.market.model import SHIPPED
from advisor.prices import file_day
from advisor.writing import (
    Outputs,
    check_file_target,
    refusal,
    refuse_inside,
    refuse_overwrites,
)

DEFAULT_MODEL = "us-equity"


@dataclass(frozen=True)
class Written:
    imported: Imported
    out: Path
    prices_out: Path | None  # None: the export gives no prices
    notes: list[str]


def default_prices_path(out: Path) -> Path:
    """Beside the portfolio file: portfolio.yaml -> portfolio-prices.csv."""
    return out.with_name(f"{out.stem}-prices.csv")


def import_positions(
    export_path: Path,
    out: Path,
    *,
    prices_out: Path | None = None,
    account: str | None = None,
    model: str | None = None,
    force: bool = False,
) -> Written:
    """Read the export, pick the account, write the portfolio file and its quotes together;
    an existing output is replaced only with `force`, the export never."""
    prices_path = prices_out or default_prices_path(out)
    targets = [("--out", out), ("--prices-out", prices_path)]
    for option, path in targets:
        check_file_target(path, option)
    refuse_overwrites(targets, [("the export", export_path)])
    refuse_inside(targets, SHIPPED, "the shipped models folder")
    for option, path in targets if not force else ():
        if path.exists():
            raise refusal(option, path, "exists", fix="give --force to replace it, or another name")
    export = read_export(export_path)
    chosen = choose_account(export, account)
    name = model or DEFAULT_MODEL
    market = cached_model(resolve_model_folder(name, relative_to=out.parent))
    securities = market.securities
    priced = frozenset(securities.index[securities["price"].fillna(0) > 0])
    imported = import_account(export, chosen, market.tickers, name, file_day(export_path), priced)
    if not imported.holdings and imported.cash <= 0:
        raise InputError(
            Location(export_path),
            f"has no position of model {name} and no cash in account {chosen.label}",
            fix="check the account (--account) and the rows listed above as not imported",
        )
    # The quotes file is named relative to the portfolio file, as `prices:` is read.
    relative = os.path.relpath(prices_path.resolve(), out.resolve().parent)
    files = Outputs()
    named = relative if imported.prices else None
    files.add(out, portfolio_yaml(imported, export_path.name, named), "--out")
    if imported.prices:
        files.add(prices_path, quotes_csv(imported), "--prices-out")
    files.commit()
    return Written(imported, out, prices_path if imported.prices else None, notes(imported))
