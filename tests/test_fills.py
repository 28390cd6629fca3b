"""`advisor apply`: fills checked against the proposal, the portfolio file updated in place."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor import writing
from advisor.cli import app
from advisor.errors import InputError
from advisor.fills import LotRule, apply_fills, holding_term
from advisor.portfolio.loading import check_tax, load_portfolio
from tests.conftest import DATA, ROOT

runner = CliRunner()
ROTATION = ROOT / "portfolios" / "rotation.yaml"


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def rotation_proposal(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The proposal for portfolios/rotation.yaml, made once through the CLI."""
    folder = tmp_path_factory.mktemp("proposal")
    portfolio = folder / "rotation.yaml"
    portfolio.write_bytes(ROTATION.read_bytes())
    code, _, err = invoke("rebalance", portfolio, "--output", folder / "proposal.json")
    assert code == 0, err
    data: dict[str, Any] = json.loads((folder / "proposal.json").read_text())
    assert data["trades"], "the rotation example should propose trades"
    return data


@pytest.fixture()
def setup(tmp_path: Path, rotation_proposal: dict[str, Any]) -> Callable[..., tuple[Path, Path]]:
    """A copy of rotation.yaml in tmp_path and its proposal pointing at it."""

    def make(trades: list[dict[str, Any]] | None = None) -> tuple[Path, Path]:
        portfolio = tmp_path / "rotation.yaml"
        portfolio.write_bytes(ROTATION.read_bytes())
        data = copy.deepcopy(rotation_proposal)
        data["inputs"]["portfolio"] = str(portfolio)
        if trades is not None:
            data["trades"] = trades
        proposal = tmp_path / "proposal.json"
        proposal.write_text(json.dumps(data, indent=2) + "\n")
        return portfolio, proposal

    return make


def fills_csv(
    path: Path, rows: list[tuple[Any, ...]], header: str = "ticker,side,shares,price"
) -> Path:
    path.write_text(header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def every_trade(proposal: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(t["ticker"], t["side"], t["shares"], t["price"]) for t in proposal["trades"]]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_executing_every_trade_then_rebalancing_gives_nothing_to_do(
    setup: Callable[..., tuple[Path, Path]], rotation_proposal: dict[str, Any], tmp_path: Path
) -> None:
    portfolio, proposal = setup()
    fills = fills_csv(tmp_path / "fills.csv", every_trade(rotation_proposal))
    code, out, err = invoke("apply", proposal, "--fills", fills)
    assert code == 0, err
    assert "updated" in out and "rotation.yaml.bak" in out
    assert (tmp_path / "rotation.yaml.bak").read_bytes() == ROTATION.read_bytes()

    code, out, err = invoke("rebalance", portfolio, "--output", tmp_path / "again.json")
    assert code == 0, err
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["status"] == "nothing to do"
    assert again["trades"] == []


def test_apply_updates_shares_and_cash_and_keeps_the_layout(
    setup: Callable[..., tuple[Path, Path]], rotation_proposal: dict[str, Any], tmp_path: Path
) -> None:
    portfolio, proposal = setup()
    fills_csv(tmp_path / "fills.csv", every_trade(rotation_proposal))
    apply_fills(proposal, tmp_path / "fills.csv")
    old, new = ROTATION.read_text().splitlines(), portfolio.read_text().splitlines()
    assert len(old) == len(new)
    loaded = load_portfolio(portfolio).portfolio
    held = {h.ticker: h.shares for h in loaded.holdings}
    original = {h.ticker: h.shares for h in load_portfolio(ROTATION).portfolio.holdings}
    cash = 40000.0
    for t in rotation_proposal["trades"]:
        sign = 1 if t["side"] == "BUY" else -1
        assert held[t["ticker"]] == original[t["ticker"]] + sign * t["shares"]
        cash -= sign * t["shares"] * t["price"]
    assert loaded.cash == pytest.approx(round(cash, 2), abs=0.005)
    for before, after in zip(old, new, strict=True):
        if before != after:  # only cash and flow-map holdings change, each on its own line
            assert after.startswith("cash: ") or re.match(
                r"  - \{ticker: \w+, shares: \d+\}", after
            ), after
            assert before.split("#")[1:] == after.split("#")[1:]  # comments kept


def test_refuses_when_the_portfolio_changed_since_the_proposal(
    setup: Callable[..., tuple[Path, Path]], rotation_proposal: dict[str, Any], tmp_path: Path
) -> None:
    portfolio, proposal = setup()
    portfolio.write_text(portfolio.read_text().replace("cash: 40000.00", "cash: 41000.00"))
    fills_csv(tmp_path / "fills.csv", every_trade(rotation_proposal))
    before = snapshot(tmp_path)
    code, _, err = invoke("apply", proposal, "--fills", tmp_path / "fills.csv")
    assert code == 2
    assert f"{portfolio}: file has changed since the proposal was made" in err
    assert "run `advisor rebalance` again" in err
    assert snapshot(tmp_path) == before


def test_refuses_a_second_apply_of_the_same_proposal(
    setup: Callable[..., tuple[Path, Path]], rotation_proposal: dict[str, Any], tmp_path: Path
) -> None:
    _, proposal = setup()
    fills = fills_csv(tmp_path / "fills.csv", every_trade(rotation_proposal))
    assert invoke("apply", proposal, "--fills", fills)[0] == 0
    before = snapshot(tmp_path)
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 2 and "has changed since the proposal" in err
    assert snapshot(tmp_path) == before


def test_refuses_a_sell_above_holdings(
    setup: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    _, proposal = setup()
    fills = fills_csv(tmp_path / "fills.csv", [("NVDA", "SELL", 400, 190.0)])
    before = snapshot(tmp_path)
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 2
    assert f"{fills}:2: shares '400' sells 400 NVDA in all but the portfolio holds 300" in err
    assert snapshot(tmp_path) == before


BAD_FILLS = {  # name: (rows as text, the error's start after the file name, text in the error)
    "not proposed": (
        "TSLA,BUY,10,400",
        ":2: ticker 'TSLA' is not a trade in the proposal",
        "proposed: NVDA",
    ),
    "wrong side": ("NVDA,BUY,10,190", ":2: side 'BUY' is not the proposal's side", "SELL"),
    "more than proposed": (
        "SFM,BUY,10,65.85\nSFM,BUY,1000,65.85",
        ":3: shares '1000' fills 1010 SFM in all, more than the",
        "partial",
    ),
    "bad side": ("NVDA,SHORT,10,190", ":2: side 'SHORT' is not a side", "BUY or SELL"),
    "bad shares": ("NVDA,SELL,ten,190", ":2: shares 'ten' is not a positive number", "e.g. 59"),
    "negative shares": ("NVDA,SELL,-5,190", ":2: shares '-5' is not a positive number", ""),
    "bad price": ("NVDA,SELL,5,$190", ":2: price '$190' is not a positive number", "no $"),
    "nan price": ("NVDA,SELL,5,nan", ":2: price 'nan' is not a positive number", ""),
    "short row": ("NVDA,SELL,5", ":2: row has 3 fields, the header has 4", "one value"),
    "no rows": ("", ": file has no fills", "ticker,side"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILLS))
def test_refuses_malformed_fills_and_changes_nothing(
    case: str, setup: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    rows, message, hint = BAD_FILLS[case]
    _, proposal = setup()
    fills = tmp_path / "fills.csv"
    fills.write_text("ticker,side,shares,price\n" + rows + ("\n" if rows else ""))
    before = snapshot(tmp_path)
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 2, err
    assert err.startswith(f"error: {fills}{message}"), err
    assert hint in err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("ticker,side,shares,cost", "header 'cost' is an unknown column"),
        ("ticker,side,shares", "header lacks the column 'price'"),
        ("ticker,side,shares,price,price", "header 'price' is a repeated column"),
    ],
)
def test_refuses_a_bad_header(
    header: str, message: str, setup: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    _, proposal = setup()
    fills = tmp_path / "fills.csv"
    fills.write_text(header + "\nNVDA,SELL,5,190\n")
    with pytest.raises(InputError, match=re.escape(f"{fills}:1: {message}")):
        apply_fills(proposal, fills)
    assert not (tmp_path / "rotation.yaml.bak").exists()


def test_refuses_a_bad_date(setup: Callable[..., tuple[Path, Path]], tmp_path: Path) -> None:
    _, proposal = setup()
    fills = fills_csv(
        tmp_path / "fills.csv",
        [("NVDA", "SELL", 5, 190, "11/02/2026")],
        header="ticker,side,shares,price,date",
    )
    with pytest.raises(
        InputError,
        match=re.escape(
            f"{fills}:2: date '11/02/2026' is not a date; write the trade date as YYYY-MM-DD"
        ),
    ):
        apply_fills(proposal, fills)


def test_refuses_a_proposal_that_is_not_one(tmp_path: Path) -> None:
    proposal = tmp_path / "proposal.json"
    proposal.write_text('{"status": "optimal",\n "trades": [}')
    fills = fills_csv(tmp_path / "fills.csv", [])
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 2 and f"{proposal}:2: JSON is not valid JSON" in err


def test_partial_fills_and_a_new_flow_holding(
    setup: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    trades = [
        {"ticker": "AAON", "side": "BUY", "shares": 20, "price": 250.0},
        {"ticker": "NVDA", "side": "SELL", "shares": 59, "price": 190.04},
    ]
    portfolio, proposal = setup(trades)
    fills = fills_csv(
        tmp_path / "fills.csv",
        [("aaon", "buy", 5, 249.5), ("AAON", "BUY", 7, 250.5), ("NVDA", "SELL", 30, 190.0)],
    )
    done = apply_fills(proposal, fills)
    assert done.shares == {"AAON": (0.0, 12.0), "NVDA": (300.0, 270.0)}
    text = portfolio.read_text()
    assert "  - {ticker: AAON, shares: 12}\ntarget:" in text
    assert "  - {ticker: NVDA, shares: 270}\n" in text
    assert done.cash_after == round(40000 - 5 * 249.5 - 7 * 250.5 + 30 * 190.0, 2)
    assert "cash: 42699.00\n" in text


def lots_setup(tmp_path: Path, trades: list[dict[str, Any]]) -> tuple[Path, Path]:
    portfolio = tmp_path / "lots.yaml"
    portfolio.write_bytes((DATA / "fills_lots.yaml").read_bytes())
    proposal = tmp_path / "proposal.json"
    proposal.write_text(
        json.dumps(
            {
                "status": "optimal",
                "trades": trades,
                "before": {},
                "after": {},
                "inputs": {
                    "portfolio": str(portfolio),
                    "sha256": hashlib.sha256(portfolio.read_bytes()).hexdigest(),
                },
            }
        )
    )
    return portfolio, proposal


LOT_TRADES = [
    {"ticker": "MSFT", "side": "SELL", "shares": 25, "price": 400.0},
    {"ticker": "AEIS", "side": "BUY", "shares": 10, "price": 230.0},
    {"ticker": "IWM", "side": "BUY", "shares": 5, "price": 260.0},
    {"ticker": "AAON", "side": "BUY", "shares": 4, "price": 250.0},
]


def test_lots_sell_highest_cost_first_and_each_buy_adds_a_dated_lot(tmp_path: Path) -> None:
    portfolio, proposal = lots_setup(tmp_path, LOT_TRADES)
    fills = fills_csv(
        tmp_path / "fills.csv",
        [
            ("MSFT", "SELL", 25, 400, "2026-02-11"),
            ("AEIS", "BUY", 6, 229.5, "2026-02-11"),
            ("AEIS", "BUY", 4, 230.25, "2026-02-12"),
            ("IWM", "BUY", 5, 260, "2026-02-12"),
            ("AAON", "BUY", 4, 250, "2026-02-13"),
        ],
        header="ticker,side,shares,price,date",
    )
    apply_fills(proposal, fills)
    assert (
        portfolio.read_text()
        == """\
# Tax lots for `advisor apply`: sales take lots highest cost first by default.
account: Lots for fills
cash: 10402.00                        # USD
holdings:
  - ticker: MSFT                      # two lots
    lots:
      - {shares: 25, cost_basis: 250.00, acquired: 2019-05-02}
  - {ticker: IWM, shares: 45}         # no lots: a buy adds shares only
  - ticker: AEIS
    lots:
      - {shares: 25, cost_basis: 120.00, acquired: 2023-01-20}
      - {shares: 15, cost_basis: 260.00, acquired: 2025-11-03}
      - {shares: 6, cost_basis: 229.5, acquired: 2026-02-11}
      - {shares: 4, cost_basis: 230.25, acquired: 2026-02-12}
  - ticker: AAON
    lots:
      - {shares: 4, cost_basis: 250, acquired: 2026-02-13}
tax:
  realized_this_year: {short_term: -200, long_term: 750}
  recent_sales:
    - {ticker: MSFT, date: 2026-02-11, shares: 20, loss: 200}
"""
    )
    # By hand: 20 shares of the 410.00 lot (bought 2025-08-15, short term) at 400 lose 200;
    # 5 of the 250.00 lot (2019) gain 5 x 150 = 750, long term.
    assert load_portfolio(portfolio).portfolio.holdings[0].quantity == 25


@pytest.mark.parametrize(
    ("rule", "left"),
    [
        (
            LotRule.fifo,
            "      - {shares: 20, cost_basis: 410.00, acquired: 2025-08-15}\n  - {ticker: IWM",
        ),
        (
            LotRule.lifo,
            "      - {shares: 25, cost_basis: 250.00, acquired: 2019-05-02}\n  - {ticker: IWM",
        ),
    ],
)
def test_other_lot_rules(rule: LotRule, left: str, tmp_path: Path) -> None:
    portfolio, proposal = lots_setup(tmp_path, LOT_TRADES[:1])
    fills = fills_csv(tmp_path / "fills.csv", [("MSFT", "SELL", 25, 400)])
    code, _, err = invoke("apply", proposal, "--fills", fills, "--lots", rule.value)
    assert code == 0, err
    assert left in portfolio.read_text()


def test_selling_every_lot_leaves_the_holding_with_no_shares(tmp_path: Path) -> None:
    trades = [{"ticker": "MSFT", "side": "SELL", "shares": 50, "price": 400.0}]
    portfolio, proposal = lots_setup(tmp_path, trades)
    apply_fills(proposal, fills_csv(tmp_path / "fills.csv", [("MSFT", "SELL", 50, 400)]))
    assert (
        "  - ticker: MSFT                      # two lots\n    shares: 0\n  - {ticker: IWM"
        in portfolio.read_text()
    )


def test_buys_without_a_date_column_are_dated_today(tmp_path: Path) -> None:
    portfolio, proposal = lots_setup(tmp_path, LOT_TRADES)
    fills = fills_csv(tmp_path / "fills.csv", [("AEIS", "BUY", 1, 230)])
    apply_fills(proposal, fills, today=date(2026, 3, 1))
    assert "{shares: 1, cost_basis: 230, acquired: 2026-03-01}" in portfolio.read_text()


def test_buys_beyond_the_cash_are_refused(tmp_path: Path) -> None:
    trades = [{"ticker": "IWM", "side": "BUY", "shares": 100, "price": 260.0}]
    portfolio, proposal = lots_setup(tmp_path, trades)
    fills = fills_csv(tmp_path / "fills.csv", [("IWM", "BUY", 100, 260)])
    with pytest.raises(
        InputError,
        match=r"fills.csv: buys spend \$26,000.00 net of sales, more than the \$5,000.00 "
        r"cash held; check the prices",
    ):
        apply_fills(proposal, fills)
    assert portfolio.read_bytes() == (DATA / "fills_lots.yaml").read_bytes()


def test_a_failed_write_leaves_the_old_file(
    setup: Callable[..., tuple[Path, Path]],
    rotation_proposal: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Simulated interruption: the temp file is written, then the rename never happens."""
    portfolio, proposal = setup()
    fills = fills_csv(tmp_path / "fills.csv", every_trade(rotation_proposal))
    real_replace = os.replace

    def interrupted(src: str, dst: str) -> None:
        if Path(dst) == portfolio:
            assert Path(src).read_bytes() != portfolio.read_bytes()  # the new file is ready
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(writing.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        apply_fills(proposal, fills)
    assert portfolio.read_bytes() == ROTATION.read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))  # the temp file is cleaned up


KILLER = """
import os, sys, time
from pathlib import Path
from advisor import writing
from advisor.cli import app
target, marker, when = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
real_replace = os.replace
def replace(src, dst):
    if Path(dst) == target and when == "during":
        marker.write_text("ready"); time.sleep(60)
    real_replace(src, dst)
    if Path(dst) == target and when == "after":
        marker.write_text("ready"); time.sleep(60)
writing.os.replace = replace
app(sys.argv[4:])
"""


@pytest.mark.parametrize("when", ["during", "after"])
def test_a_killed_apply_leaves_the_old_or_the_new_file(
    when: str,
    setup: Callable[..., tuple[Path, Path]],
    rotation_proposal: dict[str, Any],
    tmp_path: Path,
) -> None:
    """SIGKILL while apply writes: the portfolio file is whole, old (during) or new (after)."""
    expected = tmp_path / "expected"
    expected.mkdir()
    portfolio, proposal = setup()
    fills = fills_csv(tmp_path / "fills.csv", every_trade(rotation_proposal))
    new_portfolio = expected / "rotation.yaml"
    new_portfolio.write_bytes(ROTATION.read_bytes())
    apply_fills(proposal, fills, portfolio=new_portfolio)

    marker = tmp_path / "marker"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLER,
            str(portfolio),
            str(marker),
            when,
            "apply",
            str(proposal),
            "--fills",
            str(fills),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "apply never reached the write"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    want = ROTATION.read_bytes() if when == "during" else new_portfolio.read_bytes()
    assert portfolio.read_bytes() == want
    load_portfolio(portfolio)  # whole and valid either way


# Specific lots from the proposal, realized gains and loss sales recorded in `tax:`

TAXED_LOTS = """\
# Lots and taxes for `advisor apply`
account: Taxed lots
cash: 5000.00
holdings:
  - ticker: MSFT
    lots:
      - {shares: 30, cost_basis: 250.00, acquired: 2019-05-02}
      - {shares: 20, cost_basis: 410.00, acquired: 2025-08-15}
  - ticker: AEIS
    lots:
      - {shares: 25, cost_basis: 120.00, acquired: 2023-01-20}
      - {shares: 15, cost_basis: 260.00, acquired: 2025-11-03}
tax:
  account: taxable                    # a brokerage account
  realized_this_year: {short_term: 1200, long_term: 0}
  recent_sales:
    - {ticker: IWM, date: 2025-12-11, shares: 10, loss: 100}  # 62 days before the fills
    - {ticker: IWB, date: 2025-12-12, shares: 5, loss: 50}    # 61 days before
"""


def lot(acquired: str, shares: float, basis: float, price: float, term: str) -> dict[str, Any]:
    return {"acquired": acquired, "shares": shares, "cost_basis": basis,
            "gain": (price - basis) * shares, "term": term}  # fmt: skip


# Not the hifo order: the proposal sells MSFT's low-basis 2019 lot, and AEIS's 260 lot first.
SPECIFIC = [
    {"ticker": "MSFT", "side": "SELL", "shares": 25, "price": 400.0,
     "lots": [lot("2019-05-02", 25, 250.0, 400.0, "long")]},
    {"ticker": "AEIS", "side": "SELL", "shares": 20, "price": 230.0,
     "lots": [lot("2025-11-03", 15, 260.0, 230.0, "short"),
              lot("2023-01-20", 5, 120.0, 230.0, "long")]},
]  # fmt: skip


def taxed_setup(
    tmp_path: Path, trades: list[dict[str, Any]], text: str = TAXED_LOTS
) -> tuple[Path, Path]:
    portfolio, proposal = lots_setup(tmp_path, trades)
    portfolio.write_text(text)
    data = json.loads(proposal.read_text())
    data["inputs"]["sha256"] = hashlib.sha256(portfolio.read_bytes()).hexdigest()
    proposal.write_text(json.dumps(data))
    return portfolio, proposal


DATED = "ticker,side,shares,price,date"


def test_a_sale_takes_the_proposal_lots_and_records_gains_and_losses(tmp_path: Path) -> None:
    portfolio, proposal = taxed_setup(tmp_path, SPECIFIC)
    fills = fills_csv(
        tmp_path / "fills.csv",
        [("MSFT", "SELL", 25, 400, "2026-02-11"), ("AEIS", "SELL", 20, 230, "2026-02-11")],
        header=DATED,
    )
    done = apply_fills(proposal, fills)
    # By hand: MSFT 25 x (400 - 250) = 3,750 long (held since 2019); AEIS 15 x (230 - 260) =
    # -450 short (bought 2025-11-03), 5 x (230 - 120) = 550 long (2023). Added to 1,200 and 0.
    assert done.tax is not None
    assert (done.tax.short_term, done.tax.long_term) == (-450, 4300)
    assert (done.tax.loss_sales, done.tax.dropped) == (1, 1)
    assert (
        portfolio.read_text()
        == """\
# Lots and taxes for `advisor apply`
account: Taxed lots
cash: 19600.00
holdings:
  - ticker: MSFT
    lots:
      - {shares: 5, cost_basis: 250.00, acquired: 2019-05-02}
      - {shares: 20, cost_basis: 410.00, acquired: 2025-08-15}
  - ticker: AEIS
    lots:
      - {shares: 20, cost_basis: 120.00, acquired: 2023-01-20}
tax:
  account: taxable                    # a brokerage account
  realized_this_year: {short_term: 750, long_term: 4300}
  recent_sales:
    - {ticker: IWB, date: 2025-12-12, shares: 5, loss: 50}    # 61 days before
    - {ticker: AEIS, date: 2026-02-11, shares: 15, loss: 450}
"""
    )
    loaded = load_portfolio(portfolio)
    (warning,) = check_tax(loaded, date(2026, 2, 11))  # valid, with the IWB sale kept
    assert "tax.recent_sales[0].date 2025-12-12 is 61 days before the run date" in warning


def test_partial_fills_take_the_proposal_lots_in_its_order(tmp_path: Path) -> None:
    portfolio, proposal = taxed_setup(tmp_path, SPECIFIC[1:])
    fills = fills_csv(
        tmp_path / "fills.csv",
        [("AEIS", "SELL", 8, 240, "2026-02-12"), ("AEIS", "SELL", 12, 230, "2026-02-11")],
        header=DATED,
    )
    done = apply_fills(proposal, fills)
    # Fills by date: 12 at 230 from the 260 lot (-360); then 8 at 240: the 260 lot's last 3
    # (-60) and 5 of the 120 lot (+600, long).
    assert done.tax is not None
    assert (done.tax.short_term, done.tax.long_term) == (-420, 600)
    text = portfolio.read_text()
    assert "      - {shares: 20, cost_basis: 120.00, acquired: 2023-01-20}\ntax:" in text
    assert "{short_term: 780, long_term: 600}" in text
    assert text.endswith(
        "    - {ticker: AEIS, date: 2026-02-11, shares: 12, loss: 360}\n"
        "    - {ticker: AEIS, date: 2026-02-12, shares: 3, loss: 60}\n"
    )

    portfolio, proposal = taxed_setup(tmp_path, SPECIFIC[1:])
    apply_fills(proposal, fills_csv(tmp_path / "f.csv", [("AEIS", "SELL", 10, 230, "2026-02-11")],
                                    header=DATED))  # fmt: skip
    text = portfolio.read_text()
    assert (
        "      - {shares: 25, cost_basis: 120.00, acquired: 2023-01-20}\n"
        "      - {shares: 5, cost_basis: 260.00, acquired: 2025-11-03}\n"
    ) in text
    assert "{short_term: 900, long_term: 0}" in text  # 1,200 - 10 x 30


def test_a_lot_rule_still_overrides_the_proposal_lots(tmp_path: Path) -> None:
    portfolio, proposal = taxed_setup(tmp_path, SPECIFIC[1:])
    fills = fills_csv(tmp_path / "fills.csv", [("AEIS", "SELL", 20, 230, "2026-02-11")], DATED)
    code, out, err = invoke("apply", proposal, "--fills", fills, "--lots", "fifo")
    assert code == 0, err
    text = portfolio.read_text()
    # Oldest first: 20 of the 2023 lot at 120, a long-term gain of 20 x 110 = 2,200; no loss.
    assert (
        "      - {shares: 5, cost_basis: 120.00, acquired: 2023-01-20}\n"
        "      - {shares: 15, cost_basis: 260.00, acquired: 2025-11-03}\n"
    ) in text
    assert "{short_term: 1200, long_term: 2200}" in text
    assert "ticker: AEIS, date" not in text
    assert "realized short-term 0.00, long-term 2,200.00 added" in out


def test_a_deferred_account_records_no_gains(tmp_path: Path) -> None:
    text = TAXED_LOTS.split("tax:")[0] + "tax: {account: deferred}\n"
    portfolio, proposal = taxed_setup(tmp_path, SPECIFIC, text)
    fills = fills_csv(
        tmp_path / "fills.csv",
        [("MSFT", "SELL", 25, 400, "2026-02-11"), ("AEIS", "SELL", 20, 230, "2026-02-11")],
        header=DATED,
    )
    assert apply_fills(proposal, fills).tax is None
    after = portfolio.read_text()
    assert after.endswith("tax: {account: deferred}\n")
    assert "      - {shares: 5, cost_basis: 250.00, acquired: 2019-05-02}\n" in after


@pytest.mark.parametrize(
    ("lots", "field", "problem"),
    [
        ([lot("2020-01-01", 15, 260.0, 230.0, "short"), lot("2023-01-20", 5, 120.0, 230.0, "long")],
         "trades[0].lots[0]", "is not a lot of AEIS in the portfolio file (15 of its 15 shares "
         "acquired 2020-01-01 at cost basis 260 are not there)"),
        ([lot("2025-11-03", 15, 260.0, 230.0, "short")],
         "trades[0].lots", "add up to 15 shares, not the 20 the trade sells"),
        ([lot("2025-11-03", 16, 260.0, 230.0, "short"), lot("2023-01-20", 4, 120.0, 230.0, "long")],
         "trades[0].lots[0]", "(1 of its 16 shares"),
    ],
)  # fmt: skip
def test_proposal_lots_the_file_lacks_are_refused(
    tmp_path: Path, lots: list[dict[str, Any]], field: str, problem: str
) -> None:
    trades = [{**SPECIFIC[1], "lots": lots}]
    portfolio, proposal = taxed_setup(tmp_path, trades)
    fills = fills_csv(tmp_path / "fills.csv", [("AEIS", "SELL", 20, 230)])
    with pytest.raises(InputError, match=re.escape(f"proposal.json: {field} ")) as caught:
        apply_fills(proposal, fills)
    assert problem in str(caught.value)
    assert portfolio.read_text() == TAXED_LOTS


@pytest.mark.parametrize(
    ("acquired", "sold", "term"),
    [
        (date(2025, 2, 11), date(2026, 2, 11), "short"),  # one year to the day: not more
        (date(2025, 2, 11), date(2026, 2, 12), "long"),
        (date(2024, 2, 29), date(2025, 2, 28), "short"),
        (date(2024, 2, 29), date(2025, 3, 1), "long"),
        (None, date(2030, 1, 1), "short"),  # an unknown date is not shown to be long
    ],
)
def test_holding_term(acquired: date | None, sold: date, term: str) -> None:
    assert holding_term(acquired, sold) == term


def test_a_fund_the_model_has_no_price_for_keeps_its_fill_price(tmp_path: Path) -> None:
    """VOO is priced by --prices when proposed; bought into a file without `prices:`, its
    holding keeps the fill price, so the file still validates and scores."""
    portfolio = tmp_path / "p.yaml"
    portfolio.write_text(
        "cash: 5000\nholdings:\n  - {ticker: IVV, shares: 50}\n"
        "limits: {cash_max: 0.02, buy_from: [VOO]}\n"
    )
    quotes = tmp_path / "q.csv"
    quotes.write_text("ticker,price,date\nVOO,560.00,2026-11-27\n")
    proposal = tmp_path / "p.json"
    code, _, err = invoke("rebalance", portfolio, "--prices", quotes, "--date", "2026-11-28",
                          "-o", proposal)  # fmt: skip
    assert code == 0, err
    [buy] = [t for t in json.loads(proposal.read_text())["trades"] if t["ticker"] == "VOO"]
    fills = tmp_path / "fills.csv"
    fills.write_text(f"ticker,side,shares,price,date\nVOO,BUY,{buy['shares']},561.25,2026-11-30\n")
    code, _, err = invoke("apply", proposal, "--fills", fills, "--portfolio", portfolio)
    assert code == 0, err
    [voo] = [h for h in load_portfolio(portfolio).portfolio.holdings if h.ticker == "VOO"]
    assert voo.price == 561.25 and voo.quantity == buy["shares"]
    code, _, err = invoke("score", portfolio)
    assert code == 0, err
