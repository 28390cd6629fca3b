"""Saved proposals shown again (`advisor review`), the Markdown summary, and limit baskets."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.proposal import ProposalDocument
from advisor.report.files import limit_price
from advisor.report.html import proposal_html
from advisor.report.markdown import proposal_markdown
from tests.conftest import ROOT

runner = CliRunner()
ROTATION = ROOT / "portfolios" / "rotation.yaml"


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], Path]:
    """rotation.yaml's proposal JSON and limit-order basket, from one CLI run."""
    folder = tmp_path_factory.mktemp("saved")
    proposal, basket = folder / "proposal.json", folder / "basket.csv"
    result = runner.invoke(
        app,
        [
            "rebalance",
            str(ROTATION),
            "--output",
            str(proposal),
            "--basket",
            str(basket),
            "--limit-band",
            "25",
            "--allow-stale-prices",
        ],
    )
    assert result.exit_code == 0, result.stderr
    return proposal, json.loads(proposal.read_text()), basket


def test_review_shows_the_saved_proposal(saved: tuple[Path, dict[str, Any], Path]) -> None:
    proposal, data, _ = saved
    result = runner.invoke(app, ["review", str(proposal)])
    assert result.exit_code == 0, result.stderr
    for text in (
        "Target reached",
        "Proposed trades",
        "Before and after",
        "us-equity",
        data["inputs"]["account"],
        "0 failed",
    ):
        assert text in result.stdout, text
    for trade in data["trades"]:
        assert trade["ticker"] in result.stdout


def test_review_writes_the_same_report_as_rebalance(
    saved: tuple[Path, dict[str, Any], Path], tmp_path: Path
) -> None:
    proposal, data, _ = saved
    for suffix, render in ((".html", proposal_html), (".md", proposal_markdown)):
        out = tmp_path / f"again{suffix}"
        result = runner.invoke(app, ["review", str(proposal), "--output", str(out)])
        assert result.exit_code == 0, result.stderr
        assert out.read_text() == render(ProposalDocument.model_validate(data))


def test_rebalance_writes_a_markdown_summary(
    saved: tuple[Path, dict[str, Any], Path], tmp_path: Path
) -> None:
    _, data, _ = saved
    out = tmp_path / "summary.md"
    result = runner.invoke(app, ["rebalance", str(ROTATION), "--output", str(out)])
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert text == proposal_markdown(ProposalDocument.model_validate(data))
    assert text.startswith(f"### Rebalancing proposal: {data['inputs']['account']}\n")
    assert "**Target reached: small_cap_share" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    companies = len(
        set(data["before"]["largest_companies"]) | set(data["after"]["largest_companies"])
    )
    assert len(rows) == (2 + len(data["trades"])) + (2 + 8 + companies)  # trades, measures
    assert len(text.splitlines()) < 50  # short enough to paste


def test_markdown_escapes_text(saved: tuple[Path, dict[str, Any], Path]) -> None:
    data = copy.deepcopy(saved[1])
    data["inputs"]["account"] = "A | B *bold* <i>"
    data["trades"][0]["reason"] = "x | y"
    text = proposal_markdown(ProposalDocument.model_validate(data))
    assert "A \\| B \\*bold\\* \\<i>" in text
    assert "| x \\| y |" in text


def test_review_refuses_what_is_not_a_proposal(tmp_path: Path) -> None:
    bad = tmp_path / "p.json"
    bad.write_text('{"status": "optimal"}')
    result = runner.invoke(app, ["review", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}: trades is missing; give a proposal written by" in result.stderr
    result = runner.invoke(app, ["review", str(tmp_path / "none.json")])
    assert result.exit_code == 2 and "does not exist" in result.stderr
    result = runner.invoke(app, ["review", str(bad), "--output", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2 and "unknown extension '.pdf'" in result.stderr


def test_limit_basket(saved: tuple[Path, dict[str, Any], Path]) -> None:
    _, data, basket = saved
    lines = basket.read_text().splitlines()
    assert lines[0] == (
        "Symbol,Side,Quantity,Order Type,Limit Price,Time in Force,"
        "Reference Price,Price Date,Price Source"
    )
    assert len(lines) == 1 + len(data["trades"])
    for line, trade in zip(lines[1:], data["trades"], strict=True):
        symbol, side, quantity, kind, limit, tif, price, day, source = line.split(",")
        assert (symbol, side, kind, tif) == (trade["ticker"], trade["side"], "LIMIT", "DAY")
        assert (float(price), day, source) == (
            trade["price"],
            trade["price_date"],
            trade["price_source"],
        )
        assert float(quantity) == trade["shares"]
        factor = 1.0025 if side == "BUY" else 0.9975
        assert float(limit) == pytest.approx(trade["price"] * factor, abs=0.005)
        assert len(limit.split(".")[1]) == 2  # cents


@pytest.mark.parametrize(
    ("price", "side", "bps", "limit"),
    [
        (190.04, "BUY", 25, "190.52"),  # 190.5151 -> up
        (190.04, "SELL", 25, "189.56"),  # 189.5649 -> down
        (100.0, "BUY", 50, "100.50"),
        (10.01, "SELL", 50, "9.96"),  # 9.95995 -> 9.96
        (2.5, "BUY", 0, "2.50"),
        (0.1, "BUY", 50, "0.10"),  # 0.1005: half up from exact decimals -> 0.10 (no float drift)
    ],
)
def test_limit_price_rounds_to_cents(price: float, side: str, bps: float, limit: str) -> None:
    assert limit_price(price, side, bps) == limit


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit-band", "25"], "--limit-band 25.0 needs --basket"),
        (["--basket", "b.csv", "--limit-band", "-5"], "--limit-band -5.0 is out of range"),
        (["--basket", "b.csv", "--limit-band", "5000"], "--limit-band 5000.0 is out of range"),
    ],
)
def test_limit_band_is_checked_before_any_work(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["rebalance", str(ROTATION), *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {message}")
    assert not (tmp_path / "b.csv").exists()


def test_review_refuses_an_incomplete_proposal(
    saved: tuple[Path, dict[str, Any], Path], tmp_path: Path
) -> None:
    data = copy.deepcopy(saved[1])
    del data["after"]["sectors"]
    data["trades"][1]["side"] = "HOLD"
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps(data))
    result = runner.invoke(app, ["review", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}: trades[1].side 'HOLD' is not BUY or SELL")
    data["trades"][1]["side"] = "BUY"
    bad.write_text(json.dumps(data))
    result = runner.invoke(app, ["review", str(bad)])
    assert result.stderr.startswith(f"error: {bad}: after.sectors is missing; give a proposal")
