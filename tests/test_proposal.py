"""The proposal document: every proposal the tool writes is valid under the schema it prints,
reads back to the same bytes, and a bad file is refused with its field located."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.enums import CheckName
from advisor.errors import InputError
from advisor.measures import MEASURES
from advisor.proposal import Measures, ProposalDocument, read_orders, read_proposal, significant
from tests.conftest import ROOT

runner = CliRunner()
EXAMPLES = sorted((ROOT / "portfolios").glob("*.yaml"))


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    result = runner.invoke(app, ["schema", "proposal"])
    assert result.exit_code == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(found)
    return found


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One proposal per example portfolio, through the CLI (whatever its exit code)."""
    folder = tmp_path_factory.mktemp("proposals")
    out = {}
    for portfolio in EXAMPLES:
        path = folder / f"{portfolio.stem}.json"
        result = runner.invoke(app, ["rebalance", str(portfolio), "--output", str(path)])
        assert result.exit_code in (0, 3), result.stderr
        out[portfolio.stem] = path
    return out


def test_every_single_proposal_is_valid(schema: dict[str, Any], written: dict[str, Path]) -> None:
    for path in written.values():
        jsonschema.validate(json.loads(path.read_text()), schema)


def test_an_unreachable_proposal_is_valid(schema: dict[str, Any], tmp_path: Path) -> None:
    text = (ROOT / "portfolios" / "rotation.yaml").read_text()
    portfolio = tmp_path / "tight.yaml"
    portfolio.write_text(text.replace("max_turnover: 0.40", "max_turnover: 0.01"))
    out = tmp_path / "tight.json"
    result = runner.invoke(app, ["rebalance", str(portfolio), "--output", str(out)])
    assert result.exit_code == 3, result.stderr
    data = json.loads(out.read_text())
    assert data["status"] == "unreachable" and data["diagnosis"]
    jsonschema.validate(data, schema)


def test_batch_proposals_are_valid(schema: dict[str, Any], tmp_path: Path) -> None:
    result = runner.invoke(app, ["rebalance", str(ROOT / "portfolios"), "--out-dir", str(tmp_path)])
    assert result.exit_code in (0, 3), result.stderr
    files = sorted(tmp_path.glob("*.json"))
    assert [f.stem for f in files] == [p.stem for p in EXAMPLES]
    for path in files:
        jsonschema.validate(json.loads(path.read_text()), schema)


def test_review_output_is_valid_and_the_same(
    schema: dict[str, Any], written: dict[str, Path], tmp_path: Path
) -> None:
    again = tmp_path / "again.json"
    result = runner.invoke(app, ["review", str(written["rotation"]), "--output", str(again)])
    assert result.exit_code == 0, result.stderr
    jsonschema.validate(json.loads(again.read_text()), schema)
    assert again.read_bytes() == written["rotation"].read_bytes()


def test_round_trip_is_byte_for_byte(written: dict[str, Path]) -> None:
    for path in written.values():
        text = path.read_text(encoding="utf-8")
        assert ProposalDocument.model_validate_json(text).to_json() == text
        assert read_proposal(path).to_json() == text


def test_figures_keep_8_significant_digits() -> None:
    assert significant(0.123456789123) == 0.12345679
    assert significant(significant(1234567.891)) == significant(1234567.891) == 1234567.9


def test_apply_reads_only_trades_and_inputs(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(
        '{"trades": [{"ticker": "IWM", "side": "BUY", "shares": 5, "price": 260.0}],'
        ' "inputs": {"portfolio": "p.yaml", "sha256": "00"}}'
    )
    assert read_orders(path).trades[0].shares == 5
    with pytest.raises(InputError, match="status is missing"):
        read_proposal(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["trades"][0].update(shares="5"), "trades[0].shares '5' is not a number"),
        (lambda d: d["trades"][0].update(price=True), "trades[0].price True is not a number"),
        (lambda d: d["checks"][0].update(name="nope"), "checks[0].name 'nope' is not target"),
        (lambda d: d.update(status="done"), "status 'done' is not nothing to do, optimal"),
        (lambda d: d.update(trades={}), "trades is not a list"),
        (lambda d: d["inputs"].pop("sha256"), "inputs.sha256 is missing; give a proposal"),
    ],
)
def test_a_bad_field_is_located(
    written: dict[str, Path], tmp_path: Path, edit: Any, message: str
) -> None:
    data = json.loads(written["rotation"].read_text())
    edit(data)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    result = runner.invoke(app, ["review", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}: {message}")


def test_the_document_knows_every_measure_and_check() -> None:
    assert {m.key for m in MEASURES} <= set(Measures.model_fields)
    assert "no_buy/buy_from" in set(CheckName)


def test_schema_without_argument_is_the_portfolio_file(schema: dict[str, Any]) -> None:
    plain = runner.invoke(app, ["schema"])
    named = runner.invoke(app, ["schema", "portfolio"])
    assert plain.exit_code == named.exit_code == 0
    assert plain.stdout == named.stdout != json.dumps(schema)
    assert "holdings" in json.loads(plain.stdout)["properties"]


def test_the_summary_is_the_first_field_and_may_be_missing(schema: dict[str, Any]) -> None:
    assert next(iter(schema["properties"])) == "summary"
    assert "summary" not in schema["required"]  # a proposal saved before it still reads
