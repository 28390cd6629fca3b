"""Taxes in every output: the terminal, HTML, Markdown, the one-sentence summary, the trades CSV
and the basket's lots companion, rendered from a real proposal given tax figures and lots by
hand (as a taxable account's proposal carries them)."""

from __future__ import annotations

import copy
import csv
import html
import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.enums import Side
from advisor.proposal import LotSale, ProposalDocument
from advisor.rebalance import Proposal, propose
from advisor.report import files
from advisor.report.files import (
    LOT_COLUMNS,
    basket_lots_csv,
    lots_path,
    proposal_document,
    trades_csv,
)
from advisor.report.html import CSP, SORT_SCRIPT, proposal_html, script_hash
from advisor.report.markdown import proposal_markdown
from advisor.report.review import saved_view
from advisor.report.summary import money, summarize
from advisor.report.terminal import PlainConsole
from tests.conftest import ROOT
from tests.test_html import CHROMIUM, chromium

runner = CliRunner()
ROTATION = ROOT / "portfolios" / "rotation.yaml"
RUN_DATE = "2026-11-28"
SHORT, LONG = 0.35, 0.15
# Lots by hand for three of the sells: (acquired, shares, cost basis); the rest of each sell, and
# AMZN wholly, come from a lot of unknown basis and date. A loss lot nets against the gains.
HAND_LOTS = {
    "NVDA": [("2019-05-02", 0.7, 4.10), ("2026-06-01", 0.3, 180.00)],
    "MSFT": [("2025-08-15", 1.0, 560.00)],
    "AMZN": [("", 1.0, None)],
}
BLOCKED = "IWB not bought: IWB sold at a loss on 2026-11-03 (recent_sales): a wash sale"


def term(acquired: str) -> str:
    """Short when held one year or less at the run date (acquired after 2025-11-28)."""
    return "short" if acquired and acquired > "2025-11-28" else "long"


def netted_tax(short: float, long: float) -> float:
    """US netting by hand: a net loss of one term offsets the other's gain; none below zero."""
    if short >= 0 and long >= 0:
        return SHORT * short + LONG * long
    if short < 0 <= long:
        return LONG * max(0.0, long + short)
    if long < 0 <= short:
        return SHORT * max(0.0, short + long)
    return 0.0


@pytest.fixture(scope="module")
def proposal() -> Proposal:
    return propose(ROTATION)


@pytest.fixture(scope="module")
def taxed(proposal: Proposal) -> dict[str, Any]:
    """rotation.yaml's proposal as JSON, with lots on three sells and a tax summary whose
    figures are computed here from those lots and the rates."""
    data = json.loads(proposal_document(proposal).to_json())
    data["summary"] = ""  # computed again from the tax figures
    realized = {"short": 0.0, "long": 0.0}
    for trade in data["trades"]:
        trade["lots"] = []  # the proposal's own (every sell's basis is unknown in rotation.yaml)
        if trade["side"] != "SELL" or trade["ticker"] not in HAND_LOTS:
            continue
        left, lots = trade["shares"], []
        for n, (acquired, share, basis) in enumerate(HAND_LOTS[trade["ticker"]]):
            last = n == len(HAND_LOTS[trade["ticker"]]) - 1
            shares = left if last else round(trade["shares"] * share)
            left -= shares
            gain = 0.0 if basis is None else (trade["price"] - basis) * shares
            kind = term(acquired)
            realized[kind] += gain
            lots.append(
                {
                    "acquired": acquired,
                    "shares": shares,
                    "cost_basis": basis,
                    "gain": gain,
                    "term": kind,
                }
            )
        trade["lots"] = lots
    assert sum(1 for t in data["trades"] if t.get("lots")) == 3, "NVDA, MSFT, AMZN are sold"
    earlier = 1200.0
    data["tax"] = {
        "account": "taxable",
        "short_term_rate": SHORT,
        "long_term_rate": LONG,
        "estimated_tax": netted_tax(earlier + realized["short"], realized["long"])
        - netted_tax(earlier, 0.0),
        "realized": {"short_term": realized["short"], "long_term": realized["long"]},
        "year_realized": {"short_term": earlier + realized["short"], "long_term": realized["long"]},
        "gains_budget": 25000.0,
        "unknown_basis": ["AMZN", "GOOGL", "JPM", "XOM"],
        "wash_sale_blocked": [BLOCKED],
        "tax_blind": {
            "estimated_tax": 4321.0,
            "realized": {"short_term": 2000.0, "long_term": 17000.0},
            "trades": 7,
            "target_value": 0.2931,
            "risk_change": 0.00041,
        },
    }
    return data


def dollars(value: float) -> str:
    """A signed whole-dollar amount, written out: +$1,234 or -$640."""
    return f"{'+' if value > 0 else '-'}${abs(value):,.0f}"


def document_of(data: dict[str, Any]) -> ProposalDocument:
    return ProposalDocument.model_validate(data)


def terminal(document: ProposalDocument) -> str:
    console = PlainConsole(width=200, record=True, file=io.StringIO())
    console.print(saved_view(document))
    return console.export_text()


def untaxed(data: dict[str, Any]) -> dict[str, Any]:
    """The same proposal as a deferred account's, or an older file's: no tax, no lots."""
    plain = copy.deepcopy(data)
    plain["tax"] = None
    for trade in plain["trades"]:
        trade["lots"] = []
    return plain


def test_the_figures_by_hand(taxed: dict[str, Any]) -> None:
    """The fixture itself: lots sum to each sell; its tax nets as US rules do."""
    for trade in taxed["trades"]:
        if trade.get("lots"):
            assert sum(lot["shares"] for lot in trade["lots"]) == trade["shares"]
    assert netted_tax(1000, -400) == pytest.approx(0.35 * 600)  # a long loss offsets short gain
    assert netted_tax(-1000, 400) == 0.0
    msft = next(t for t in taxed["trades"] if t["ticker"] == "MSFT")
    assert msft["lots"][0]["gain"] < 0, "a loss lot, netted against the gains"


def test_terminal_shows_the_taxes_and_each_sells_lots(taxed: dict[str, Any]) -> None:
    document = document_of(taxed)
    tax = document.tax
    assert tax is not None and tax.tax_blind is not None
    text = terminal(document)
    saved = tax.tax_blind.estimated_tax - tax.estimated_tax
    used = max(0.0, tax.year_realized.short_term + tax.year_realized.long_term)
    for shown in (
        "Taxes",
        "short-term at 35%, long-term at 15%",
        f"short-term {dollars(tax.realized.short_term)}, "
        f"long-term {dollars(tax.realized.long_term)}",
        f"${used:,.0f} of $25,000 used ({100 * used / 25000:.0f}%)",
        f"${saved:,.0f} ({100 * saved / 4321:.0f}% below the tax-blind proposal)",
        "7 trades",
        f"small_cap_share {100 * document.after.small_cap_share:.1f}% against 29.3% tax-blind",
        "against 4.1 tax-blind",
        "AMZN, GOOGL, JPM, XOM: no lots in the file",
        BLOCKED,
        "Lots each sell takes",
    ):
        assert shown in text, shown
    assert re.search(rf"Estimated tax\s+\${tax.estimated_tax:,.0f}: what this proposal", text)
    assert re.search(rf"Tax saved\s+\${saved:,.0f} ", text)
    for trade in document.trades:
        for lot in trade.lots:
            basis = "unknown" if lot.cost_basis is None else f"${lot.cost_basis:,.2f}"
            acquired = lot.acquired or "unknown"
            line = re.compile(
                rf"{re.escape(acquired)}\s+{lot.shares:g} sh\s+@ {re.escape(basis)}\s+"
                rf"[-+]?\$[\d,]+\s+{lot.term}"
            )
            assert line.search(text), (trade.ticker, lot)
    # Lots come under the trade table, the Taxes block before the measures.
    assert text.index("Proposed trades") < text.index("Lots each sell") < text.index("Taxes")
    assert text.index("Taxes") < text.index("Before and after")


def test_without_tax_figures_nothing_is_said_of_taxes(taxed: dict[str, Any]) -> None:
    document = document_of(untaxed(taxed))
    text = terminal(document)
    assert "Taxes" not in text and "Lots each sell" not in text
    assert "estimated tax" not in summarize(document)
    page = proposal_html(document)
    assert 'id="taxes"' not in page and "Estimated tax" not in page
    assert "Taxes" not in proposal_markdown(document)
    # A deferred account's sells may still name their lots: shown, without tax figures.
    lotted = copy.deepcopy(taxed)
    lotted["tax"] = None
    document = document_of(lotted)
    text = terminal(document)
    assert "Lots each sell takes" in text and "Taxes" not in text
    page = proposal_html(document)
    assert '<section id="lots-sold"><h2>Lots sold</h2>' in page and "Estimated tax" not in page


def test_the_summary_names_the_estimated_tax(taxed: dict[str, Any]) -> None:
    document = document_of(taxed)
    assert document.tax is not None and document.tax.tax_blind is not None
    sentence = summarize(document)
    tax, blind = money(document.tax.estimated_tax), money(document.tax.tax_blind.estimated_tax)
    assert sentence.endswith(f"; estimated tax {tax} (tax-blind {blind}).")
    without = summarize(document_of(untaxed(taxed)))
    assert sentence == f"{without[:-1]}; estimated tax {tax} (tax-blind {blind})."
    # Without the comparison, the tax alone; without sells, no tax to tell.
    alone = copy.deepcopy(taxed)
    alone["tax"]["tax_blind"] = None
    assert summarize(document_of(alone)).endswith(f"; estimated tax {tax}.")
    # Buys alone owe nothing: said only where the tax-blind proposal would have owed tax.
    buys = copy.deepcopy(taxed)
    buys["trades"] = [t for t in buys["trades"] if t["side"] == "BUY"]
    buys["tax"]["estimated_tax"] = 0.0
    assert summarize(document_of(buys)).endswith(f"; estimated tax $0 (tax-blind {blind}).")
    buys["tax"]["tax_blind"]["estimated_tax"] = 0.0
    assert "estimated tax" not in summarize(document_of(buys))


def test_html_has_a_taxes_section_with_sortable_lot_tables(taxed: dict[str, Any]) -> None:
    document = document_of(taxed)
    page = proposal_html(document)
    plain_page = proposal_html(document_of(untaxed(taxed)))
    section = re.search(r'<section id="taxes">.*?</section>', page, re.S)
    assert section is not None
    found = section.group(0)
    assert html.escape(BLOCKED) in found and "Tax saved" in found
    sells = [t for t in document.trades if t.side == Side.SELL and t.lots]
    tables = re.findall(r'<table class="sortable" id="lots-(\d+)-table">(.*?)</table>', found, re.S)
    assert len(tables) == len(sells)
    for trade, (_, table) in zip(sells, tables, strict=True):
        body = table.split("<tbody>")[1]
        shares = [float(v) for v in re.findall(r'<td class="num" data-v="([^"]+)">', body)[::3]]
        assert sum(shares) == trade.shares, trade.ticker
    assert '<div class="card"><span>Estimated tax</span>' in page
    # The policy and the one script are the untaxed page's: nothing new may run.
    assert CSP in page and page.count("<script") == 1 and f"<script>{SORT_SCRIPT}</script>" in page
    assert page.count("<script") == plain_page.count("<script")
    assert not re.search(r"\sstyle=|\son\w+=|https?://", page)


def test_html_escapes_the_tax_texts(taxed: dict[str, Any]) -> None:
    data = copy.deepcopy(taxed)
    data["tax"]["wash_sale_blocked"] = ["<script>alert(1)</script>"]
    data["tax"]["unknown_basis"] = ["<b>X</b>"]
    page = proposal_html(document_of(data))
    assert "<script>alert" not in page and "<b>X" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_markdown_tells_the_taxes_and_lists_the_lots(taxed: dict[str, Any]) -> None:
    document = document_of(taxed)
    assert document.tax is not None
    text = proposal_markdown(document)
    assert "**Taxes**" in text
    assert f"- Estimated tax: ${document.tax.estimated_tax:,.0f}:" in text
    assert "- Wash sale, not traded: IWB not bought" in text
    rows = [
        line for line in text.splitlines() if re.match(r"\| (NVDA|MSFT|AMZN) \| (\d|unk)", line)
    ]
    lots = [(t.ticker, lot) for t in document.trades for lot in t.lots]
    assert len(rows) == len(lots)
    for row, (ticker, lot) in zip(rows, lots, strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[0] == ticker and cells[2] == f"{lot.shares:g}" and cells[5] == lot.term
        assert cells[1] == (lot.acquired or "unknown")


def lots_of(cell: str) -> list[tuple[str, float, float | None]]:
    """A trades CSV `lots` cell read back: `acquired:shares@cost_basis;...`."""
    found = []
    for part in filter(None, cell.split(";")):
        acquired, rest = part.split(":")
        shares, basis = rest.split("@")
        found.append((acquired, float(shares), None if basis == "unknown" else float(basis)))
    return found


def test_trades_csv_carries_each_sells_lots(proposal: Proposal, taxed: dict[str, Any]) -> None:
    document = document_of(taxed)
    rows = list(csv.DictReader(io.StringIO(trades_csv(proposal, document))))
    assert list(rows[0]) == list(files.TRADE_COLUMNS) and list(rows[0])[-1] == "lots"
    by_ticker = {t.ticker: t for t in document.trades}
    for row in rows:
        trade = by_ticker[row["ticker"]]
        read = lots_of(row["lots"])
        expected = [(lot.acquired or "unknown", lot.shares, lot.cost_basis) for lot in trade.lots]
        assert read == expected, row["ticker"]
        if read:
            assert sum(shares for _, shares, _ in read) == float(row["shares"])
    assert rows[0]["ticker"] == "NVDA" and rows[0]["lots"] == (
        f"2019-05-02:{by_ticker['NVDA'].lots[0].shares:g}@4.10;"
        f"2026-06-01:{by_ticker['NVDA'].lots[1].shares:g}@180.00"
    )


def test_basket_lots_companion(taxed: dict[str, Any]) -> None:
    document = document_of(taxed)
    text = basket_lots_csv(document)
    assert text is not None
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == LOT_COLUMNS
    expected = [
        [
            t.ticker,
            "SELL",
            lot.acquired,
            f"{lot.shares:g}",
            "" if lot.cost_basis is None else f"{lot.cost_basis:.2f}",
            lot.term,
        ]
        for t in document.trades
        for lot in t.lots
    ]
    assert rows[1:] == expected
    assert basket_lots_csv(document_of(untaxed(taxed))) is None
    assert (
        basket_lots_csv(document_of(untaxed(taxed)), replacing=True) == ",".join(LOT_COLUMNS) + "\n"
    )
    assert lots_path(Path("out/basket.csv")) == Path("out/basket.lots.csv")


@pytest.fixture()
def with_lots(monkeypatch: pytest.MonkeyPatch) -> None:
    """`rebalance` documents whose sells carry one long-term lot each (as a taxable account's
    proposal does), so the CLI's writing of the companion is exercised end to end."""
    made = files.proposal_document

    def lotted(proposal: Proposal) -> ProposalDocument:
        document = made(proposal)
        trades = [
            t.model_copy(
                update={
                    "lots": [
                        LotSale(
                            acquired="2020-01-02",
                            shares=t.shares,
                            cost_basis=10.0,
                            gain=(t.price - 10.0) * t.shares,
                            term="long",
                        )
                    ]
                }
            )
            if t.side == Side.SELL
            else t
            for t in document.trades
        ]
        return document.model_copy(update={"trades": trades})

    monkeypatch.setattr(files, "proposal_document", lotted)


@pytest.mark.usefixtures("with_lots")
def test_rebalance_writes_the_lots_beside_the_basket(tmp_path: Path) -> None:
    basket, output = tmp_path / "basket.csv", tmp_path / "trades.csv"
    args = ["rebalance", str(ROTATION), "--basket", str(basket), "--output", str(output)]
    result = runner.invoke(app, [*args, "--date", RUN_DATE])
    assert result.exit_code == 0, result.stderr
    assert "Lots each sell takes" in result.stdout
    layout = basket.read_text().splitlines()[0]
    assert layout == ",".join(files.BASKET_COLUMNS)  # the default layout is kept
    sells = {
        r["Symbol"]: r
        for r in csv.DictReader(io.StringIO(basket.read_text()))
        if r["Side"] == "SELL"
    }
    lots = list(csv.DictReader(io.StringIO(lots_path(basket).read_text())))
    assert {r["ticker"] for r in lots} == set(sells)
    for row in lots:
        assert row["shares"] == sells[row["ticker"]]["Quantity"]
        assert (row["side"], row["acquired"], row["cost_basis"], row["term"]) == (
            "SELL",
            "2020-01-02",
            "10.00",
            "long",
        )
    assert all(
        r["lots"].startswith("2020-01-02:")
        for r in csv.DictReader(output.open())
        if r["side"] == "SELL"
    )


@pytest.mark.usefixtures("with_lots")
def test_the_companion_never_overwrites_an_input_or_another_output(tmp_path: Path) -> None:
    portfolio = tmp_path / "basket.lots.csv"  # the portfolio file, oddly named
    portfolio.write_text(ROTATION.read_text())
    result = runner.invoke(
        app, ["rebalance", str(portfolio), "--basket", str(tmp_path / "basket.csv")]
    )
    assert result.exit_code == 2
    assert "an output never overwrites an input" in result.stderr
    assert portfolio.read_text() == ROTATION.read_text()
    clash = [
        "rebalance",
        str(ROTATION),
        "--output",
        str(tmp_path / "b.lots.csv"),
        "--basket",
        str(tmp_path / "b.csv"),
    ]
    result = runner.invoke(app, clash)
    assert result.exit_code == 2 and "is the same file as" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["basket.lots.csv"]  # nothing written


def test_a_basket_without_lots_leaves_no_stale_companion(tmp_path: Path) -> None:
    basket = tmp_path / "basket.csv"
    result = runner.invoke(app, ["rebalance", str(ROTATION), "--basket", str(basket)])
    assert result.exit_code == 0, result.stderr
    assert not lots_path(basket).exists()  # no sell has lots: no companion
    lots_path(basket).write_text(
        "ticker,side,acquired,shares,cost_basis,term\nNVDA,SELL,,1,,long\n"
    )
    result = runner.invoke(app, ["rebalance", str(ROTATION), "--basket", str(basket)])
    assert result.exit_code == 0, result.stderr
    assert lots_path(basket).read_text() == ",".join(LOT_COLUMNS) + "\n"


def test_the_proposal_schema_shows_the_tax_fields(taxed: dict[str, Any]) -> None:
    result = runner.invoke(app, ["schema", "proposal"])
    assert result.exit_code == 0, result.stderr
    schema = json.loads(result.stdout)
    assert "tax" in schema["properties"]
    defs = schema["$defs"]
    assert {
        "estimated_tax",
        "realized",
        "year_realized",
        "gains_budget",
        "unknown_basis",
        "wash_sale_blocked",
        "tax_blind",
    } <= set(defs["TaxSummary"]["properties"])
    assert {"acquired", "shares", "cost_basis", "gain", "term"} <= set(
        defs["LotSale"]["properties"]
    )
    assert "lots" in defs["Trade"]["properties"]
    assert {"short_term", "long_term"} <= set(defs["Realized"]["properties"])
    assert {"estimated_tax", "target_value", "risk_change"} <= set(defs["TaxBlind"]["properties"])
    jsonschema.validate(taxed, schema)  # a taxed proposal is valid under it


def test_a_taxed_proposal_reads_back_and_renders_alike(
    tmp_path: Path, taxed: dict[str, Any]
) -> None:
    path = tmp_path / "taxed.json"
    path.write_text(json.dumps(taxed))
    result = runner.invoke(app, ["review", str(path), "--output", str(tmp_path / "r.md")])
    assert result.exit_code == 0, result.stderr
    assert "Taxes" in result.stdout and "estimated tax" in result.stdout
    assert (tmp_path / "r.md").read_text() == proposal_markdown(document_of(taxed))


LOTS_PROBE = """<script>
window.addEventListener("load", function () {
  var out = [];
  document.querySelectorAll("table[id^=lots-]").forEach(function (table) {
    var gain = table.tHead.rows[0].cells[3];
    gain.click();
    var read = function () {
      return Array.prototype.map.call(table.tBodies[0].rows, function (r) {
        return r.cells[0].textContent;
      });
    };
    var up = read();
    gain.click();
    out.push({focusable: gain.tabIndex === 0, up: up, down: read()});
  });
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed here")
def test_lot_tables_sort_in_headless_chromium(taxed: dict[str, Any], tmp_path: Path) -> None:
    """The page's one script sorts the lot tables too: by gain, up then down."""
    page = proposal_html(document_of(taxed))
    allowed = script_hash(LOTS_PROBE.removeprefix("<script>").removesuffix("</script>"))
    path = tmp_path / "taxed.html"
    path.write_text(
        page.replace("script-src ", f"script-src {allowed} ", 1).replace(
            "</body>", LOTS_PROBE + "\n</body>"
        )
    )
    dom = chromium(tmp_path / "profile", "--dump-dom", path.as_uri())
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, dom[-500:]
    seen = json.loads(html.unescape(found.group(1)))
    sells = [t for t in document_of(taxed).trades if t.lots]
    assert len(seen) == len(sells)
    for trade, table in zip(sells, seen, strict=True):
        by_gain = [lot.acquired or "unknown" for lot in sorted(trade.lots, key=lambda x: x.gain)]
        assert table == {"focusable": True, "up": by_gain, "down": by_gain[::-1]}, trade.ticker
