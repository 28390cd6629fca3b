"""The proposal document: what `advisor rebalance --output x.json` writes, as pydantic models.

Written with `to_json` (same document, same bytes), read back with `read_proposal` (`advisor
review`) or `read_orders` (`advisor apply`, which needs only the trades and the portfolio they
were made from); a bad file ends as a located InputError. `advisor schema proposal` prints
`proposal_schema()`. Every float is kept at 8 significant digits, on the way in, so a fresh
document and the same one read back from its file are equal and render alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, Field, PlainSerializer, ValidationError

from advisor.enums import CheckName, Side, Status
from advisor.errors import InputError, Location
from advisor.input_files import MB, read_regular
from advisor.measures import BANDS
from advisor.writing import significant


def _whole(value: float) -> float | int:
    return int(value) if value.is_integer() else value


# A JSON number read as a float (never a string or a boolean), at 8 significant digits.
Figure = Annotated[float, Field(strict=True), AfterValidator(significant)]
Shares = Annotated[Figure, PlainSerializer(_whole)]  # whole shares written as 59, not 59.0
Count = Annotated[int, Field(strict=True)]


class Document(BaseModel):
    """Unknown keys are ignored: a newer file stays readable."""


class Order(Document):
    ticker: str
    side: Side
    shares: Shares
    price: Figure


class Trade(Order):
    value: Figure  # |shares x price|
    estimated_cost: Figure
    reason: str
    # Where the price came from and its day ("" in files written before prices carried them,
    # or where the day is unknown).
    price_source: str = ""
    price_date: str = ""
    # A sell's lots in a taxable account with lots (empty for a buy, or where none are known).
    lots: list[LotSale] = []


class LotSale(Document):
    """Shares a sell takes from one tax lot (specific identification)."""

    acquired: str  # YYYY-MM-DD; "" where the lot's date is unknown
    shares: Shares
    cost_basis: Figure | None  # per share; None where unknown (treated as no gain)
    gain: Figure  # (price - cost_basis) x shares; 0 where the basis is unknown
    term: str  # "short" (held one year or less at the run date) or "long"


class Realized(Document):
    """Net realized gains (losses negative), USD."""

    short_term: Figure = 0.0
    long_term: Figure = 0.0


class TaxBlind(Document):
    """The same problem solved without the tax term: what the tax-aware proposal saves and
    what it costs in target and risk."""

    estimated_tax: Figure
    realized: Realized
    trades: Count  # number of trades
    target_value: Figure | None  # the target measure after its trades
    risk_change: Figure  # the optimizer's risk-change term at its trades


class TaxSummary(Document):
    """Taxes of a proposal (None for a deferred or exempt account: no tax figures)."""

    account: str  # taxable
    short_term_rate: Figure
    long_term_rate: Figure
    estimated_tax: Figure  # the tax this proposal's sales add to the year (netting applied)
    realized: Realized  # by this proposal's sales
    year_realized: Realized  # this year's in all: realized_this_year plus this proposal's
    gains_budget: Figure | None
    unknown_basis: list[str] = []  # holdings without lots (basis unknown: no gain assumed)
    wash_sale_blocked: list[str] = []  # trades not proposed because of the wash-sale rule, why
    tax_blind: TaxBlind | None = None

    @property
    def known(self) -> bool:
        """Whether a figure rests on something known: a lot of known basis sold by either
        proposal, gains realized earlier, a budget, a wash-sale rule. Else every figure is
        zero by assumption (no lot of known basis) and only unknown_basis has anything to say."""
        blind = self.tax_blind
        plans = [self.realized, self.year_realized, *([blind.realized] if blind else [])]
        amounts = [self.estimated_tax, *([blind.estimated_tax] if blind else [])]
        amounts += [a for plan in plans for a in (plan.short_term, plan.long_term)]
        return any(amounts) or self.gains_budget is not None or bool(self.wash_sale_blocked)


class Position(Document):
    """A holding as it stands, at the price it is valued at."""

    ticker: str
    shares: Shares
    price: Figure
    price_source: str
    price_date: str
    value: Figure


class Target(Document):
    measure: Literal["small_cap_share", "size_score"]  # a Measures field: read by name
    value: Figure
    band: Figure


def _every_band(bands: dict[str, float]) -> dict[str, float]:
    missing = [band for band in BANDS if band not in bands]
    if missing:
        raise ValueError(f"lacks the size bands {missing}")
    return bands


class Measures(Document):
    """Every portfolio measure, as `advisor score --json` prints them (advisor/measures.py)."""

    value: Figure
    cash: Figure
    equity_value: Figure
    bands: Annotated[dict[str, Figure], AfterValidator(_every_band)]
    small_cap_share: Figure
    size_score: Figure
    geometric_mean_market_cap: Figure | None
    refinancing: Figure
    floating_debt: Figure
    weak_coverage: Figure
    unprofitable: Figure
    economic_sensitivity: Figure
    domestic_revenue_share: Figure
    sectors: dict[str, Figure]
    estimated_share: dict[str, Figure]
    # The largest companies' look-through shares of value, largest first (none in older files).
    largest_companies: dict[str, Figure] = {}

    def figure(self, key: str) -> float:
        """A measure by its JSON key (see advisor/measures.py)."""
        value: float = getattr(self, key)
        return value

    @property
    def cash_share(self) -> float:
        return self.cash / self.value if self.value else 0.0


class Costs(Document):
    estimated_total: Figure
    turnover: Figure  # sum of |trade value| / value today


class Limit(Document):
    value: Count | Figure
    source: str  # user, default, or default loosened to today


class CheckResult(Document):
    name: CheckName
    ok: bool
    value: Figure
    limit: Figure
    detail: str


class ModelRef(Document):
    name: str
    as_of: str


class Source(Document):
    """The portfolio file a proposal was made from."""

    portfolio: str
    sha256: str


class Inputs(Source):
    account: str
    model: ModelRef
    size_scheme: str
    run_date: str = ""  # --date, the day prices are aged against ("" in older files)
    max_price_age: Count | None = None  # days; a price older than this before run_date is stale


class Solver(Document):
    name: str
    status: str  # the solver's own word
    objective: Figure
    terms: dict[str, Figure]
    repairs: Count


class ProposalDocument(Document):
    """The full proposal: what every report renders, fresh or saved."""

    # What the proposal does, in one sentence (advisor/report/summary.py); "" in a file written
    # before documents carried it, and then each report computes it.
    summary: str = ""
    # What the file asks that the proposal cannot do as written, said first: a company or fund
    # that no_sell keeps above its cap stays, not grows (advisor/limits.py).
    kept: list[str] = []
    # Prices the quotes files name that the model lacks; prices older than the age limit.
    warnings: list[str] = []
    # What stands in for the holdings of each fund held or traded, where it is not the fund's
    # own current basket: another fund's (SPY through IVV's), an approximate one, or a holdings
    # file the portfolio gives (advisor/market/funds.py); one line a fund.
    funds: list[str] = []
    status: Status
    target: Target | None = None  # None: the portfolio file sets no target
    trades: list[Trade]
    positions: list[Position] = []  # the holdings before trading (none in older files)
    before: Measures
    after: Measures
    costs: Costs
    limits: dict[str, Limit]
    checks: list[CheckResult]
    pretrade_checks: list[CheckResult]
    diagnosis: list[str] | None  # why the target is out of reach, one finding a line
    inputs: Inputs
    solver: Solver | None
    # Taxes: None for a deferred or exempt account, and in files written before taxes.
    tax: TaxSummary | None = None

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

    def failed_checks(self) -> list[CheckResult]:
        return [c for c in (*self.checks, *self.pretrade_checks) if not c.ok]

    def limit(self, name: str | None) -> tuple[float | None, str]:
        """A limit's value and where it came from; (None, '') for a limit not in the file."""
        entry = self.limits.get(name or "")
        return (None, "") if entry is None else (entry.value, entry.source)


class LotOrder(Order):
    """A trade as `advisor apply` reads it: a sell's lots, where the proposal gives them."""

    lots: list[LotSale] = []


class Orders(Document):
    """What `advisor apply` reads: the trades and the file they were made from. Lenient about
    every other field, so a hand-made proposal of trades is enough."""

    trades: list[LotOrder]
    inputs: Source


def proposal_schema() -> dict[str, Any]:
    return ProposalDocument.model_json_schema()


FIX = "give a proposal written by `advisor rebalance PORTFOLIO --output x.json`"
M = TypeVar("M", bound=BaseModel)
MAX_BYTES = 64 * MB  # a proposal over the whole universe (5,300 trades) is about 3 MB


def read_proposal(path: Path) -> ProposalDocument:
    return _read(path, ProposalDocument)


def read_orders(path: Path) -> Orders:
    return _read(path, Orders)


def _read(path: Path, model: type[M]) -> M:
    raw = read_regular(path, MAX_BYTES, FIX)  # a regular file, never a FIFO; size first
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"cannot be read ({exc})"
        raise InputError(Location(path, field="file"), problem, fix=FIX) from exc
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise _located(path, text, exc) from None
    except RecursionError:
        problem = "nests too deeply to be a proposal"
        raise InputError(Location(path, field="JSON"), problem, fix=FIX) from None


def _located(path: Path, text: str, exc: ValidationError) -> InputError:
    """The first error, as `file: field 'value' problem; fix`."""
    error = exc.errors()[0]
    kind = error["type"]
    if kind == "json_invalid":
        try:  # the standard parser says where, by line
            json.loads(text)
        except RecursionError:
            return InputError(Location(path, field="JSON"), "nests too deeply", fix=FIX)
        except json.JSONDecodeError as bad:
            where = Location(path, bad.lineno, "JSON")
            return InputError(where, f"is not valid JSON ({bad.msg})", fix=FIX)
        return InputError(Location(path, field="JSON"), f"is not valid JSON ({error['msg']})")
    field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
    where = Location(path, field=field.lstrip(".") or "top level")
    found = error.get("input")
    shown = None if isinstance(found, dict | list) else found
    if kind == "missing":
        return InputError(where, "is missing", fix=FIX)
    if kind in ("model_type", "dict_type"):
        return InputError(where, "is not a JSON object", fix=FIX)
    if kind == "list_type":
        return InputError(where, "is not a list", fix=FIX)
    if kind in ("float_type", "float_parsing", "int_type", "int_from_float", "finite_number"):
        return InputError(where, "is not a number", value=shown, fix=FIX)
    if kind == "enum":
        choices = str(error.get("ctx", {}).get("expected", "")).replace("'", "")
        return InputError(where, f"is not {choices}", value=shown, fix=FIX)
    return InputError(where, f"is not valid ({error['msg']})", value=shown, fix=FIX)
