"""The portfolio file loader: safe YAML, line numbers, one located message per bad input."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from advisor.errors import InputError
from advisor.portfolio.loading import (
    InputErrors,
    LoadedPortfolio,
    load_portfolio,
    portfolio_schema,
    resolve_tickers,
)
from advisor.portfolio.tickers import TickerIndex

DATA = Path(__file__).parent / "data"
INDEX = TickerIndex(["NVDA", "AAPL", "MSFT", "IWM", "TSLA", "BRK.B", "ALL"])


def write(tmp_path: Path, text: str, name: str = "portfolio.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def located(name: str, line: int | None, field: str, value: str = "") -> str:
    """The start of a one-line message: `file:line: field 'value'`, as a regex."""
    where = f"{name}:{line}: " if line else f"{name}: "
    return re.escape(where + field + (f" {value}" if value else ""))


def load_data(name: str) -> LoadedPortfolio:
    return load_portfolio(DATA / name)


# Good files


def test_good_file_with_lots_comments_and_dates() -> None:
    loaded = load_data("good_lots.yaml")
    portfolio = loaded.portfolio
    assert portfolio.cash == 25000.0
    assert [h.ticker for h in portfolio.holdings] == ["NVDA", "AAPL", "IWM", "MSFT", "BRK/B"]
    msft = portfolio.holdings[3]
    assert msft.quantity == 50
    assert msft.lots is not None
    assert [lot.acquired for lot in msft.lots] == [date(2019, 5, 2), date(2025, 8, 15)]
    assert portfolio.target is not None and portfolio.target.small_cap_share == 0.30
    assert portfolio.limits.buy_from == ["holdings", "funds"]


def test_lines_name_every_field() -> None:
    loaded = load_data("good_lots.yaml")
    assert loaded.lines["cash"] == 4
    assert loaded.lines["holdings[1].price"] == 7
    assert loaded.lines["holdings[3].lots[1].acquired"] == 12
    assert loaded.lines["limits.no_buy[0]"] == 24
    assert loaded.line_of("holdings[4].shares") == 14
    assert loaded.line_of("holdings[0].price") == 6  # absent: falls back to the holding's line
    assert loaded.line_of("limits.cash_min") == 19  # absent: falls back to 'limits'
    assert loaded.line_of("nowhere") is None


def test_hash_is_of_the_raw_bytes(tmp_path: Path) -> None:
    import hashlib

    text = "cash: 100  # comment\n"
    loaded = load_portfolio(write(tmp_path, text))
    assert loaded.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert loaded.path == tmp_path / "portfolio.yaml"


def test_plain_python_reaches_pydantic(tmp_path: Path) -> None:
    text = "cash: 1_000\nholdings:\n  - {ticker: AAPL, shares: !!float 3}\n"
    loaded = load_portfolio(write(tmp_path, text))
    assert type(loaded.portfolio.cash) is float and loaded.portfolio.cash == 1000
    assert loaded.portfolio.holdings[0].quantity == 3


def test_aliases_are_fine(tmp_path: Path) -> None:
    text = "holdings:\n  - {ticker: AAPL, shares: 1}\nlimits:\n  no_sell: &keep [AAPL]\n"
    text += "  no_buy: *keep\n"
    loaded = load_portfolio(write(tmp_path, text))
    assert loaded.portfolio.limits.no_buy == ["AAPL"]


# Bad files in tests/data: one per kind of bad input

BAD_FILES = [
    # file, line, field, value, words of the fix
    ("bad_tab.yaml", 3, "indentation", "", "tabs are not allowed in YAML indentation; use spaces"),
    ("bad_syntax.yaml", 3, "YAML syntax", "", "close it with } or ]"),
    ("bad_unknown_key.yaml", 6, "limits.max_turnvoer", "", "did you mean 'max_turnover'?"),
    ("bad_negative_shares.yaml", 5, "holdings[1].shares", "-5", "must be >= 0"),
    ("bad_nan_shares.yaml", 4, "holdings[2].shares", "nan", "is not a finite number"),
    ("bad_not_number.yaml", 3, "holdings[0].shares", "'four hundred'", "must be a number"),
    ("bad_target_range.yaml", 5, "target.small_cap_share", "1.5", "must be <= 1"),
    ("bad_tag.yaml", 4, "holdings[0].shares", "'!!python/object/apply:os.system'", "tag"),
    ("bad_duplicate_key.yaml", 5, "limits.max_turnover", "", "duplicate key (first on line 3)"),
    ("bad_top_level.yaml", 2, "top level", "", "is a list, not a mapping"),
    ("bad_empty.yaml", 1, "file", "", "a portfolio needs at least holdings or cash"),
]


@pytest.mark.parametrize(("name", "line", "field", "value", "fix"), BAD_FILES)
def test_bad_file(name: str, line: int | None, field: str, value: str, fix: str) -> None:
    with pytest.raises(InputError, match=located(name, line, field, value)) as caught:
        load_data(name)
    message = str(caught.value)
    assert fix in message
    assert "\n" not in message and "Traceback" not in message
    assert caught.value.exit_code == 2


# Bad bytes and missing files


def test_missing_file_has_no_line(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(InputError, match=re.escape(f"{path}: file does not exist")) as caught:
        load_portfolio(path)
    assert caught.value.location.line is None


def test_nul_bytes_are_not_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"cash: 1\n\x89PNG\x00\x00\x01")
    with pytest.raises(InputError, match=located("binary.yaml", 2, "file") + " is not a text YAML"):
        load_portfolio(path)


def test_bytes_that_are_not_utf8_are_not_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("cash: 1\naccount: Société\n".encode("latin-1"))
    with pytest.raises(
        InputError, match=located("latin1.yaml", 2, "file") + r" .*0xe9 is not UTF-8"
    ):
        load_portfolio(path)


def test_control_character_is_not_a_text_file(tmp_path: Path) -> None:
    path = write(tmp_path, "cash: 1\n\naccount: a\x07b\n", "bell.yaml")
    with pytest.raises(InputError, match=located("bell.yaml", 3, "file") + " is not a text YAML"):
        load_portfolio(path)


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfcash: 5\n")
    assert load_portfolio(path).portfolio.cash == 5


def test_whitespace_only_file_is_empty(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"empty.yaml:1: file is empty"):
        load_portfolio(write(tmp_path, "\n  \n", "empty.yaml"))


# Tags: refused, and nothing is constructed


def test_object_tag_constructs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f'cash: 1\nholdings: !!python/object/apply:os.system ["touch {marker}"]\n'
    with pytest.raises(InputError, match=located("evil.yaml", 2, "holdings")) as caught:
        load_portfolio(write(tmp_path, text, "evil.yaml"))
    assert "!!python/object/apply:os.system" in str(caught.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "line", "field", "tag"),
    [
        ("cash: !foo 1\n", 1, "cash", "!foo"),
        ("account: ok\nmodel: !!binary aGk=\n", 2, "model", "!!binary"),
        ("limits:\n  no_sell: !!set {AAPL}\n", 2, "limits.no_sell", "!!set"),
        ("account: !!python/name:os.system\n", 1, "account", "!!python/name:os.system"),
        ("!!python/object:os.system\ncash: 1\n", 1, "top level", "!!python/object:os.system"),
        ("!!python/name:os.system : 1\n", 1, "top level", "!!python/name:os.system"),
    ],
)
def test_every_non_standard_tag_is_refused(
    tmp_path: Path, text: str, line: int, field: str, tag: str
) -> None:
    match = located("tagged.yaml", line, field, repr(tag)) + " is a YAML tag"
    with pytest.raises(InputError, match=match):
        load_portfolio(write(tmp_path, text, "tagged.yaml"))


def test_standard_tags_are_plain_values(tmp_path: Path) -> None:
    text = "account: !!str 2025\ncash: !!int '12'\nlimits: !!map {whole_shares: !!bool true}\n"
    portfolio = load_portfolio(write(tmp_path, text)).portfolio
    assert (portfolio.account, portfolio.cash, portfolio.limits.whole_shares) == ("2025", 12, True)


def test_merge_keys_are_refused(tmp_path: Path) -> None:
    text = "base: &base {cash_min: 0.01}\nlimits:\n  <<: *base\n"
    with pytest.raises(InputError, match=located("m.yaml", 3, "limits") + " has a << merge key"):
        load_portfolio(write(tmp_path, text, "m.yaml"))


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for prev, name in zip("abcdefg", "bcdefgh", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(InputError, match=r"expands aliases to more than 200,000 values; write"):
        load_portfolio(write(tmp_path, "\n".join(lines) + "\n"))


def test_alias_loop_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=located("loop.yaml", 1, "holdings[0]") + " is an alias"):
        load_portfolio(write(tmp_path, "holdings: &h [*h]\n", "loop.yaml"))


# More pydantic errors, each explained


@pytest.mark.parametrize(
    ("text", "line", "field", "value", "fix"),
    [
        ("holding: []\n", 1, "holding", "", "is an unknown key; did you mean 'holdings'?"),
        ("cash: 1\nholdings:\n  - {ticker: AAPL}\n", 3, "holdings[0]", "", "add 'shares: N'"),
        ("holdings:\n  - {shares: 3}\n", 2, "holdings[0].ticker", "", "is missing; add it"),
        ("holdings:\n  - {ticker: 'BRK$B', shares: 1}\n", 2, "holdings[0].ticker", "'BRK$B'", ""),
        ("holdings:\n  - {ticker: 7203, shares: 1}\n", 2, "holdings[0].ticker", "7203", "quotes"),
        ("cash: .inf\n", 1, "cash", "inf", "is not a finite number"),
        ("holdings:\n  - {ticker: AAPL, shares: true}\n", 2, "holdings[0].shares", "", "is true"),
        ("cash: '5'\n", 1, "cash", "'5'", "must be a number, such as 100 or 0.25 (without quotes)"),
        ("limits:\n  whole_shares: yes\n", 2, "limits.whole_shares", "'yes'", "true or false"),
        ("limits:\n  whole_shares: maybe\n", 2, "limits.whole_shares", "'maybe'", "true or false"),
        ("limits:\n  no_sell: AAPL\n", 2, "limits.no_sell", "'AAPL'", "is not a list"),
        ("target: 0.3\n", 1, "target", "0.3", "is not a mapping"),
        ("target:\n  band: 0.1\n", 1, "target", "", "exactly one of small_cap_share"),
        (
            "holdings:\n  - ticker: A\n    lots:\n      - {shares: 1, acquired: 2020-13-01}\n",
            4,
            "holdings[0].lots[0].acquired",
            "'2020-13-01'",
            "YYYY-MM-DD",
        ),
    ],
)
def test_validation_error(
    tmp_path: Path, text: str, line: int, field: str, value: str, fix: str
) -> None:
    with pytest.raises(InputError, match=located("p.yaml", line, field, value)) as caught:
        load_portfolio(write(tmp_path, text, "p.yaml"))
    assert fix in str(caught.value)


def test_several_validation_errors_one_line_each(tmp_path: Path) -> None:
    text = (
        "cash: -1\n"
        "holdings:\n"
        "  - {ticker: AAPL, shares: .nan}\n"
        "target:\n"
        "  small_cap_share: 1.5\n"
        "limits:\n"
        "  max_turnvoer: 0.2\n"
    )
    with pytest.raises(InputErrors) as caught:
        load_portfolio(write(tmp_path, text, "many.yaml"))
    lines = str(caught.value).replace(f"{tmp_path}/", "").splitlines()
    assert [line.split(": ")[0] for line in lines] == [
        "many.yaml:1",
        "many.yaml:3",
        "many.yaml:5",
        "many.yaml:7",
    ]
    assert lines[0] == "many.yaml:1: cash -1 is out of range; must be >= 0"
    assert caught.value.location.line == 1  # the first problem's details, for callers
    assert isinstance(caught.value, InputError) and caught.value.exit_code == 2


# Tickers


@pytest.mark.parametrize("spelling", ["BRK.B", "BRK/B", "BRK-B", "BRKB", "brk.b"])
def test_ticker_spellings_resolve_to_one_security(tmp_path: Path, spelling: str) -> None:
    text = f"holdings:\n  - {{ticker: AAPL, shares: 1}}\n  - {{ticker: '{spelling}', shares: 2}}\n"
    loaded = load_portfolio(write(tmp_path, text))
    assert resolve_tickers(loaded, INDEX, "us-equity") == {0: "AAPL", 1: "BRK.B"}


def test_good_file_tickers_resolve() -> None:
    resolved = resolve_tickers(load_data("good_lots.yaml"), INDEX, "us-equity")
    assert resolved == {0: "NVDA", 1: "AAPL", 2: "IWM", 3: "MSFT", 4: "BRK.B"}


def test_unknown_ticker() -> None:
    message = (
        "bad_tickers.yaml:8: holdings[3].ticker 'BRK.X' is not in model us-equity (7 tickers); "
        "did you mean 'BRK.B'?"
    )
    with pytest.raises(InputError, match=re.escape(message)):
        resolve_tickers(load_data("bad_tickers.yaml"), INDEX, "us-equity")


def test_duplicate_ticker_across_spellings() -> None:
    match = located("bad_duplicate_ticker.yaml", 5, "holdings[2].ticker", "'BRKB'")
    with pytest.raises(InputError, match=match) as caught:
        resolve_tickers(load_data("bad_duplicate_ticker.yaml"), INDEX, "us-equity")
    assert "same security as holdings[0].ticker 'BRK.B' on line 3" in str(caught.value)


def test_limit_tickers_are_checked() -> None:
    with pytest.raises(InputErrors) as caught:
        resolve_tickers(load_data("bad_limit_tickers.yaml"), INDEX, "us-equity")
    first, second = str(caught.value).replace(f"{DATA}/", "").splitlines()
    assert first.startswith("bad_limit_tickers.yaml:7: limits.no_buy[1] 'TSLAA' is not in model")
    assert first.endswith("did you mean 'TSLA'?")
    assert second.startswith("bad_limit_tickers.yaml:8: limits.buy_from[1] 'fund'")
    assert "expected one of holdings, funds, all or a ticker; did you mean 'funds'?" in second


def test_buy_from_keywords_and_tickers(tmp_path: Path) -> None:
    text = "cash: 1\nholdings: []\nlimits:\n  buy_from: [holdings, funds, all, ALL, msft]\n"
    assert resolve_tickers(load_portfolio(write(tmp_path, text)), INDEX, "us-equity") == {}


def test_unknown_no_sell_ticker(tmp_path: Path) -> None:
    text = "cash: 1\nlimits:\n  no_sell:\n    - AAPL\n    - ZZZZZZ\n"
    match = located("ns.yaml", 5, "limits.no_sell[1]", "'ZZZZZZ'") + " is not in model us-equity"
    with pytest.raises(InputError, match=match):
        resolve_tickers(load_portfolio(write(tmp_path, text, "ns.yaml")), INDEX, "us-equity")


# Schema


def test_schema_is_json_and_forbids_unknown_keys() -> None:
    schema = json.loads(json.dumps(portfolio_schema()))
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"]
    assert schema["additionalProperties"] is False
    assert set(schema["$defs"]) == {
        *("Holding", "Lot", "Target", "Limits", "FundHoldings"),
        *("Tax", "Account", "RealizedGains", "RecentSale"),
    }
    objects = [part for part in schema["$defs"].values() if part.get("type") == "object"]
    assert len(objects) == 8 and all(part["additionalProperties"] is False for part in objects)
    assert {"cash", "holdings", "target", "limits"} <= set(schema["properties"])
