"""MarketModel: a model folder loaded and checked: securities, fund look-through, risk model, costs.

Every measure is linear in holdings' values, so a fund's row in the exposure table is the
weighted sum of its holdings' rows: look-through is exact by construction.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import InputError, ModelError
from advisor.input_files import MB, read_regular
from advisor.market.funds import AddedFund, fund_row
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
    "price_date",
    "adv",
    "size_rank",
    "band",
    "size_score",
    "specific_vol",
    "beta",
    "company",
    "ranked",
    "debt_source",
    "market_cap_source",
    *RISK_COLUMNS,
    *(f"{m}_source" for m in RISK_COLUMNS),
)
SHIPPED = Path(__file__).resolve().parents[2] / "models"

# Limits of a model folder (README): the shipped one's files are 5 KB, 2.1 MB and 10-55 KB.
MAX_META_BYTES = 1 * MB
MAX_SECURITIES_BYTES = 32 * MB
MAX_FUND_BYTES = 8 * MB
MAX_FUNDS = 1_000
# Each number column of securities.csv: (lowest, highest, for stocks only, may be empty).
_NUMBERS = {
    "market_cap": (1e-6, 1e15, True, False),  # its log is taken: > 0
    "price": (0.0, 1e6, False, True),  # 0 or empty: no price (a fund without NAV)
    "adv": (0.0, 1e13, False, False),
    "size_rank": (1.0, 1e7, True, False),
    "size_score": (-3.0, 3.0, True, False),  # winsorized at +-3
    "specific_vol": (0.0, 10.0, True, False),
    "beta": (-10.0, 10.0, True, False),
    **{m: (0.0, 1e6, True, False) for m in RISK_COLUMNS},
}
# model.yaml's numbers: (where, lowest, highest).
_PARAMETERS = (
    (("costs", "half_spread_bps"), 0.0, 1e4),
    (("costs", "fund_half_spread_bps"), 0.0, 1e4),
    (("costs", "impact_coefficient"), 0.0, 10.0),
    (("costs", "commission_per_trade"), 0.0, 1e6),
    (("risk_model", "factor_vols"), 0.0, 10.0),
)
_REBUILD = "rebuild the model with `advisor model build`"


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

    def fund_basket(self, ticker: str) -> dict[str, Any] | None:
        """What stands in for a fund's holdings where it is not the fund's own current basket:
        another fund's basket, an approximate one, or a holdings file the portfolio gave. The
        `note` says it in a line (score and every report show it); None for other securities."""
        funds = self.meta.get("funds") or {}
        added = (self.meta.get("added_funds") or {}).get(ticker)
        if added is not None:
            dated = f", as of {added['as_of']}" if added["as_of"] else ", undated"
            share = added["unmatched_share"]
            note = (
                f"{ticker}: holdings file {added['file']} ({added['layout']}{dated}) stands in; "
                f"{share:.1%} of its weight is in holdings model {self.name} lacks"
            )
            return {"ticker": ticker, "basket": added["file"], "approximate": share > 0,
                    "note": note, "unmatched_share": share,
                    "unmatched": added["unmatched"]}  # fmt: skip
        record = (self.meta.get("stand_ins") or {}).get(ticker)
        if record is not None:
            basket = str(record["basket"])
            of = funds.get(basket, {})
            note = (
                f"{ticker}: {of.get('index', basket)} basket ({basket}, {of.get('issuer', '')} "
                f"{of.get('as_of', '')}) stands in for {record['index']}"
            )
            approximate = bool(record.get("approximate"))
        elif (funds.get(ticker) or {}).get("approximate"):
            basket, own = ticker, funds[ticker]
            note = (
                f"{ticker}: {own.get('index', ticker)} basket ({ticker}, {own.get('issuer', '')} "
                f"{own.get('as_of', '')}) from its holdings listed today "
                f"({1 - float(own.get('holdings_gone_share', 0.0)):.0%} of its weight)"
            )
            approximate = True
        else:
            return None
        note += ", approximate" if approximate else ""
        return {"ticker": ticker, "basket": basket, "approximate": approximate, "note": note}

    def basket_notes(self, tickers: list[str]) -> list[str]:
        """The basket line of each fund among `tickers` that has one, in order."""
        found = (self.fund_basket(t) for t in dict.fromkeys(tickers) if t in self.fund_weights)
        return [basket["note"] for basket in found if basket is not None]

    @property
    def standing_in(self) -> list[str]:
        """Funds looked through to another fund's basket (SPY through IVV's)."""
        return [str(t) for t in self.meta.get("stand_ins") or {}]

    def share_classes(self, ticker: str) -> tuple[str, ...]:
        """The listings of `ticker`'s company (GOOG and GOOGL), itself included."""
        company = self.securities["company"].get(ticker)
        if not isinstance(company, str) or not company:
            return (ticker,)
        return self._classes.get(company, (ticker,))

    @cached_property
    def _classes(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        for ticker, company in zip(self.securities.index, self.securities["company"], strict=True):
            if isinstance(company, str) and company:
                found.setdefault(company, []).append(str(ticker))
        return {company: tuple(tickers) for company, tickers in found.items()}

    def same_index(self, ticker: str) -> set[str]:
        """The funds tracking the same index as `ticker`, itself included: substantially
        identical for the wash-sale rule. A stock, or a fund alone on its index: itself."""
        for members in (self.meta.get("same_index") or {}).values():
            if ticker in members:
                return {str(m) for m in members}
        return {ticker}

    def with_funds(self, added: list[AddedFund]) -> MarketModel:
        """This model with funds from holdings files (a portfolio's `funds:`): a fund row each
        (replacing a fund of the same ticker) and its look-through weights."""
        if not added:
            return self
        # A new fund's trading volume is unknown: the least traded of the model's funds stands in.
        adv = float(self.securities.loc[list(self.fund_weights), "adv"].min())
        rows = pd.DataFrame([fund_row(fund, adv) for fund in added])
        rows.index = rows["ticker"].to_numpy()
        kept = self.securities.drop(index=[f.ticker for f in added], errors="ignore")
        securities = pd.concat([kept, rows.reindex(columns=kept.columns)])
        meta = dict(self.meta)
        meta["added_funds"] = {
            **meta.get("added_funds", {}),
            **{
                f.ticker: {
                    "file": f.source,
                    "layout": f.layout,
                    "as_of": f.as_of,
                    "unmatched_share": f.unmatched_share,
                    "unmatched": f.unmatched.to_dict("records"),
                }
                for f in added
            },
        }
        weights = {**self.fund_weights, **{f.ticker: f.weights for f in added}}
        return MarketModel(self.name, self.as_of, self.folder, meta, securities, weights)

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
            rows: dict[int, np.ndarray] = {}  # by basket: funds standing in share one
            for weights in self.fund_weights.values():
                if id(weights) not in rows:
                    rows[id(weights)] = weights.to_numpy() @ stocks.loc[weights.index].to_numpy()
            funds = pd.DataFrame(
                {fund: rows[id(weights)] for fund, weights in self.fund_weights.items()},
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
    if "\0" in name_or_path or any(len(part.encode()) > 255 for part in name_or_path.split("/")):
        raise ModelError(  # the file system would refuse it with an OSError or a ValueError
            _loc("model"),
            "is not a model name or folder (a NUL byte, or a name over 255 bytes)",
            value=name_or_path,
            fix="give a model folder or a model name such as us-equity",
        )
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
    folder = Path(folder)
    meta_path = folder / "model.yaml"
    if not _present(meta_path):
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
    meta = _read_meta(meta_path)
    securities = _read_securities(folder / "securities.csv")
    funds = {}
    for count, path in enumerate(sorted((folder / "funds").glob("*.csv")), start=1):
        if count > MAX_FUNDS:
            raise ModelError(
                _loc(folder / "funds"), f"holds more than {MAX_FUNDS:,} fund files", fix=_REBUILD
            )
        funds[path.stem] = _read_fund(path, securities)
    funds.update(_stand_ins(meta_path, meta, securities, funds))
    unlooked = [t for t in securities.index[securities["type"] == "fund"] if t not in funds]
    if unlooked:  # a fund is looked through, so it needs its holdings
        line = int(np.flatnonzero(securities.index == unlooked[0])[0]) + 2
        raise ModelError(
            _loc(folder / "securities.csv", line, "ticker"),
            f"is a fund without its holdings file funds/{unlooked[0]}.csv",
            value=unlooked[0],
            fix=_REBUILD,
        )
    return MarketModel(str(meta["name"]), str(meta["as_of"]), folder, meta, securities, funds)


def _stand_ins(
    path: Path, meta: dict[str, Any], securities: pd.DataFrame, funds: dict[str, pd.Series]
) -> dict[str, pd.Series]:
    """Funds looked through to another fund's basket (model.yaml `stand_ins`): the basket's
    weights, shared, not copied."""
    records = meta.get("stand_ins") or {}
    if not isinstance(records, dict):
        raise ModelError(_loc(path, None, "stand_ins"), "is not a mapping", fix=_REBUILD)
    out = {}
    for ticker, record in records.items():
        basket = record.get("basket") if isinstance(record, dict) else None
        where = _loc(path, None, f"stand_ins.{ticker}.basket")
        if basket not in funds:
            raise ModelError(where, "is not a fund with its holdings file in this model",
                             value=basket if isinstance(basket, str) else None,
                             fix=_REBUILD)  # fmt: skip
        if (
            ticker in funds
            or ticker not in securities.index
            or not (securities.at[ticker, "type"] == "fund")
        ):
            raise ModelError(where, f"is given for {ticker!r}, which is not a fund in "
                             "securities.csv without a holdings file of its own",
                             fix=_REBUILD)  # fmt: skip
        out[str(ticker)] = funds[basket]
    return out


def _present(path: Path) -> bool:
    """Whether anything is at `path`; a name the file system refuses (too long) is nothing."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _read_meta(path: Path) -> dict[str, Any]:
    from ruamel.yaml.error import YAMLError

    from advisor.portfolio import yaml_nodes

    raw = _read(path, MAX_META_BYTES)
    try:
        meta = yaml_nodes.load(raw.decode("utf-8"))
    except (YAMLError, UnicodeDecodeError, yaml_nodes.TooLarge) as exc:
        raise ModelError(_loc(path), f"is not valid YAML ({exc})", fix=_REBUILD) from exc
    if not isinstance(meta, dict) or "name" not in meta or "as_of" not in meta:
        raise ModelError(_loc(path), "lacks name or as_of", fix=_REBUILD)
    for keys, low, high in _PARAMETERS:
        _check_parameter(path, meta, keys, low, high)
    return meta


def _check_parameter(
    path: Path, meta: dict[str, Any], keys: tuple[str, str], low: float, high: float
) -> None:
    """A cost or risk parameter: absent, or a number (or a mapping of numbers) in range."""
    section = meta.get(keys[0], {})
    field = ".".join(keys)
    if not isinstance(section, dict):
        raise ModelError(_loc(path, None, keys[0]), "is not a mapping", fix=_REBUILD)
    value = section.get(keys[1])
    if value is None:
        return  # the documented default applies
    values: dict[str, object] = value if isinstance(value, dict) else {"": value}
    for name, number in values.items():
        if not _number_in(number, low, high):
            where = f"{field}.{name}" if name else field
            raise ModelError(
                _loc(path, None, where),
                f"must be a number from {low:g} to {high:g}",
                value=number if isinstance(number, int | float | str) else None,
                fix=_REBUILD,
            )


def _number_in(number: object, low: float, high: float) -> bool:
    if isinstance(number, bool) or not isinstance(number, int | float):
        return False
    return low <= number <= high  # NaN is in no range


def _read(path: Path, limit: int) -> bytes:
    try:
        return read_regular(path, limit, _REBUILD)
    except InputError as exc:  # the same message, as a model error
        raise ModelError(exc.location, exc.problem, value=exc.value, fix=exc.fix) from None


def _read_csv(path: Path, limit: int, **options: Any) -> pd.DataFrame:
    raw = _read(path, limit)
    try:
        return pd.read_csv(io.BytesIO(raw), keep_default_na=False, **options)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        problem = f"is not a readable CSV ({' '.join(str(exc).split())})"
        raise ModelError(_loc(path), problem, fix=_REBUILD) from exc


def _loc(path: Path | str, line: int | None = None, field: str = "") -> Any:
    from advisor.errors import Location

    return Location(path, line, field)


def _read_securities(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise ModelError(_loc(path), "is missing", fix=_REBUILD)
    text = dict.fromkeys(("ticker", "name", "type", "company", "sector", "price_date"), str)
    frame = _read_csv(path, MAX_SECURITIES_BYTES, na_values=[""], dtype=text, low_memory=False)
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise ModelError(
            _loc(path, 1, "header"),
            f"lacks columns {missing}",
            fix="rebuild the model with `advisor model build`",
        )
    for column, known in (("ticker", None), ("type", ("stock", "fund"))):
        bad = frame[column].isna() | (~frame[column].isin(known) if known else False)
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            value = frame.at[row, column]
            raise ModelError(
                _loc(path, row + 2, column),
                "must be stock or fund" if known else "is empty",
                value=None if value != value else value,
                fix="rebuild the model",
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
    stocks = (frame["type"] == "stock").to_numpy()
    for column, (low, high, stocks_only, may_be_empty) in _NUMBERS.items():
        frame[column] = _numbers(path, frame[column], column, low, high,
                                 stocks if stocks_only else None, may_be_empty)  # fmt: skip
    frame["sector"] = frame["sector"].fillna("")
    return frame.set_index("ticker", drop=False).rename_axis(None)


def _read_fund(path: Path, securities: pd.DataFrame) -> pd.Series:
    frame = _read_csv(path, MAX_FUND_BYTES, dtype={"ticker": str})
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
    if path.stem in securities.index and securities.at[path.stem, "type"] != "fund":
        raise ModelError(
            _loc(path), "is the file of a stock in securities.csv", fix="rebuild the model"
        )
    funds = securities["type"].loc[frame["ticker"]].to_numpy() == "fund"
    duplicated = frame["ticker"].duplicated().to_numpy()
    for bad, problem in ((funds, "is a fund: look through to its stocks"),
                         (duplicated, "appears twice")):  # fmt: skip
        if bad.any():
            row = int(np.argmax(bad))
            raise ModelError(
                _loc(path, row + 2, "ticker"),
                problem,
                value=frame.at[row, "ticker"],
                fix="rebuild the model",
            )
    weight = _numbers(path, frame["weight"], "weight", 0.0, 1.0, None, False)
    weights = pd.Series(weight.to_numpy(), index=frame["ticker"])
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


def _numbers(
    path: Path,
    column: pd.Series,
    name: str,
    low: float,
    high: float,
    rows: np.ndarray | None,
    may_be_empty: bool,
) -> pd.Series:
    """A column as floats, each in [low, high] (on `rows`, where given); else the first bad
    value's line, column and value."""
    values = pd.to_numeric(column, errors="coerce").astype(float)
    number = values.to_numpy()
    bad = ~((number >= low) & (number <= high))  # NaN fails both
    if may_be_empty:
        bad &= ~(column.isna().to_numpy())
    if rows is not None:
        bad &= rows
    if bad.any():
        row = int(np.argmax(bad))
        found = column.iloc[row]
        raise ModelError(
            _loc(path, row + 2, name),
            f"must be a number from {low:g} to {high:g}",
            value=found if isinstance(found, str) else float(found),
            fix="rebuild the model",
        )
    return values
