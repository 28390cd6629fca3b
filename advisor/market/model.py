"""MarketModel: a model folder loaded and checked: securities, fund look-through, risk model, costs.

Every measure is linear in holdings' values, so a fund's row in the exposure table is the
weighted sum of its holdings' rows: look-through is exact by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import ModelError
from advisor.measures import BANDS, RISK_COLUMNS, SMALL_BANDS
from advisor.portfolio.tickers import TickerIndex

# Risk measures per security, each with a `<measure>_source` column (reported / estimated).
SOURCES = ("reported", "estimated")
_REQUIRED = (
    "ticker",
    "name",
    "type",
    "sector",
    "country",
    "listed",
    "market_cap",
    "price",
    "price_source",
    "adv",
    "size_rank",
    "band",
    "size_score",
    "specific_vol",
    "beta",
    "market_cap_source",
    *RISK_COLUMNS,
    *(f"{m}_source" for m in RISK_COLUMNS),
)
SHIPPED = Path(__file__).resolve().parents[2] / "models"


class SizeScheme(StrEnum):
    cumulative = "cumulative"  # Morningstar-style cumulative cap shares (default)
    russell = "russell"  # rank <= 1000 large, next 2000 small, rest micro


@dataclass(frozen=True)
class MarketModel:
    name: str
    as_of: str
    folder: Path
    meta: dict[str, Any]
    securities: pd.DataFrame  # indexed by display ticker
    fund_weights: dict[str, pd.Series]  # fund ticker -> weights over stock tickers (sum 1)

    @cached_property
    def tickers(self) -> TickerIndex:
        return TickerIndex(self.securities.index.tolist())  # a list iterates 2x faster

    @cached_property
    def stocks(self) -> pd.DataFrame:
        return self.securities[self.securities["type"] == "stock"]

    def fund_companies(self, fund: str) -> pd.Series | None:
        """A fund's weights by company (two share classes summed); None for a stock. Worked
        out for the funds asked about only: `advisor score` waits for each."""
        weights = self.fund_weights.get(fund)
        if weights is None:
            return None
        if fund not in self._by_company:
            company = self.securities["company"].loc[weights.index].to_numpy()
            self._by_company[fund] = weights.groupby(company).sum()
        return self._by_company[fund]

    @cached_property
    def _by_company(self) -> dict[str, pd.Series]:
        return {}

    def is_fund(self, ticker: str) -> bool:
        return bool(self.securities.at[ticker, "type"] == "fund")

    def stock_exposures(self, scheme: SizeScheme = SizeScheme.cumulative) -> pd.DataFrame:
        """Per-$ exposures of each stock: bands, size score, risks, sectors, and est: flags."""
        stocks = self.stocks
        band = stocks["band"] if scheme is SizeScheme.cumulative else _russell_band(stocks)
        # Plain numpy arrays: comparing pandas string columns is several times slower.
        bands = band.to_numpy(dtype=object)
        sectors = stocks["sector"].to_numpy(dtype=object)
        number = {c: stocks[c].to_numpy(dtype=float)
                  for c in ("size_score", "market_cap", "beta", *RISK_COLUMNS)}  # fmt: skip
        columns: dict[str, np.ndarray] = {}
        for name in BANDS:
            columns[f"band:{name}"] = (bands == name).astype(float)
        columns["small_cap_share"] = np.isin(bands, list(SMALL_BANDS)).astype(float)
        columns["size_score"] = number["size_score"]
        columns["log_market_cap"] = np.log(number["market_cap"])
        columns["beta"] = number["beta"]
        for measure in RISK_COLUMNS:
            columns[measure] = number[measure]
        for sector in sorted(set(sectors)):
            columns[f"sector:{sector}"] = (sectors == sector).astype(float)
        source = stocks["market_cap_source"].to_numpy(dtype=object)
        columns["est:size"] = (source != "reported").astype(float)
        for measure in RISK_COLUMNS:
            source = stocks[f"{measure}_source"].to_numpy(dtype=object)
            columns[f"est:{measure}"] = (source == "estimated").astype(float)
        return pd.DataFrame(columns, index=stocks.index)

    def exposures(self, scheme: SizeScheme = SizeScheme.cumulative) -> pd.DataFrame:
        """Per-$ exposures of every security, funds looked through to their holdings."""
        if scheme not in self._tables:
            stocks = self.stock_exposures(scheme)
            funds = pd.DataFrame(
                {
                    fund: weights.to_numpy() @ stocks.loc[weights.index].to_numpy()
                    for fund, weights in self.fund_weights.items()
                },
                index=stocks.columns,
            ).T
            self._tables[scheme] = pd.concat([stocks, funds]).loc[self.securities.index]
        return self._tables[scheme]

    @cached_property
    def _tables(self) -> dict[SizeScheme, pd.DataFrame]:
        return {}

    @property
    def sectors(self) -> list[str]:
        return sorted(self.stocks["sector"].unique())

    def risk_model(self, tickers: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
        """Factor loadings (market beta, size score, sectors), factor covariance, specific variance.

        Funds load on the factors through their holdings; their specific variance is the
        weighted sum of w^2 x sigma^2, the diversified remainder.
        """
        table = self.exposures().loc[tickers]
        sectors = [c for c in table.columns if c.startswith("sector:")]
        loadings = pd.concat(
            [table["beta"].rename("market"), table["size_score"].rename("size"), table[sectors]],
            axis=1,
        )
        vols = self.meta.get("risk_model", {}).get("factor_vols", {})
        factor_vol = [vols.get("market", 0.16), vols.get("size", 0.035)]
        factor_vol += [vols.get("sector", 0.05)] * len(sectors)
        factor_cov = pd.DataFrame(
            np.diag(np.square(factor_vol)), index=loadings.columns, columns=loadings.columns
        )
        return loadings, factor_cov, self._specific_var.loc[tickers].rename(None)

    @cached_property
    def _specific_var(self) -> pd.Series:
        """Every security's specific variance: a stock's own, a fund's sum of w^2 x sigma^2."""
        stock_var = self.stocks["specific_vol"].astype(float) ** 2
        out = stock_var.reindex(self.securities.index)
        for fund, weights in self.fund_weights.items():
            out[fund] = float((weights**2 * stock_var[weights.index]).sum())
        return out

    def half_spread(self, tickers: pd.Index) -> pd.Series:
        """Half the bid-ask spread, as a share of trade value, by size band (funds: their own)."""
        costs = self.meta.get("costs", {})
        by_band = costs.get("half_spread_bps", {})
        rows = self.securities.loc[tickers, ["band", "type"]]
        bps = rows["band"].map(by_band).astype(float)
        bps[rows["type"] == "fund"] = costs.get("fund_half_spread_bps", 1.0)
        return bps.fillna(max(by_band.values(), default=50.0)) / 1e4


def _russell_band(stocks: pd.DataFrame) -> pd.Series:
    rank = stocks["size_rank"].astype(int)
    return pd.Series(
        np.where(rank <= 1000, "large", np.where(rank <= 3000, "small", "micro")),
        index=stocks.index,
    )


def resolve_model_folder(name_or_path: str, relative_to: Path | None = None) -> Path:
    """A model named in a portfolio file: a folder path, or a name under the shipped models/."""
    candidate = Path(name_or_path)
    if relative_to is not None and not candidate.is_absolute():
        beside = relative_to / candidate
        if (beside / "model.yaml").is_file():
            return beside
    if (candidate / "model.yaml").is_file():
        return candidate
    return SHIPPED / name_or_path


_LOADED: dict[tuple[str, float], MarketModel] = {}


def cached_model(folder: Path) -> MarketModel:
    """load_model, once per folder per process (batches load the model once per worker).

    Keyed by the folder and its securities file's modification time, so a rebuilt model is
    read again.
    """
    folder = Path(folder).resolve()
    securities = folder / "securities.csv"
    key = (str(folder), securities.stat().st_mtime if securities.is_file() else 0.0)
    if key not in _LOADED:
        _LOADED[key] = load_model(folder)
    return _LOADED[key]


def load_model(folder: Path) -> MarketModel:
    from ruamel.yaml.error import YAMLError

    from advisor.portfolio import yaml_nodes

    folder = Path(folder)
    meta_path = folder / "model.yaml"
    if not meta_path.is_file():
        known = (
            sorted(p.name for p in SHIPPED.iterdir() if (p / "model.yaml").is_file())
            if SHIPPED.is_dir()
            else []
        )
        raise ModelError(
            _loc(folder),
            "is not a model folder (no model.yaml)",
            fix=f"give a model folder or one of {known}",
        )
    try:
        meta = yaml_nodes.load(meta_path.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        raise ModelError(
            _loc(meta_path),
            f"is not valid YAML ({exc})",
            fix="rebuild it with `advisor model build`",
        ) from exc
    if not isinstance(meta, dict) or "name" not in meta or "as_of" not in meta:
        raise ModelError(
            _loc(meta_path), "lacks name or as_of", fix="rebuild it with `advisor model build`"
        )
    securities = _read_securities(folder / "securities.csv")
    funds = {}
    for path in sorted((folder / "funds").glob("*.csv")):
        funds[path.stem] = _read_fund(path, securities)
    return MarketModel(str(meta["name"]), str(meta["as_of"]), folder, meta, securities, funds)


def _loc(path: Path, line: int | None = None, field: str = "") -> Any:
    from advisor.errors import Location

    return Location(path, line, field)


def _read_securities(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ModelError(
            _loc(path), "is missing", fix="rebuild the model with `advisor model build`"
        )
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], low_memory=False)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(
            _loc(path),
            f"is not a readable CSV ({exc})",
            fix="rebuild the model with `advisor model build`",
        ) from exc
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise ModelError(
            _loc(path, 1, "header"),
            f"lacks columns {missing}",
            fix="rebuild the model with `advisor model build`",
        )
    duplicated = frame["ticker"][frame["ticker"].duplicated()]
    if len(duplicated):
        line = int(duplicated.index[0]) + 2
        raise ModelError(
            _loc(path, line, "ticker"),
            "appears twice",
            value=duplicated.iloc[0],
            fix="keep one row per security",
        )
    for measure in RISK_COLUMNS:
        bad = ~frame[f"{measure}_source"].isin(SOURCES) & (frame["type"] == "stock")
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            raise ModelError(
                _loc(path, row + 2, f"{measure}_source"),
                "must be reported or estimated",
                value=frame.at[row, f"{measure}_source"],
                fix="rebuild the model",
            )
    stocks = frame["type"] == "stock"
    for column in ("market_cap", "size_score", *RISK_COLUMNS):
        values = frame.loc[stocks, column].astype(float)
        bad = values.isna() | (values < 0 if column != "size_score" else values.isna())
        if bad.any():
            row = int(values.index[np.argmax(bad.to_numpy())])
            raise ModelError(
                _loc(path, row + 2, column),
                "must be a number >= 0",
                value=frame.at[row, column],
                fix="rebuild the model",
            )
    frame["sector"] = frame["sector"].fillna("")
    return frame.set_index("ticker", drop=False).rename_axis(None)


def _read_fund(path: Path, securities: pd.DataFrame) -> pd.Series:
    try:
        frame = pd.read_csv(path, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(
            _loc(path),
            f"is not a readable CSV ({exc})",
            fix="rebuild the model with `advisor model build`",
        ) from exc
    if list(frame.columns[:2]) != ["ticker", "weight"]:
        raise ModelError(
            _loc(path, 1, "header"), "must be 'ticker,weight'", fix="rebuild the model"
        )
    unknown = ~frame["ticker"].isin(securities.index)
    if unknown.any():
        row = int(np.argmax(unknown.to_numpy()))
        raise ModelError(
            _loc(path, row + 2, "ticker"),
            "is not in securities.csv",
            value=frame.at[row, "ticker"],
            fix="rebuild the model",
        )
    weights = pd.Series(frame["weight"].astype(float).to_numpy(), index=frame["ticker"])
    if abs(weights.sum() - 1) > 1e-6 or (weights < 0).any():
        raise ModelError(
            _loc(path, None, "weight"),
            f"must be >= 0 and sum to 1 (sum {weights.sum():.6f})",
            fix="rebuild the model",
        )
    if path.stem not in securities.index:
        raise ModelError(
            _loc(path), "names a fund missing from securities.csv", fix="rebuild the model"
        )
    return weights
