"""Batches: one proposal per account, the same on one core, two cores and a Dask LocalCluster."""

from __future__ import annotations

import csv
import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.batch import AccountResult, run_account
from advisor.cli import app
from tests.conftest import ROOT

runner = CliRunner()


@pytest.fixture
def accounts(tmp_path: Path) -> Path:
    folder = tmp_path / "accounts"
    folder.mkdir()
    for name in ("rotation", "mega-cap-tech", "all-iwm"):
        shutil.copy(ROOT / "portfolios" / f"{name}.yaml", folder / f"{name}.yaml")
    (folder / "broken.yaml").write_text("cash: [\n")
    return folder


def run(accounts: Path, out: Path, *extra: str) -> tuple[int, dict[str, bytes]]:
    result = runner.invoke(app, ["rebalance", str(accounts), "--out-dir", str(out), *extra])
    return result.exit_code, {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_batch_writes_a_proposal_per_account_and_a_summary(accounts: Path, tmp_path: Path) -> None:
    code, files = run(accounts, tmp_path / "one")
    assert code == 2  # the broken account is reported, the others are still proposed
    assert set(files) == {"rotation.json", "mega-cap-tech.json", "all-iwm.json", "summary.csv"}
    rows = {r["path"]: r for r in csv.DictReader(files["summary.csv"].decode().splitlines())}
    assert rows[str(accounts / "broken.yaml")]["status"] == "error"
    assert rows[str(accounts / "rotation.yaml")]["target_reached"] == "True"
    assert rows[str(accounts / "all-iwm.yaml")]["trades"] == "0"  # no target, within limits
    for name in ("rotation", "mega-cap-tech", "all-iwm"):  # each proposal's own sentence
        summary = json.loads(files[f"{name}.json"])["summary"]
        assert rows[str(accounts / f"{name}.yaml")]["summary"] == summary
    assert rows[str(accounts / "all-iwm.yaml")]["summary"].startswith("No target set: no trades")
    broken = rows[str(accounts / "broken.yaml")]
    assert broken["summary"] == "No proposal: see the message."
    assert "broken.yaml" in broken["message"]
    single = runner.invoke(
        app, ["rebalance", str(accounts / "rotation.yaml"), "-o", str(tmp_path / "single.json")]
    )
    assert single.exit_code == 0
    assert (tmp_path / "single.json").read_bytes() == files["rotation.json"]
    assert json.loads(files["rotation.json"])["status"] == "optimal"


@pytest.mark.slow
def test_two_jobs_and_a_dask_cluster_give_the_same_files(accounts: Path, tmp_path: Path) -> None:
    _, serial = run(accounts, tmp_path / "serial")
    _, parallel = run(accounts, tmp_path / "parallel", "--jobs", "2")
    _, cluster = run(accounts, tmp_path / "cluster", "--cluster", "local")
    assert parallel == serial
    assert cluster == serial


def test_batch_needs_an_out_dir(accounts: Path) -> None:
    result = runner.invoke(app, ["rebalance", str(accounts)])
    assert result.exit_code == 2 and "--out-dir" in result.stderr


def varied_accounts(folder: Path, count: int, seed: int = 42) -> None:
    """Seeded accounts of the shipped model's stocks and funds: sizes, targets and limits vary,
    so some reach the target, some are stopped by a limit, some search under max_names."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    securities = pd.read_csv(ROOT / "models" / "us-equity" / "securities.csv")
    stocks = securities[(securities["type"] == "stock") & securities["ranked"]]
    for i in range(count):
        picks = stocks.sample(int(rng.integers(8, 70)), random_state=int(rng.integers(1e9)))
        lines = [f"account: varied {i}", f"cash: {int(rng.integers(0, 50_000))}", "holdings:"]
        lines += [f"  - {{ticker: {t}, shares: {int(rng.integers(1, 60_000 / p) + 1)}}}"
                  for t, p in zip(picks["ticker"], picks["price"], strict=True)]  # fmt: skip
        lines += ["  - {ticker: IWM, shares: 40}"] if i % 2 else []
        share = rng.choice([0.1, 0.2, 0.3, 0.45])
        lines += [f"target: {{small_cap_share: {share}, band: 0.02}}"] if i % 5 != 4 else []
        limits = ["buy_from: [holdings, funds]"]
        limits += [f"max_turnover: {rng.choice([0.05, 0.3])}"] if i % 3 == 0 else []
        limits += [f"max_names: {len(picks) // 2}"] if i % 7 == 3 else []
        lines += ["limits:", *(f"  {limit}" for limit in limits)]
        (folder / f"varied-{i:02d}.yaml").write_text("\n".join(lines) + "\n")


def holdings(count: int) -> str:
    """A portfolio file's text: `count` of the shipped model's stocks, a few thousand $ each."""
    import pandas as pd

    securities = pd.read_csv(ROOT / "models" / "us-equity" / "securities.csv")
    stocks = securities[(securities["type"] == "stock") & securities["ranked"]]
    picks = stocks.iloc[:: max(1, len(stocks) // count)][:count]
    lines = ["account: big", "cash: 10000", "holdings:"]
    lines += [f"  - {{ticker: {t}, shares: {max(1, round(4000 / p))}}}"
              for t, p in zip(picks["ticker"], picks["price"], strict=True)]  # fmt: skip
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_each_accounts_batch_proposal_is_its_single_runs_file(tmp_path: Path) -> None:
    folder = tmp_path / "accounts"
    folder.mkdir()
    for path in sorted((ROOT / "portfolios").glob("*.yaml")):
        shutil.copy(path, folder / path.name)
    varied_accounts(folder, 14)
    big = holdings(140)  # over 128 names: solved plainly, not compiled
    (folder / "big.yaml").write_text(big + "target: {small_cap_share: 0.3, band: 0.02}\n")
    _, batch = run(folder, tmp_path / "batch", "--jobs", "2")
    codes = {row["path"]: row["exit_code"]
             for row in csv.DictReader(batch["summary.csv"].decode().splitlines())}  # fmt: skip
    assert set(codes.values()) >= {"0", "3"}  # reached, and stopped by a limit, both compared
    compared = 0
    for path in sorted(folder.glob("*.yaml")):
        single = tmp_path / f"single-{path.stem}.json"
        result = runner.invoke(app, ["rebalance", str(path), "-o", str(single)])
        assert str(result.exit_code) == codes[str(path)], path.name
        if f"{path.stem}.json" in batch:
            assert single.read_bytes() == batch[f"{path.stem}.json"], path.name
            compared += 1
    assert compared >= 16


def summary_rows(out: Path) -> dict[str, dict[str, str]]:
    return {Path(r["path"]).name: r for r in csv.DictReader((out / "summary.csv").open())}


def test_a_fifo_or_a_failing_account_stops_no_other(tmp_path: Path) -> None:
    """A real process: a FIFO read by mistake would block it for ever (the timeout fails it)."""
    folder, out = tmp_path / "accounts", tmp_path / "out"
    folder.mkdir()
    shutil.copy(ROOT / "portfolios" / "rotation.yaml", folder / "good.yaml")
    (folder / "bad.yaml").write_text("cash: [\n")
    (folder / "cash.yaml").write_text("cash: 100000\n")
    os.mkfifo(folder / "z.yaml")
    (folder / "loop.yaml").symlink_to("loop.yaml")
    command = [sys.executable, "-m", "advisor", "rebalance", str(folder), "--out-dir", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    rows = summary_rows(out)
    assert set(rows) == {"good.yaml", "bad.yaml", "cash.yaml", "z.yaml", "loop.yaml"}
    assert "cannot be read (Too many levels of symbolic links)" in rows["loop.yaml"]["message"]
    assert (rows["good.yaml"]["exit_code"], rows["bad.yaml"]["exit_code"]) == ("0", "2")
    assert rows["z.yaml"]["exit_code"] == "2"
    assert rows["cash.yaml"]["exit_code"] == "0"  # cash alone, no target: nothing to do
    assert rows["z.yaml"]["message"] == (
        f"{folder / 'z.yaml'}: file is a FIFO (named pipe), not a regular file; give a regular "
        "file (in a batch, move it out of the folder)"
    )
    assert "good.json" in {p.name for p in out.iterdir()}


def test_an_internal_error_is_that_accounts_row(
    accounts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import advisor.rebalance

    propose = advisor.rebalance.propose

    def failing(path: Path, *args: object) -> object:
        if path.name == "all-iwm.yaml":
            raise RuntimeError("something unforeseen")
        return propose(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(advisor.rebalance, "propose", failing)
    code, files = run(accounts, tmp_path / "out")
    assert code == 2  # the broken file is the most severe; the bug is its account's row
    rows = summary_rows(tmp_path / "out")
    assert rows["all-iwm.yaml"]["exit_code"] == "1"
    assert rows["all-iwm.yaml"]["message"] == (
        "internal error: RuntimeError: something unforeseen (a bug: report it)"
    )
    assert set(files) == {"rotation.json", "mega-cap-tech.json", "summary.csv"}


def test_summary_is_written_when_every_account_fails(tmp_path: Path) -> None:
    folder = tmp_path / "accounts"
    folder.mkdir()
    (folder / "bad.yaml").write_text("cash: [\n")
    (folder / "worse.yaml").write_text("holdings: 3\n")
    code, files = run(folder, tmp_path / "out")
    assert code == 2 and set(files) == {"summary.csv"}
    assert {r["exit_code"] for r in summary_rows(tmp_path / "out").values()} == {"2"}


@pytest.mark.slow
def test_an_unreachable_cluster_is_exit_2_within_10_s(accounts: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    result = runner.invoke(
        app,
        ["rebalance", str(accounts), "--out-dir", str(tmp_path / "out"), "--cluster",
         "tcp://127.0.0.1:1"],
    )  # fmt: skip
    assert time.monotonic() - started < 10
    assert result.exit_code == 2
    assert result.stderr.lstrip().startswith(
        "error: --cluster 'tcp://127.0.0.1:1' could not be reached"
    )
    assert not (tmp_path / "out").exists()


def test_a_batch_that_cannot_write_its_summary_writes_nothing(
    accounts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_outputs import fail_writing

    fail_writing(monkeypatch, ".summary.csv.", errno.ENOSPC)
    out = tmp_path / "new" / "out"
    result = runner.invoke(app, ["rebalance", str(accounts), "--out-dir", str(out)])
    assert result.exit_code == 2
    assert (
        f"error: --out-dir '{out / 'summary.csv'}' could not be written: No space left on device "
        "(ENOSPC); nothing was written" in result.stderr
    )
    assert list(tmp_path.iterdir()) == [accounts]  # no proposal, no temporary file, no folder


def crash_on_rotation(paths: list[str], *args: object, **kwargs: object) -> list[AccountResult]:
    """A worker that dies on the rotation account's piece, as one killed by the system would."""
    if any(path.endswith("rotation.yaml") for path in paths):
        os._exit(9)
    return [run_account(path) for path in paths]


@pytest.mark.slow
def test_a_worker_that_dies_is_its_accounts_rows(
    accounts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import advisor.batch

    monkeypatch.setattr(advisor.batch, "run_accounts", crash_on_rotation)
    code, files = run(accounts, tmp_path / "out", "--jobs", "2")
    assert code == 2  # the broken file still counts first
    rows = summary_rows(tmp_path / "out")
    assert len(rows) == 4
    assert rows["rotation.yaml"]["exit_code"] == "1"
    assert rows["rotation.yaml"]["message"].startswith("internal error: its worker failed: ")
    assert "summary.csv" in files
