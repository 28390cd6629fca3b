"""Fuzzing the command line with mutated real inputs: whatever a portfolio file, a saved
proposal or a fills file holds, a command ends with exit 0, 2, 3 or 4 (never 1, an internal
error) and shows no control character a terminal would obey.

Mutations of the shipped example portfolios, of a proposal `advisor rebalance --output` wrote
and of a fills file written to the format the README documents: lines deleted, duplicated,
swapped, truncated, values replaced by random text, numbers, huge numbers, NaN, unicode,
control characters or deep brackets. Derandomized, so CI runs the same examples every time.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from advisor.cli import app
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

runner = CliRunner()
PORTFOLIOS = sorted((ROOT / "portfolios").glob("*.yaml"))
ROTATION = ROOT / "portfolios" / "rotation.yaml"
EXITS = {0, 2, 3, 4}
FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,  # a solve takes about a second on a loaded machine; the run is bounded instead
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
# C0 and C1 controls but the line feed, bidi controls, lone surrogates.
UNSAFE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)

SPECIAL = [
    "",
    "~",
    "null",
    ".nan",
    "nan",
    ".inf",
    "-.inf",
    "1e309",
    "-1e309",
    "1e-320",
    "-0",
    "0x1F",
    "1_000",
    "9" * 400,
    "true",
    "2026-02-30",
    "'",
    '"',
    "{",
    "[",
    "- -",
    "&a x",
    "*a",
    "<<: *a",
    "!!python/object/apply:os.system [ls]",
    "!!binary aGk=",
    '"\\ud800"',
    '"\\e[2J\\e]0;title\\a"',
    '"\\r\\b\\x85\\u202e"',
    "[/bold]",
    "[red]x",
    "=cmd|' /C calc'!A0",
    "\x1b[2J",
    "\t",
    "\r",
    "\x00",
    "\u202e",
    "\ud800",
    "IWM",
    "BRK.B",
]
JUNK = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=20),
    st.text(st.characters(codec="utf-8"), max_size=20),
    st.integers(-(10**40), 10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(1, 400).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 400).map(lambda n: "{a: " * n + "}" * n),
)
# Where a value sits: after `key: ` up to the end of the flow item, the comment or the line.
VALUE = re.compile(r"(?<=: )[^,}\]\n#]*|(?<=- )[^,}\]\n#]*")


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """`text` after one to three line or value mutations."""
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "value", "insert", "truncate"]))
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            lines.insert(i, draw(JUNK) + "\n")
        elif op == "truncate":
            joined = "".join(lines)
            lines = [joined[: draw(st.integers(0, len(joined)))]]
        else:
            spots = list(VALUE.finditer(lines[i]))
            if not spots:
                lines[i] = draw(JUNK) + "\n"
                continue
            spot = draw(st.sampled_from(spots))
            lines[i] = lines[i][: spot.start()] + draw(JUNK) + lines[i][spot.end() :]
    return "".join(lines)


JSON_JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(SPECIAL),
    st.text(max_size=20),
    st.integers(-(10**40), 10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.integers(1, 300).map(lambda n: json.loads("[" * n + "]" * n)),
)


def spots(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into a JSON document."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from spots(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from spots(value, (*path, index))


@st.composite
def mutated_json(draw: st.DrawFn, text: str) -> str:
    """A JSON document with one to three values replaced or removed, or its text mutated."""
    if draw(st.booleans()):
        return draw(mutated(text))
    document = json.loads(text)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(spots(document))))
        if not path:
            document = draw(JSON_JUNK)
            continue
        parent = document
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()):
                parent[path[-1]] = draw(JSON_JUNK)
            else:
                del parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this spot
    return json.dumps(document, indent=2, allow_nan=True)


def write(path: Path, text: str) -> Path:
    # A lone surrogate is written as the bytes a careless encoder gives (not valid UTF-8).
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


def run(*args: str) -> int:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    output = result.stdout + result.stderr
    assert result.exit_code in EXITS, output[-2000:]
    assert not UNSAFE.findall(output), UNSAFE.findall(output)
    return result.exit_code


class Saved:
    """A proposal for rotation.yaml, and fills executing every trade (README's format)."""

    def __init__(self, proposal: str, fills: str) -> None:
        self.proposal, self.fills = proposal, fills

    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return "Saved(rotation.yaml)"


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Saved:
    folder = tmp_path_factory.mktemp("saved")
    proposal = folder / "proposal.json"
    made = runner.invoke(app, ["rebalance", str(ROTATION), "--output", str(proposal)])
    assert made.exit_code == 0, made.output
    trades = json.loads(proposal.read_text(encoding="utf-8"))["trades"]
    fills = "ticker,side,shares,price,date\n" + "".join(
        f"{t['ticker']},{t['side']},{t['shares']},{t['price']},2026-02-11\n" for t in trades
    )
    return Saved(proposal.read_text(encoding="utf-8"), fills)


@FUZZ
@given(data=st.data(), source=st.sampled_from(PORTFOLIOS))
def test_validate_and_score_survive_a_mutated_portfolio(data: st.DataObject, source: Path) -> None:
    text = data.draw(mutated(source.read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / source.name, text)
        run("validate", str(path))
        run("score", str(path))


@FUZZ
@given(data=st.data(), source=st.sampled_from(PORTFOLIOS))
def test_rebalance_survives_a_mutated_portfolio(data: st.DataObject, source: Path) -> None:
    text = data.draw(mutated(source.read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / source.name, text)
        trades, basket = Path(folder) / "trades.csv", Path(folder) / "basket.csv"
        run("rebalance", str(path), "--output", str(trades), "--basket", str(basket))
        for written in (trades, basket):
            if written.exists():
                for row in csv.reader(io.StringIO(written.read_text(encoding="utf-8"))):
                    assert not any(UNSAFE.search(cell) for cell in row), row
                    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row


@FUZZ
@given(data=st.data())
def test_review_survives_a_mutated_proposal(data: st.DataObject, saved: Saved) -> None:
    text = data.draw(mutated_json(saved.proposal))
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "proposal.json", text)
        run("review", str(path))
        for suffix in (".html", ".md"):
            run("review", str(path), "--output", str(Path(folder) / f"report{suffix}"))


@FUZZ
@given(data=st.data(), target=st.sampled_from(["fills", "proposal"]))
def test_apply_survives_mutated_fills_or_proposal(
    data: st.DataObject, target: str, saved: Saved
) -> None:
    proposal, fills = saved.proposal, saved.fills
    if target == "fills":
        fills = data.draw(mutated(fills))
    else:
        proposal = data.draw(mutated_json(proposal))
    with tempfile.TemporaryDirectory() as folder:
        portfolio = Path(folder) / "rotation.yaml"
        shutil.copyfile(ROTATION, portfolio)
        run(
            "apply",
            str(write(Path(folder) / "proposal.json", proposal)),
            "--fills",
            str(write(Path(folder) / "fills.csv", fills)),
            "--portfolio",
            str(portfolio),
        )


def test_a_band_missing_from_a_hand_edited_proposal_is_refused(
    saved: Saved, tmp_path: Path
) -> None:
    document = json.loads(saved.proposal)
    del document["before"]["bands"]["giant"]
    path = write(tmp_path / "proposal.json", json.dumps(document))
    for extra in ([], ["--output", str(tmp_path / "report.html")]):
        result = runner.invoke(app, ["review", str(path), *extra])
        assert result.exit_code == 2, result.output
        assert "before.bands" in result.stderr and "lacks the size bands ['giant']" in result.stderr
    assert not (tmp_path / "report.html").exists()
