"""Loading a portfolio file: safe YAML, the line of every field, one located error per problem."""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from advisor.errors import InputError, Location
from advisor.input_files import MB, read_regular
from advisor.portfolio import yaml_nodes
from advisor.portfolio.model import Account, Portfolio
from advisor.portfolio.tickers import TickerIndex

BUY_SOURCES = ("holdings", "funds", "all")  # lower case only: 'ALL' is the ticker of Allstate

_CORE = "tag:yaml.org,2002:"
# Tags that name plain data. Anything else (python/object, !custom, binary, set, omap) is refused,
# because the round-trip loader keeps unknown tags instead of failing on them.
_SCALAR_TAGS = {
    _CORE + name for name in ("str", "value", "int", "float", "bool", "null", "timestamp")
}
_PLAIN_TAGS = _SCALAR_TAGS | {_CORE + "map", _CORE + "seq"}
# Limits of a portfolio file (README, "Limits of a portfolio file"), checked before the work
# they bound: the size before reading, the holdings before composing, the rest while converting.
MAX_FILE_BYTES = 2 * MB  # 10,000 holdings in flow style take about 330 KB
MAX_HOLDINGS = 10_000
MAX_DEPTH = 20  # a portfolio nests 6 levels at most (holdings, a holding, lots, a lot, a value)
MAX_GUESSES = 20  # unknown tickers given a "did you mean"
MAX_VALUES = 200_000  # keys and values, aliases counted each time they are used
_TICKER_KEY = re.compile(r"""(?:^|[\s{,])["']?ticker["']?\s*:""", re.MULTILINE)
_LAST_PART = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")
WASH_DAYS = 30  # a loss sale counts for the wash-sale rule this many days (advisor/tax/wash.py)


@dataclass(frozen=True)
class LoadedPortfolio:
    """A validated portfolio with where it came from: file, hash, and the line of each field."""

    path: Path
    portfolio: Portfolio
    sha256: str
    lines: dict[str, int]

    def line_of(self, field: str) -> int | None:
        """The line of `field`, else of its nearest parent ('holdings[3]' for 'holdings[3].x')."""
        return _line_of(self.lines, field)

    def where(self, field: str) -> Location:
        return Location(self.path, self.line_of(field), field)


class InputErrors(InputError):
    """Several problems in one file: the first one's details, every problem on its own line."""

    def __init__(self, errors: Sequence[InputError]) -> None:
        first = errors[0]
        super().__init__(first.location, first.problem, value=first.value, fix=first.fix)
        self.errors = list(errors)
        self.args = ("\n".join(str(error) for error in errors),)


def load_portfolio(path: Path) -> LoadedPortfolio:
    """Read, parse and validate a portfolio file; any problem raises InputError (exit code 2)."""
    raw = _read(path)
    text = _decode(path, raw)
    _count_holdings(path, text)
    deep = yaml_nodes.deep_line(raw, MAX_DEPTH)
    if deep is not None:
        raise _too_deep(path, deep, "file")
    data, lines = _parse(path, text)
    try:
        # Strict: YAML already types its values, and lax coercion would read `shares: true` as 1.
        portfolio = Portfolio.model_validate(data, strict=True)
    except ValidationError as exc:
        errors = [_explain(path, lines, error) for error in exc.errors(include_url=False)]
        raise _combine(errors) from exc
    loaded = LoadedPortfolio(path, portfolio, hashlib.sha256(raw).hexdigest(), lines)
    _check_value(loaded)
    return loaded


def resolve_tickers(
    loaded: LoadedPortfolio,
    index: TickerIndex,
    model_name: str,
    former: Callable[[str], str | None] | None = None,
) -> dict[int, str]:
    """Map each holding's position to the model's display ticker; check the limits' tickers.
    An unknown ticker is explained by `former` (renamed or delisted) where the model knows it,
    else matched by spelling."""
    errors: list[InputError] = []
    resolved: dict[int, str] = {}
    first: dict[str, int] = {}
    unknown = f"is not in model {model_name} ({len(index):,} tickers)"
    # A guess compares a ticker with every one in the model (a few ms): past the first
    # MAX_GUESSES unknown tickers, none is guessed, so 10,000 of them are refused in a second.
    guessing = _Guessing(index, former)
    for position, holding in enumerate(loaded.portfolio.holdings):
        field = f"holdings[{position}].ticker"
        ticker = index.resolve(holding.ticker)
        if ticker is None:
            errors.append(_unknown_ticker(loaded, field, holding.ticker, guessing(), unknown))
        elif ticker in first:
            errors.append(_duplicate_ticker(loaded, position, first[ticker]))
        else:
            first[ticker] = position
            resolved[position] = ticker
    limits = loaded.portfolio.limits
    for name in ("no_sell", "no_buy"):
        for i, ticker in enumerate(getattr(limits, name)):
            if index.resolve(ticker) is None:
                field = f"limits.{name}[{i}]"
                errors.append(_unknown_ticker(loaded, field, ticker, guessing(), unknown))
    for i, source in enumerate(limits.buy_from):
        if source not in BUY_SOURCES and index.resolve(source) is None:
            field = f"limits.buy_from[{i}]"
            errors.append(_unknown_ticker(loaded, field, source, guessing(), unknown))
    for i, sale in enumerate(loaded.portfolio.tax.recent_sales):
        if index.resolve(sale.ticker) is None:
            field = f"tax.recent_sales[{i}].ticker"
            errors.append(_unknown_ticker(loaded, field, sale.ticker, guessing(), unknown))
    if errors:
        raise _combine(errors)
    return resolved


def check_tax(loaded: LoadedPortfolio, run_date: date) -> list[str]:
    """The dates of the `tax:` section and of the lots against the run date: one in the future
    is refused (a sale or a purchase that has not happened); what the file gives but no rule
    uses is returned as warnings, one line each."""
    portfolio = loaded.portfolio
    errors: list[InputError] = []
    warnings: list[InputError] = []
    day = run_date.isoformat()
    for i, holding in enumerate(portfolio.holdings):
        for j, lot in enumerate(holding.lots or []):
            if lot.acquired is not None and lot.acquired > run_date:
                field = f"holdings[{i}].lots[{j}].acquired"
                fix = "a lot is bought on or before the run date"
                errors.append(_future(loaded, field, lot.acquired, run_date, fix))
    tax = portfolio.tax
    for i, sale in enumerate(tax.recent_sales):
        field = f"tax.recent_sales[{i}].date"
        if sale.date > run_date:
            errors.append(_future(loaded, field, sale.date, run_date, "list sales made by then"))
        elif tax.account == Account.taxable and (run_date - sale.date).days > WASH_DAYS:
            days = (run_date - sale.date).days
            problem = f"is {days} days before the run date {day}, past the {WASH_DAYS}-day "
            problem += "wash-sale window: the sale is ignored"
            fix = "remove it (apply drops sales older than 61 days)"
            warnings.append(InputError(loaded.where(field), problem, value=sale.date, fix=fix))
    if tax.account != Account.taxable:
        for name in ("gains_budget", "recent_sales"):
            if name in tax.model_fields_set and getattr(tax, name) not in (None, []):
                kind = "an exempt" if tax.account == Account.exempt else "a deferred"
                problem = f"does not apply to {kind} account (trades inside "
                problem += "it are not taxed): it is ignored"
                fix = "remove it, or set tax.account: taxable"
                warnings.append(InputError(loaded.where(f"tax.{name}"), problem, fix=fix))
    if errors:
        raise _combine(errors)
    return [f"warning: {warning}" for warning in warnings]


def _future(
    loaded: LoadedPortfolio, field: str, when: date, run_date: date, fix: str
) -> InputError:
    problem = f"is after the run date {run_date.isoformat()}"
    fix = f"{fix}; check the date, or give --date YYYY-MM-DD"
    return InputError(loaded.where(field), problem, value=when, fix=fix)


PRICES_FIX = "give the path of a CSV of ticker and price, relative to this portfolio file"


def prices_file(loaded: LoadedPortfolio) -> Path | None:
    """The quotes file the portfolio names (`prices:`, relative to it), checked to exist."""
    name = loaded.portfolio.prices
    if name is None:
        return None
    path = loaded.path.parent / name
    if not path.is_file():
        problem = "is not a file" if path.exists() else f"names no file (looked for {path})"
        raise InputError(
            loaded.where("prices"),
            problem,
            value=name,
            fix=PRICES_FIX,
        )
    return path


def portfolio_schema() -> dict[str, Any]:
    """The JSON Schema of a portfolio file, for editors (`advisor schema`)."""
    schema = Portfolio.model_json_schema()
    schema.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "advisor portfolio file",
        "description": "Holdings, cash, a small-cap target and limits for `advisor rebalance`.",
        **schema,
    }


# Reading and parsing


def _read(path: Path) -> bytes:
    return read_regular(path, MAX_FILE_BYTES, "give the path of a readable portfolio .yaml file")


def _count_holdings(path: Path, text: str) -> None:
    """Refuse a file of more than MAX_HOLDINGS holdings before composing it: composing and
    validating 100,000 holdings takes seconds. Each holding has a `ticker:` key; counting the
    keys in the text is cheap (a key written through an alias is caught when converting)."""
    for count, found in enumerate(_TICKER_KEY.finditer(text), start=1):
        if count > MAX_HOLDINGS:
            line = text.count("\n", 0, found.start() + 1) + 1
            raise _too_many_holdings(path, line)


def _too_many_holdings(path: Path, line: int) -> InputError:
    return InputError(
        Location(path, line, "holdings"),
        f"has more than {MAX_HOLDINGS:,} holdings, the most a portfolio file may have",
        fix="split the account into several files",
    )


def _check_value(loaded: LoadedPortfolio) -> None:
    """What the file's values allow on their own, but no proposal can work from."""
    portfolio = loaded.portfolio
    if portfolio.cash == 0 and all(h.quantity == 0 for h in portfolio.holdings):
        line = loaded.line_of("cash") or loaded.line_of("holdings") or 1
        raise InputError(
            Location(loaded.path, line, "cash"),
            "with no shares held: the portfolio has no value",
            value=0,
            fix="add the cash or the shares the account holds",
        )
    if portfolio.target is not None and portfolio.limits.cash_min == 1:
        raise InputError(
            loaded.where("limits.cash_min"),
            "keeps all of the value in cash: nothing is left to invest toward the target",
            value=1,
            fix="lower cash_min (e.g. 0.01), or remove target: to keep the account in cash",
        )


def _decode(path: Path, raw: bytes) -> str:
    not_text = "is not a text YAML file"
    fix = "a portfolio file is UTF-8 text; save it as plain text"
    if b"\0" in raw:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        raise InputError(Location(path, line, "file"), f"{not_text} (it has NUL bytes)", fix=fix)
    try:
        return raw.decode("utf-8-sig")  # tolerate the byte-order mark some editors write
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problem = f"{not_text} (byte 0x{raw[exc.start]:02x} is not UTF-8)"
        raise InputError(Location(path, line, "file"), problem, fix=fix) from exc


def _parse(path: Path, text: str) -> tuple[dict[str, Any], dict[str, int]]:
    yaml = YAML(typ="rt")
    try:
        # Compose only: nodes carry tags and lines, and nothing is constructed from them yet.
        root = yaml_nodes.compose(yaml, text)
    except YAMLError as exc:
        raise _yaml_error(path, text, exc) from exc
    except RecursionError:  # the composers recurse once per level: hundreds of [ or {
        raise _too_deep(path, None, "file") from None
    if root is None or (isinstance(root, ScalarNode) and root.tag == _CORE + "null"):
        raise InputError(
            Location(path, 1, "file"),
            "is empty",
            fix="a portfolio needs at least holdings or cash",
        )
    if not isinstance(root, MappingNode):
        kind = "a list" if isinstance(root, SequenceNode) else f"the value {root.value!r}"
        squeezed = isinstance(root, ScalarNode) and _NO_SPACE.match(str(root.value))
        raise InputError(
            Location(path, _line(root), "top level"),
            f"is {kind}, not a mapping",
            fix="a colon needs a space after it: write 'key: value'"
            if squeezed
            else "start with keys such as 'cash:' and 'holdings:'",
        )
    converter = _Converter(path, yaml.constructor)
    data = converter.convert(root, "")
    return data, converter.lines


def _too_deep(path: Path, line: int | None, field: str) -> InputError:
    return InputError(
        Location(path, line, field),
        f"nests more than {MAX_DEPTH} levels deep",
        fix="a portfolio nests 6 levels at most (holdings, lots); check the brackets",
    )


def _yaml_error(path: Path, text: str, exc: YAMLError) -> InputError:
    if isinstance(exc, ReaderError):
        return _control_character(path, text, exc)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line: int | None = mark.line + 1 if mark is not None else None
    context = str(getattr(exc, "context", None) or "")
    opened = getattr(exc, "context_mark", None)
    start = opened.line + 1 if opened is not None else line
    problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
    # ruamel says "found character '\\t' that cannot start any token", for a tab anywhere.
    if "'\\t'" in problem:
        return InputError(
            Location(path, line, "indentation"),
            "has a tab",
            fix="tabs are not allowed in YAML indentation; use spaces",
        )
    where, plain, fix = _plain_syntax(text.splitlines(), line, start, context, problem)
    return InputError(Location(path, where, "YAML syntax"), f"error: {plain}", fix=fix)


_NO_SPACE = re.compile(r"""^\s*(-\s+)?[^\s:#'"{}\[\],]+:[^\s:/]""")  # `cash_min:0.01`


def _plain_syntax(
    lines: list[str], line: int | None, start: int | None, context: str, problem: str
) -> tuple[int | None, str, str]:
    """(line, problem, fix) in plain words for YAML's most common syntax errors: an unclosed
    quote or bracket, a missing colon or space after it, a line indented out of step."""
    near = [n for n in (line, (line or 1) - 1, start) if n and 0 < n <= len(lines)]
    squeezed = next((n for n in near if _NO_SPACE.match(lines[n - 1])), None)
    if context.startswith("while scanning a quoted scalar"):
        return start, "this line opens a quote that is never closed", "close the quote"
    if context.startswith("while parsing a flow") or "expected ',' or" in problem:
        return (
            start,
            "this line opens a bracket ({ or [) that is not closed where it should be",
            "close it with } or ] on the same item, and separate items with commas",
        )
    if squeezed is not None and ("expected ':'" in problem or "not allowed here" in problem):
        return squeezed, "a colon needs a space after it", "write 'key: value'"
    if "could not find expected ':'" in problem:
        return (
            start,
            "this line has no colon after its key",
            "write 'key: value', with a colon and a space",
        )
    if "expected <block end>" in problem or "mapping values are not allowed here" in problem:
        return (
            line,
            "this line is indented differently from the lines above it",
            "check its indentation: the keys of one mapping and the items of one list start in "
            "the same column (and a value with ': ' in it needs quotes)",
        )
    if "another document" in problem:
        return line, problem, "a portfolio file holds one YAML document; remove the second '---'"
    if context.startswith("while ") and start is not None:
        context = f"{context} started on line {start}"  # often where the mistake is
    words = ", ".join(part for part in (context, problem) if part)
    return (
        line,
        words,
        "check the brackets, quotes, colons and indentation on this line and the one before",
    )


def _control_character(path: Path, text: str, exc: ReaderError) -> InputError:
    line = text[: exc.position].count("\n") + 1
    problem = f"is not a text YAML file (it has the control character #x{exc.character:04x})"
    return InputError(Location(path, line, "file"), problem, fix="save it as plain UTF-8 text")


class _Converter:
    """Composed YAML nodes to plain Python, noting each field's line and refusing what a
    portfolio never needs: tags, duplicate keys, merge keys, aliases that loop or explode."""

    def __init__(self, path: Path, constructor: Any) -> None:
        self.path = path
        self.constructor = constructor
        self.lines: dict[str, int] = {}
        self.count = 0
        self.open: list[int] = []  # nodes being converted: an alias to one of them is a loop
        self.seen: set[int] = set()  # nodes converted: one seen again is an alias
        self.aliased = False  # whether an alias has been expanded yet

    def convert(self, node: Node, field: str) -> Any:
        self._check(node, field)
        if isinstance(node, ScalarNode):
            return self._scalar(node, field)
        if len(self.open) >= MAX_DEPTH:
            raise _too_deep(self.path, _line(node), field)
        if field == "holdings" and len(node.value) > MAX_HOLDINGS:
            raise _too_many_holdings(self.path, _line(node))
        self.open.append(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, field)
            return [self._item(item, f"{field}[{i}]") for i, item in enumerate(node.value)]
        finally:
            self.open.pop()

    def _item(self, node: Node, field: str) -> Any:
        self.lines.setdefault(field, _line(node))
        return self.convert(node, field)

    def _mapping(self, node: MappingNode, field: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in node.value:
            name = self._key(key, field)
            path = f"{field}.{name}" if field else name
            if name in out:
                problem = f"is a duplicate key (first on line {self.lines[path]})"
                raise self._error(key, path, problem, "keep one of them")
            self.lines[path] = _line(key)
            out[name] = self.convert(value, path)
        return out

    def _key(self, key: Node, field: str) -> str:
        where = field or "top level"
        if key.tag == _CORE + "merge":
            problem = "has a << merge key, not supported in a portfolio file"
            raise self._error(key, where, problem, "write the keys out; plain aliases are fine")
        if not isinstance(key, ScalarNode):
            problem = "has a key that is a list or mapping"
            raise self._error(key, where, problem, "keys are plain names such as 'ticker'")
        self._check(key, field)
        return str(key.value)

    def _scalar(self, node: ScalarNode, field: str) -> Any:
        kind = str(node.tag).removeprefix(_CORE)
        if kind in ("str", "value"):
            # The raw text (the constructor would wrap !!str in an object), less the marks
            # ruamel's round-trip composer leaves where a folded (>) scalar was folded.
            text = str(node.value)
            return text.replace("\a", "") if node.style == ">" else text
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (ValueError, YAMLError) as exc:  # e.g. 2020-13-01 looks like a date but is not one
            name, fix = _SCALARS[kind]
            raise self._error(node, field, f"is not a valid {name}", fix, node.value) from exc
        if isinstance(value, datetime):  # ruamel's TimeStamp subclass, made plain
            return datetime.combine(value.date(), value.timetz())
        if value is None or isinstance(value, date):
            return value
        return _CASTS[kind](value)  # ScalarFloat, ScalarInt, ScalarBoolean made plain

    def _check(self, node: Node, field: str) -> None:
        self.count += 1
        where = field or "top level"
        self.aliased = self.aliased or id(node) in self.seen
        self.seen.add(id(node))
        if self.count > MAX_VALUES:
            if self.aliased:
                problem = f"expands aliases to more than {MAX_VALUES:,} values"
                raise self._error(node, where, problem, "write the file without nested aliases")
            problem = f"takes the file past {MAX_VALUES:,} keys and values, the most it may have"
            raise self._error(node, where, problem, "split the account into several files")
        if id(node) in self.open:
            raise self._error(node, where, "is an alias that contains itself", "remove the loop")
        plain = _SCALAR_TAGS if isinstance(node, ScalarNode) else _PLAIN_TAGS
        if node.tag not in plain:
            tag = str(node.tag).replace(_CORE, "!!")
            problem = "is a YAML tag, not allowed in a portfolio file"
            raise self._error(node, where, problem, "remove the tag and write a plain value", tag)

    def _error(
        self, node: Node, field: str, problem: str, fix: str, value: object = None
    ) -> InputError:
        return InputError(Location(self.path, _line(node), field), problem, value=value, fix=fix)


_CASTS: dict[str, type] = {"int": int, "float": float, "bool": bool}
_SCALARS = {  # implicit tag: (what it is, how to write one)
    "int": ("whole number", "write a whole number such as 100"),
    "float": ("number", "write a number such as 0.25"),
    "bool": ("boolean", "write true or false"),
    "null": ("null", "leave the value out"),
    "timestamp": ("date", "write a date as YYYY-MM-DD"),
}


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _line_of(lines: dict[str, int], field: str) -> int | None:
    while field:
        if field in lines:
            return lines[field]
        parent = _LAST_PART.sub("", field)
        field = "" if parent == field else parent
    return None


# Explaining pydantic's errors in the file's terms

_RANGES = {
    "greater_than_equal": (">=", "ge"),
    "greater_than": (">", "gt"),
    "less_than_equal": ("<=", "le"),
    "less_than": ("<", "lt"),
}
_TYPE_FIXES = {  # error-type prefix: (problem, fix)
    "float": ("is not a number", "must be a number, such as 100 or 0.25"),
    "int": ("is not a whole number", "must be a whole number, such as 100"),
    "bool": ("is not true or false", "must be true or false"),
    "date": ("is not a date", "must be a date written as YYYY-MM-DD"),
    "string_type": ("is not text", "put it in quotes to make it text"),
    "string_pattern": ("is not a ticker", "use letters, digits and . / - (e.g. BRK.B)"),
    "string_too_short": ("is empty", "write a value, e.g. a ticker such as AAPL"),
    "string_too_long": ("is too long", "a ticker has at most 12 characters"),  # the only limit
    "list_type": ("is not a list", "write a list such as [AAPL, MSFT] or one '- item' per line"),
    "model": ("is not a mapping", "write 'key: value' pairs under it"),
    "dict": ("is not a mapping", "write 'key: value' pairs under it"),
    "missing": ("is missing", "add it"),
}
_VALUE_FIXES = {  # start of a validator's message in portfolio.py: (problem, None keeps it; fix)
    "must be a finite": (None, "write a number such as 100"),
    "needs shares or lots": (None, "add 'shares: N' or a 'lots:' list"),
    "lots must not be empty": (None, "list at least one lot, or give shares instead"),
    "lots add up": (None, "check the lots' shares"),
    "shares ": (None, "drop shares (the lots give it) or make it their sum"),
    "cash_max ": (None, "raise cash_max or lower cash_min: cash is kept between the two"),
    "is not an account kind": (None, "write taxable, deferred (IRA, 401k) or exempt (Roth)"),
    "give exactly one": (
        "needs exactly one of small_cap_share or size_score",
        "give one, e.g. 'small_cap_share: 0.30', not both",
    ),
}


def _explain(path: Path, lines: dict[str, int], error: Any) -> InputError:
    loc = tuple(error["loc"])
    field = _field_path(loc)
    value = error.get("input")
    problem, fix = _problem(error, loc, value)
    if loc == ("prices",):  # the type fixes speak of tickers and numbers
        fix = PRICES_FIX
    # Python would show a YAML `true` as True: leave booleans to the problem text.
    plain = isinstance(value, str | int | float | date) and not isinstance(value, bool)
    shown = value if plain else None
    if error["type"] == "extra_forbidden":
        shown = None  # the field path already names the unknown key
    return InputError(Location(path, _line_of(lines, field), field), problem, value=shown, fix=fix)


def _problem(error: Any, loc: tuple[str | int, ...], value: object) -> tuple[str, str]:
    kind: str = error["type"]
    hint = _share_hint(kind, loc, value)
    if hint is not None:
        return hint
    if isinstance(value, float) and not math.isfinite(value):
        return "is not a finite number", "write a number such as 100"
    if kind == "extra_forbidden":
        return "is an unknown key", _suggest_key(loc)
    if kind in _RANGES:
        op, name = _RANGES[kind]
        return "is out of range", f"must be {op} {error['ctx'][name]:g}"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        for start, (problem, fix) in _VALUE_FIXES.items():
            if message.startswith(start):
                return problem or message, fix
        return message, ""
    for start, (problem, fix) in _TYPE_FIXES.items():
        if kind.startswith(start):
            if isinstance(value, bool):
                problem = f"is {str(value).lower()}, a boolean"
            typed = kind.startswith(("float", "int", "bool", "date"))
            return problem, fix + (" (without quotes)" if typed and _quoted(value) else "")
    message = str(error["msg"])
    return message[:1].lower() + message[1:], ""


_PERCENT = re.compile(r"\s*(\d{1,6}(?:\.\d{1,6})?)\s*%\s*")


def _share_hint(kind: str, loc: tuple[str | int, ...], value: object) -> tuple[str, str] | None:
    """A percent written for a share (`max_turnover: 30%`, `cash_min: 30`): the fraction to
    write, for fields whose range is a fraction (at most 2)."""
    upper = _upper_bound(loc)
    if upper is None or upper > 2:
        return None
    if isinstance(value, str) and kind.startswith("float"):
        found = _PERCENT.fullmatch(value)
        if found:
            fraction = float(found.group(1)) / 100
            return (
                "is a percent, not a fraction",
                f"write {_fraction(fraction)} for {value.strip()}",
            )
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    above = kind in ("less_than_equal", "less_than")
    if above and number is not None and 2 < number <= 100 * upper:
        fraction = float(number) / 100
        return (
            "is out of range",
            f"must be <= {upper:g}; write {_fraction(fraction)} for {value:g}%",
        )
    return None


def _fraction(value: float) -> str:
    """0.3 as 0.30, 0.125 as 0.125."""
    return f"{value:.2f}" if math.isclose(value * 100, round(value * 100)) else f"{value:g}"


def _upper_bound(loc: tuple[str | int, ...]) -> float | None:
    """The most the field at `loc` may be (its `le` or `lt`), if a model field says."""
    model = _model_at(loc[:-1])
    info = model.model_fields.get(str(loc[-1])) if model is not None and loc else None
    if info is None:
        return None
    pending: list[Any] = [*info.metadata, info.annotation]
    while pending:
        item = pending.pop()
        for name in ("le", "lt"):
            bound = getattr(item, name, None)
            if isinstance(bound, int | float):
                return float(bound)
        pending.extend(getattr(item, "metadata", None) or ())
        pending.extend(get_args(item))
    return None


def _quoted(value: object) -> bool:
    """Whether `value` is a number, date or boolean that quotes turned into text."""
    if not isinstance(value, str):
        return False
    if value.strip().lower() in ("true", "false"):
        return True
    for parse in (float, date.fromisoformat):
        try:
            parse(value)
        except ValueError:
            continue
        return True
    return False


def _field_path(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "top level"


def _suggest_key(loc: tuple[str | int, ...]) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return "remove it"
    known = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at `loc`, to list its keys."""
    model: type[BaseModel] | None = Portfolio
    keyed = False  # the part before was a mapping of names (funds): this part is a name
    for part in loc:
        if model is None:
            return None
        if isinstance(part, str) and not keyed:
            info = model.model_fields.get(part)
            model = _nested_model(info.annotation) if info else None
            keyed = info is not None and get_origin(info.annotation) is dict
        else:
            keyed = False
    return model


def _nested_model(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


# Ticker problems


class _Guessing:
    """The index to guess from (and the model's former tickers), for the first MAX_GUESSES
    calls; then None."""

    def __init__(self, index: TickerIndex, former: Callable[[str], str | None] | None) -> None:
        self.index = index
        self.former = former
        self.calls = 0

    def __call__(self) -> _Guessing | None:
        self.calls += 1
        return self if self.calls <= MAX_GUESSES else None


def _unknown_ticker(
    loaded: LoadedPortfolio, field: str, ticker: str, guessing: _Guessing | None, problem: str
) -> InputError:
    advice = None
    if guessing is not None and guessing.former is not None:
        advice = guessing.former(ticker)
    guess = guessing.index.suggest(ticker) if guessing is not None and not advice else None
    fix = f"did you mean {guess!r}?" if guess else "check the spelling, or add it to the model"
    fix = advice or fix
    if field.startswith("limits.buy_from"):
        close = difflib.get_close_matches(ticker.lower(), BUY_SOURCES, n=1, cutoff=0.6)
        guess = close[0] if close else guess
        fix = "expected one of holdings, funds, all or a ticker"
        fix += f"; did you mean {guess!r}?" if guess else ""
    return InputError(loaded.where(field), problem, value=ticker, fix=fix)


def _duplicate_ticker(loaded: LoadedPortfolio, position: int, first: int) -> InputError:
    holdings = loaded.portfolio.holdings
    earlier = f"holdings[{first}].ticker"
    return InputError(
        loaded.where(f"holdings[{position}].ticker"),
        f"is the same security as {earlier} {holdings[first].ticker!r} "
        f"on line {loaded.line_of(earlier)}",
        value=holdings[position].ticker,
        fix="merge them into one holding (tax lots keep separate purchases apart)",
    )


def _combine(errors: Sequence[InputError]) -> InputError:
    ordered = sorted(errors, key=lambda error: error.location.line or 0)
    return ordered[0] if len(ordered) == 1 else InputErrors(ordered)
