"""Batches: one proposal per account, the same on one core, two cores and a Dask LocalCluster."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

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


def test_batch_writes_a_proposal_per_account_and_a_summary(accounts: Path,
                                                            tmp_path: Path) -> None:
    code, files = run(accounts, tmp_path / "one")
    assert code == 2  # the broken account is reported, the others are still proposed
    assert set(files) == {"rotation.json", "mega-cap-tech.json", "all-iwm.json", "summary.csv"}
    rows = {r["path"]: r for r in csv.DictReader(files["summary.csv"].decode().splitlines())}
    assert rows[str(accounts / "broken.yaml")]["status"] == "error"
    assert rows[str(accounts / "rotation.yaml")]["target_reached"] == "True"
    assert rows[str(accounts / "all-iwm.yaml")]["trades"] == "0"  # no target, within limits
    single = runner.invoke(app, ["rebalance", str(accounts / "rotation.yaml"), "-o",
                                 str(tmp_path / "single.json")])
    assert single.exit_code == 0
    assert (tmp_path / "single.json").read_bytes() == files["rotation.json"]
    assert json.loads(files["rotation.json"])["status"] == "optimal"


@pytest.mark.slow
def test_two_jobs_and_a_dask_cluster_give_the_same_files(accounts: Path,
                                                         tmp_path: Path) -> None:
    _, serial = run(accounts, tmp_path / "serial")
    _, parallel = run(accounts, tmp_path / "parallel", "--jobs", "2")
    _, cluster = run(accounts, tmp_path / "cluster", "--cluster", "local")
    assert parallel == serial
    assert cluster == serial


def test_batch_needs_an_out_dir(accounts: Path) -> None:
    result = runner.invoke(app, ["rebalance", str(accounts)])
    assert result.exit_code == 2 and "--out-dir" in result.stderr
