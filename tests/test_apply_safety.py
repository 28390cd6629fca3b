"""`advisor apply` against hostile conditions: concurrent runs, symlinks, modes, line endings,
bad proposals, bad numbers, files that are not files, and file-system faults."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import random
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.fill_files import FILLS_BYTES
from advisor.portfolio import rewrite
from advisor.portfolio.loading import load_portfolio
from advisor.proposal import MAX_BYTES as PROPOSAL_BYTES
from tests.conftest import DATA, ROOT

runner = CliRunner()
ROTATION = ROOT / "portfolios" / "rotation.yaml"
TRADES = [
    {"ticker": "NVDA", "side": "SELL", "shares": 59, "price": 190.04},
    {"ticker": "AAON", "side": "BUY", "shares": 20, "price": 100.0},
]


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def make(
    folder: Path,
    source: Path = ROTATION,
    trades: list[dict[str, Any]] | None = None,
    content: bytes | None = None,
) -> tuple[Path, Path]:
    """A portfolio file in `folder` and a proposal of `trades` made from it."""
    portfolio = folder / "portfolio.yaml"
    portfolio.write_bytes(source.read_bytes() if content is None else content)
    proposal = folder / "proposal.json"
    document = {
        "trades": TRADES if trades is None else trades,
        "inputs": {
            "portfolio": str(portfolio),
            "sha256": hashlib.sha256(portfolio.read_bytes()).hexdigest(),
        },
    }
    proposal.write_text(json.dumps(document, indent=2))
    return portfolio, proposal


def fills_csv(path: Path, *rows: str, header: str = "ticker,side,shares,price") -> Path:
    path.write_text("\n".join((header, *rows)) + "\n")
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# Concurrency


@pytest.mark.slow
def test_two_concurrent_applies_never_both_succeed(tmp_path: Path) -> None:
    """Two processes apply one proposal with different fills, started together, ten times: one
    wins, the other is refused (exit 2), and the file holds the winner's fills."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for round_ in range(10):
        folder = tmp_path / f"round{round_}"
        folder.mkdir()
        portfolio, proposal = make(folder)
        sold = {"a": 10, "b": 20}
        files = {k: fills_csv(folder / f"{k}.csv", f"NVDA,SELL,{n},190") for k, n in sold.items()}
        runs = {
            k: subprocess.Popen(
                [sys.executable, "-m", "advisor", "apply", str(proposal), "--fills", str(f)],
                cwd=folder,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for k, f in files.items()
        }
        done = {k: (p.communicate(timeout=120), p.returncode) for k, p in runs.items()}
        codes = sorted(code for _, code in done.values())
        assert codes == [0, 2], done
        winner = next(k for k, (_, code) in done.items() if code == 0)
        loser = next(k for k in done if k != winner)
        assert "has changed since the proposal was made" in done[loser][0][1]
        held = {h.ticker: h.shares for h in load_portfolio(portfolio).portfolio.holdings}
        assert held["NVDA"] == 300 - sold[winner]
        assert (folder / "portfolio.yaml.bak").read_bytes() == ROTATION.read_bytes()
        assert not list(folder.glob(".*.tmp"))


@pytest.mark.slow
def test_a_waiting_apply_follows_the_replaced_file(tmp_path: Path) -> None:
    """A process waiting on the lock of a file that another apply then replaces (a new inode)
    must lock and read the new file, not the old one: it is refused, and the new file stays."""
    portfolio, proposal = make(tmp_path)
    fills = fills_csv(tmp_path / "fills.csv", "NVDA,SELL,10,190")
    fd = os.open(portfolio, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    process = subprocess.Popen(
        [sys.executable, "-m", "advisor", "apply", str(proposal), "--fills", str(fills)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not has_open(process.pid, portfolio) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert has_open(process.pid, portfolio), "apply never opened the portfolio file"
        # "Another apply" replaces the file while holding the lock, as apply does.
        replaced = ROTATION.read_text().replace("cash: 40000.00", "cash: 41900.00")
        (tmp_path / "new.tmp").write_text(replaced)
        os.replace(tmp_path / "new.tmp", portfolio)
    finally:
        os.close(fd)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 2, (out, err)
    assert "has changed since the proposal was made" in err
    assert portfolio.read_text() == replaced


def has_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has the file `path` open (it then waits for our lock)."""
    folder = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in folder.iterdir())
    except OSError:  # an fd closed meanwhile
        return False


def test_a_lock_held_too_long_ends_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portfolio, proposal = make(tmp_path)
    fills = fills_csv(tmp_path / "f.csv", "NVDA,SELL,5,190")
    monkeypatch.setattr(rewrite, "LOCK_WAIT", 0.2)
    before = snapshot(tmp_path)
    fd = os.open(portfolio, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        code, _, err = invoke("apply", proposal, "--fills", fills)
    finally:
        os.close(fd)
    assert code == 2
    assert f"error: {portfolio}: file is locked by another process (waited 0.2 s)" in err
    assert snapshot(tmp_path) == before


# The file's identity and form


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real_folder = tmp_path / "real"
    real_folder.mkdir()
    real, proposal = make(real_folder)
    link = tmp_path / "portfolio.yaml"
    link.symlink_to(real)
    document = json.loads(proposal.read_text())
    document["inputs"]["portfolio"] = str(link)
    proposal.write_text(json.dumps(document))
    fills = fills_csv(tmp_path / "fills.csv", "NVDA,SELL,59,190")
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert "{ticker: NVDA, shares: 241}" in real.read_text()
    assert (real_folder / "portfolio.yaml.bak").read_bytes() == ROTATION.read_bytes()
    assert not (tmp_path / "portfolio.yaml.bak").exists()


def test_mode_is_kept_for_the_file_and_its_backup(tmp_path: Path) -> None:
    portfolio, proposal = make(tmp_path)
    portfolio.chmod(0o600)
    code, _, err = invoke(
        "apply", proposal, "--fills", fills_csv(tmp_path / "f.csv", "NVDA,SELL,5,190")
    )
    assert code == 0, err
    assert stat.S_IMODE(portfolio.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "portfolio.yaml.bak").stat().st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_owner_and_group_are_kept(tmp_path: Path) -> None:
    portfolio, proposal = make(tmp_path)
    os.chown(portfolio, 1234, 5678)
    fills = fills_csv(tmp_path / "f.csv", "NVDA,SELL,5,190")
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 0, err
    for path in (portfolio, tmp_path / "portfolio.yaml.bak"):
        assert (path.stat().st_uid, path.stat().st_gid) == (1234, 5678)


def test_a_portfolio_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    portfolio, proposal = make(tmp_path)
    portfolio.unlink()
    os.mkfifo(portfolio)
    fills = fills_csv(tmp_path / "f.csv", "NVDA,SELL,5,190")
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 2
    assert f"error: {portfolio}: file is not a regular file" in err


def test_crlf_line_endings_and_a_byte_order_mark_are_kept(tmp_path: Path) -> None:
    content = b"\xef\xbb\xbf" + ROTATION.read_bytes().replace(b"\n", b"\r\n")
    portfolio, proposal = make(tmp_path, content=content)
    code, _, err = invoke(
        "apply", proposal, "--fills", fills_csv(tmp_path / "f.csv", "NVDA,SELL,5,190")
    )
    assert code == 0, err
    new = portfolio.read_bytes()
    assert new.startswith(b"\xef\xbb\xbf")
    assert new.count(b"\n") == new.count(b"\r\n") == content.count(b"\r\n")
    assert b"{ticker: NVDA, shares: 295}\r\n" in new
    assert (tmp_path / "portfolio.yaml.bak").read_bytes() == content


# The proposal


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["trades"].append(
                {"ticker": "ZZZZ", "side": "BUY", "shares": 1, "price": 10}
            ),
            "trades[2].ticker 'ZZZZ' is not in model us-equity",
        ),
        (lambda d: d["trades"][0].update(shares=float("nan")), "trades[0].shares nan is not a"),
        (lambda d: d["trades"][1].update(price=-3), "trades[1].price -3.0 is not a positive"),
        (
            lambda d: d["trades"].append(dict(d["trades"][0])),
            "trades[2].ticker 'NVDA' is traded twice (also trades[0])",
        ),
        (lambda d: d["trades"][0].update(side="HOLD"), "trades[0].side 'HOLD' is not"),
        (lambda d: d["trades"][0].update(shares="59"), "trades[0].shares '59' is not a number"),
        (
            lambda d: d["trades"][0].update(shares=2.5),
            "trades[0].shares 2.5 is not a whole number of shares, and the portfolio trades whole",
        ),
    ],
)
def test_a_bad_proposal_is_refused_before_anything_is_applied(
    change: Any, message: str, tmp_path: Path
) -> None:
    _, proposal = make(tmp_path)
    document = json.loads(proposal.read_text())
    change(document)
    proposal.write_text(json.dumps(document))
    fills = fills_csv(tmp_path / "f.csv", "NVDA,SELL,5,190")
    before = snapshot(tmp_path)
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 2, err
    assert err.startswith(f"error: {proposal}: {message}"), err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000, "JSON nests too deeply"),
        ('{"trades": ' + "[" * 5000 + "]" * 5000 + "}", "JSON nests too deeply"),
    ],
)
def test_deeply_nested_json_is_refused(text: str, message: str, tmp_path: Path) -> None:
    _, proposal = make(tmp_path)
    proposal.write_text(text)
    code, _, err = invoke(
        "apply", proposal, "--fills", fills_csv(tmp_path / "f.csv", "NVDA,SELL,5,190")
    )
    assert code == 2, err
    assert f"error: {proposal}" in err and message in err


def test_a_huge_proposal_is_refused_unread(tmp_path: Path) -> None:
    _, proposal = make(tmp_path)
    with proposal.open("r+b") as handle:
        handle.truncate(PROPOSAL_BYTES + 1)  # sparse: nothing is really written
    code, _, err = invoke(
        "apply", proposal, "--fills", fills_csv(tmp_path / "f.csv", "NVDA,SELL,5,190")
    )
    assert code == 2
    assert f"error: {proposal}: file is 64.0 MB, larger than the 64.0 MB such a file" in err


# The fills


def test_fills_in_any_order_give_the_same_file(tmp_path: Path) -> None:
    """Selling every lot first must not make a new holding lose its lots; shuffled rows give
    the same bytes."""
    trades = [
        {"ticker": "MSFT", "side": "SELL", "shares": 50, "price": 400.0},
        {"ticker": "AEIS", "side": "SELL", "shares": 40, "price": 230.0},
        {"ticker": "AAON", "side": "BUY", "shares": 30, "price": 100.0},
    ]
    rows = [
        "MSFT,SELL,20,400,2026-02-11",
        "MSFT,SELL,30,401,2026-02-11",
        "AEIS,SELL,40,230,2026-02-11",
        "AAON,BUY,10,100,2026-02-12",
        "AAON,BUY,12,101,2026-02-11",
        "AAON,BUY,8,99,2026-02-12",
    ]
    results = set()
    for seed in range(4):
        folder = tmp_path / f"run{seed}"
        folder.mkdir()
        portfolio, proposal = make(folder, DATA / "fills_lots.yaml", trades)
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        if seed == 0:
            shuffled = rows  # the sales first
        fills = fills_csv(folder / "f.csv", *shuffled, header="ticker,side,shares,price,date")
        code, _, err = invoke("apply", proposal, "--fills", fills)
        assert code == 0, err
        results.add(portfolio.read_bytes())
    assert len(results) == 1
    text = results.pop().decode()
    assert (
        "  - ticker: AAON\n    lots:\n"
        "      - {shares: 12, cost_basis: 101, acquired: 2026-02-11}\n"
        "      - {shares: 8, cost_basis: 99, acquired: 2026-02-12}\n"
        "      - {shares: 10, cost_basis: 100, acquired: 2026-02-12}\n"
    ) in text


def test_a_price_far_from_the_proposal_needs_allow_price_move(tmp_path: Path) -> None:
    portfolio, proposal = make(tmp_path)
    fills = fills_csv(tmp_path / "f.csv", "NVDA,SELL,5,1900.4")
    before = snapshot(tmp_path)
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 2
    assert err.startswith(
        f"error: {fills}:2: price '1900.4' is +900.0% from the proposal's price 190.04 for NVDA, "
        "more than the 20% allowed; check the fill (a typo?); if the price really moved that "
        "far, give --allow-price-move"
    ), err
    assert snapshot(tmp_path) == before
    code, _, err = invoke("apply", proposal, "--fills", fills, "--allow-price-move")
    assert code == 0, err
    assert "cash: 49502.00" in portfolio.read_text()


def test_a_price_within_20_percent_is_accepted(tmp_path: Path) -> None:
    _, proposal = make(tmp_path)
    fills = fills_csv(tmp_path / "f.csv", "NVDA,SELL,5,152.04", "AAON,BUY,1,119.99")
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 0, err


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("shares", "1_0"),
        ("shares", "1e1"),
        ("shares", "inf"),
        ("shares", "0"),
        ("shares", "+5"),
        ("price", "1e308"),
        ("price", "1" + "0" * 400),
        ("price", "Infinity"),
        ("price", "190,04"),
    ],
)
def test_numbers_must_be_plain_decimals(field: str, value: str, tmp_path: Path) -> None:
    _, proposal = make(tmp_path)
    row = {"shares": "5", "price": "190"} | {field: value}
    fills = fills_csv(tmp_path / "f.csv", f'NVDA,SELL,{row["shares"]},"{row["price"]}"')
    before = snapshot(tmp_path)
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 2, err
    assert err.startswith(f"error: {fills}:2: {field} '{value[:40]}"), err
    assert "is not a positive number" in err
    assert snapshot(tmp_path) == before


def test_a_fifo_as_fills_is_refused_without_waiting(tmp_path: Path) -> None:
    _, proposal = make(tmp_path)
    fifo = tmp_path / "fills.csv"
    os.mkfifo(fifo)
    started = time.monotonic()
    code, _, err = invoke("apply", proposal, "--fills", fifo)
    assert code == 2
    assert f"error: {fifo}: file is a FIFO (named pipe), not a regular file" in err
    assert time.monotonic() - started < 10


def test_a_huge_fills_file_is_refused(tmp_path: Path) -> None:
    _, proposal = make(tmp_path)
    fills = fills_csv(tmp_path / "f.csv", "NVDA,SELL,5,190")
    with fills.open("r+b") as handle:
        handle.truncate(FILLS_BYTES + 1)
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 2 and f"error: {fills}: file is 10.0 MB, larger than the 10.0 MB" in err


# Never an invalid file, never half a write


def test_a_result_that_would_not_validate_is_not_written(tmp_path: Path) -> None:
    """The model knows 'AAON\\t' as AAON, but a ticker with a tab is no valid portfolio ticker."""
    trades = [{"ticker": "AAON\t", "side": "BUY", "shares": 2, "price": 100.0}]
    _, proposal = make(tmp_path, trades=trades)
    fills = fills_csv(tmp_path / "f.csv", "AAON,BUY,2,100")
    before = snapshot(tmp_path)
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 2, err
    assert "would not be valid after the fills (is not a ticker); nothing was written" in err
    assert snapshot(tmp_path) == before


def test_a_backup_that_cannot_be_written_changes_nothing(tmp_path: Path) -> None:
    _, proposal = make(tmp_path)
    (tmp_path / "portfolio.yaml.bak").mkdir()
    fills = fills_csv(tmp_path / "f.csv", "NVDA,SELL,5,190")
    before = snapshot(tmp_path)
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 2, err
    assert (
        f"error: {tmp_path / 'portfolio.yaml.bak'}: file cannot be written (Is a directory)" in err
    )
    assert snapshot(tmp_path) == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_full_disk_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    portfolio, proposal = make(tmp_path)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(rewrite.os, "fsync", full)
    fills = fills_csv(tmp_path / "f.csv", "NVDA,SELL,5,190")
    before = snapshot(tmp_path)
    code, _, err = invoke("apply", proposal, "--fills", fills)
    assert code == 2, err
    assert f"error: {portfolio}: file cannot be written (No space left on device)" in err
    assert snapshot(tmp_path) == before
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_a_read_only_portfolio_is_refused(tmp_path: Path) -> None:
    portfolio, proposal = make(tmp_path)
    portfolio.chmod(0o444)
    code, _, err = invoke(
        "apply", proposal, "--fills", fills_csv(tmp_path / "f.csv", "NVDA,SELL,5,190")
    )
    assert code == 2
    assert f"error: {portfolio}: file cannot be written (Permission denied)" in err
