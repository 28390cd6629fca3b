"""The one-line summary: every figure it gives is the document's own, and it comes first in
every output, fresh or saved."""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.enums import Side
from advisor.proposal import ProposalDocument, Trade
from advisor.rebalance import propose
from advisor.report.files import proposal_document
from advisor.report.saved import verdict
from advisor.report.summary import money, summarize
from tests.conftest import ROOT

runner = CliRunner()
PORTFOLIOS = ROOT / "portfolios"


def rebalance(path: Path, out: Path) -> tuple[int, str, ProposalDocument]:
    """The CLI's exit code and terminal output, and the proposal JSON it wrote."""
    result = runner.invoke(app, ["rebalance", str(path), "--output", str(out)])
    return result.exit_code, result.stdout, ProposalDocument.model_validate_json(out.read_text())


def check_money(text: str, value: float) -> None:
    """'$119k' is `value` to within half its last digit."""
    found = re.fullmatch(r"\$([\d,]+(?:\.\d)?)(k|M)?", text)
    assert found, text
    scale = {"k": 1e3, "M": 1e6, None: 1.0}[found[2]]
    last = 0.1 if "." in found[1] else 1.0
    assert abs(float(found[1].replace(",", "")) * scale - value) <= 0.5 * last * scale, text


def check_names(text: str, trades: list[Trade], noun: str) -> None:
    """Every ticker, largest trade first; above three, the count and the largest three."""
    tickers = [t.ticker for t in sorted(trades, key=lambda t: -t.value)]
    if len(tickers) > 3:
        more = len(tickers) - 3
        assert text == f"{len(tickers)} {noun} ({', '.join(tickers[:3])} and {more} more)"
    elif len(tickers) > 1:
        assert text == f"{', '.join(tickers[:-1])} and {tickers[-1]}"
    else:
        assert text == tickers[0]


def check_action(text: str, document: ProposalDocument, then: str) -> None:
    """'sell $X of ... {then} buy $Y of ...' or 'invest $Y of cash in ...', from the trades."""
    sells = [t for t in document.trades if t.side == Side.SELL]
    buys = [t for t in document.trades if t.side == Side.BUY]
    if not sells:
        found = re.fullmatch(r"invest (\S+) of cash in (.+)", text)
        assert found, text
        check_money(found[1], sum(t.value for t in buys))
        check_names(found[2], buys, "securities")
        return
    found = re.fullmatch(rf"sell (\S+) of (.+?)(?: {then} buy (\S+) of (.+))?", text)
    assert found, text
    check_money(found[1], sum(t.value for t in sells))
    check_names(found[2], sells, "holdings")
    assert (found[3] is None) == (not buys)
    if buys:
        check_money(found[3], sum(t.value for t in buys))
        check_names(found[4], buys, "securities")


def check_reach(text: str, document: ProposalDocument, note: str = "") -> None:
    """'small_cap_share 0.0% -> 23.5% (target 25% ± 2%)', from before, after and the target."""
    target = document.target
    assert target is not None and target.measure == "small_cap_share"
    found = re.fullmatch(
        rf"small_cap_share ([\d.]+)% -> ([\d.]+)% \(target ([\d.]+)% ± ([\d.]+)%{note}\)", text
    )
    assert found, text
    assert float(found[1]) == pytest.approx(100 * document.before.small_cap_share, abs=0.05)
    assert float(found[2]) == pytest.approx(100 * document.after.small_cap_share, abs=0.05)
    assert float(found[3]) == pytest.approx(100 * target.value)
    assert float(found[4]) == pytest.approx(100 * target.band)


def check_cash(text: str, document: ProposalDocument) -> None:
    before = 100 * document.before.cash / document.before.value
    after = 100 * document.after.cash / document.after.value
    if abs(after - before) < 0.05:
        assert text == f"cash unchanged at {before:.1f}%"
        return
    found = re.fullmatch(r"cash ([\d.]+)% -> ([\d.]+)%", text)
    assert found, text
    assert float(found[1]) == pytest.approx(before, abs=0.05)
    assert float(found[2]) == pytest.approx(after, abs=0.05)


@pytest.mark.parametrize("name", ["mega-cap-tech", "rotation"])
def test_a_tilt_says_what_it_sells_buys_and_reaches(name: str) -> None:
    document = proposal_document(propose(PORTFOLIOS / f"{name}.yaml"))
    assert document.diagnosis is None and not document.failed_checks()
    found = re.fullmatch(r"S(.+?): (small_cap_share .+); (cash .+)\.", document.summary)
    assert found, document.summary
    check_action("s" + found[1], document, "to")
    check_reach(found[2], document)
    check_cash(found[3], document)


def test_a_target_out_of_reach_says_the_best_within_the_limits(tmp_path: Path) -> None:
    tight = tmp_path / "tight.yaml"
    rotation = (PORTFOLIOS / "rotation.yaml").read_text()
    tight.write_text(rotation.replace("max_turnover: 0.40", "max_turnover: 0.05"))
    code, out, document = rebalance(tight, tmp_path / "tight.json")
    assert code == 3 and document.diagnosis
    found = re.fullmatch(
        r"Best within the limits: (.+?): (small_cap_share .+); (cash .+)\.", document.summary
    )
    assert found, document.summary
    check_action(found[1], document, "to")
    check_reach(found[2], document, " out of reach: see the diagnosis")
    check_cash(found[3], document)
    assert out.splitlines()[0].strip() == document.summary


def test_without_a_target_it_says_so_and_what_the_repair_does(tmp_path: Path) -> None:
    path = tmp_path / "repair.yaml"  # NVDA about half of the value, above max_position 0.40
    path.write_text(
        "account: repair\ncash: 5000\nholdings:\n  - {ticker: NVDA, shares: 300}\n"
        "  - {ticker: IWM, shares: 200}\nlimits: {max_position: 0.40}\n"
    )
    code, out, document = rebalance(path, tmp_path / "repair.json")
    assert code == 0 and document.target is None and document.trades
    found = re.fullmatch(r"No target set: (.+) to keep every limit; (cash .+)\.", document.summary)
    assert found, document.summary
    check_action(found[1], document, "and")
    check_cash(found[2], document)
    assert out.splitlines()[0].strip() == document.summary
    assert "No target set: the trades only repair broken limits." in out
    nothing = proposal_document(propose(PORTFOLIOS / "balanced.yaml"))
    assert nothing.summary == "No target set: no trades; every limit holds."


def test_nothing_to_do_on_target_says_where_it_stands(tmp_path: Path) -> None:
    path = tmp_path / "iwm.yaml"
    path.write_text(
        "cash: 1000\nholdings:\n  - {ticker: IWM, shares: 100}\n"
        "target: {small_cap_share: 0.95, band: 0.03}\n"
    )
    document = proposal_document(propose(path))
    assert document.trades == []
    share = 100 * document.after.small_cap_share
    assert document.summary == (
        f"No trades: small_cap_share {share:.1f}% is within the target 95% ± 3% "
        "and every limit holds."
    )


def test_a_failed_check_says_blocked() -> None:
    document = proposal_document(propose(PORTFOLIOS / "rotation.yaml"))
    data: dict[str, Any] = json.loads(document.to_json())
    for check in (*data["checks"], *data["pretrade_checks"]):
        check["ok"] = check["ok"] and check["name"] not in ("cash_min", "order_share")
    blocked = ProposalDocument.model_validate(data)
    said = "Blocked: cash_min and order_share failed; do not place these trades."
    assert summarize(blocked) == said
    assert verdict(blocked).headline.startswith("Blocked")


@pytest.mark.parametrize(
    ("value", "shown"),
    [(850.4, "$850"), (1_234.0, "$1.2k"), (12_345.0, "$12k"), (119_499.0, "$119k"),
     (999_600.0, "$1M"), (1_250_000.0, "$1.2M"), (12_600_000.0, "$13M")],
)  # fmt: skip
def test_money_is_rounded_to_read(value: float, shown: str) -> None:
    assert money(value) == shown
    check_money(shown, value)


def test_the_summary_comes_first_in_every_output(tmp_path: Path) -> None:
    saved = tmp_path / "p.json"
    code, out, document = rebalance(PORTFOLIOS / "rotation.yaml", saved)
    assert code == 0 and document.summary
    assert out.splitlines()[0].strip() == document.summary
    assert next(iter(json.loads(saved.read_text()))) == "summary"
    html, md = tmp_path / "p.html", tmp_path / "p.md"
    for report in (html, md):
        result = runner.invoke(app, ["review", str(saved), "--output", str(report)])
        assert result.exit_code == 0, result.stderr
        assert result.stdout.splitlines()[0].strip() == document.summary
    page = html.read_text()
    shown = f'<p class="summary" id="summary">{escape(document.summary)}</p>'
    assert page.index(shown) < page.index('<dl class="facts">') < page.index('id="verdict"')
    assert md.read_text().splitlines()[2] == document.summary


def test_a_proposal_saved_without_a_summary_gets_the_same_one(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.json"
    code, _, document = rebalance(PORTFOLIOS / "rotation.yaml", fresh)
    assert code == 0
    data = json.loads(fresh.read_text())
    del data["summary"]
    old, again = tmp_path / "old.json", tmp_path / "again.json"
    old.write_text(json.dumps(data, indent=2))
    result = runner.invoke(app, ["review", str(old), "--output", str(again)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].strip() == document.summary
    assert again.read_bytes() == fresh.read_bytes()
