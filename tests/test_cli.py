"""The command line: exit codes and output, through typer's CliRunner on real files."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from tests.conftest import DATA, ROOT

runner = CliRunner()
MINI = str(DATA / "mini-model")


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_score_json_has_every_key() -> None:
    code, out, _ = invoke("score", str(ROOT / "portfolios" / "all-iwm.yaml"), "--json")
    assert code == 0
    data = json.loads(out)
    for key in (
        "value",
        "cash",
        "bands",
        "small_cap_share",
        "size_score",
        "refinancing",
        "floating_debt",
        "weak_coverage",
        "unprofitable",
        "economic_sensitivity",
        "domestic_revenue_share",
        "sectors",
        "estimated_share",
        "model",
    ):
        assert key in data, key
    assert set(data["bands"]) == {"giant", "large", "mid", "small", "micro"}
    assert sum(data["bands"].values()) == pytest.approx(1.0, abs=1e-6)
    assert data["small_cap_share"] >= 0.85 and data["size_score"] < -1
    assert data["model"] == {"name": "us-equity", "as_of": "2026-02-10"}
    # 1000 IWM shares at the model's NAV, no cash
    assert data["value"] == pytest.approx(1000 * data["positions"][0]["price"])


def test_score_json_is_byte_identical_across_runs() -> None:
    path = str(ROOT / "portfolios" / "balanced.yaml")
    assert invoke("score", path, "--json")[1] == invoke("score", path, "--json")[1]


def test_score_tables_show_sources_and_estimates() -> None:
    code, out, _ = invoke("score", str(ROOT / "portfolios" / "rotation.yaml"))
    assert code == 0
    for text in (
        "Size bands",
        "Size score",
        "Refinancing",
        "Estimated",
        "Sectors",
        "us-equity",
        "NAV from IWM",
    ):
        assert text in out, text


def test_russell_scheme_option() -> None:
    code, out, _ = invoke(
        "score", str(ROOT / "portfolios" / "all-iwm.yaml"), "--json", "--scheme", "russell"
    )
    assert code == 0
    data = json.loads(out)
    assert data["bands"]["giant"] == 0 and data["bands"]["mid"] == 0
    assert data["small_cap_share"] == pytest.approx(data["bands"]["small"] + data["bands"]["micro"])
    # By current rank a third of IWM has grown past rank 1000 since the Russell reconstitution.
    assert 0.6 < data["small_cap_share"] < 0.8


def test_bad_scheme_is_exit_2() -> None:
    code, out, err = invoke("score", str(ROOT / "portfolios" / "all-iwm.yaml"), "--scheme", "x")
    assert code == 2 and "--scheme 'x' is not a size scheme; use cumulative or russell" in err
    assert out == ""


def test_validate_good_file_prints_nothing() -> None:
    assert invoke("validate", str(ROOT / "portfolios" / "rotation.yaml")) == (0, "", "")


def test_validate_warns_of_a_file_without_a_target() -> None:
    path = ROOT / "portfolios" / "tax-lots.yaml"
    assert invoke("validate", str(path)) == (
        0,
        "",
        f"warning: {path}: no target: rebalance will only repair broken limits; "
        "add `target: {small_cap_share: 0.25, band: 0.02}` to aim the portfolio\n",
    )


def test_rebalance_says_the_file_has_no_target(tmp_path: Path) -> None:
    path, report = ROOT / "portfolios" / "balanced.yaml", tmp_path / "summary.md"
    code, out, err = invoke("rebalance", str(path), "--output", str(report))
    assert (code, err) == (0, f"wrote {report}\n")
    lines = out.splitlines()
    assert lines[0].strip() == "No target set: no trades; every limit holds."
    headline = (
        "No target set: the file has no `target:` (small_cap_share or size_score), so only "
        "broken limits are repaired; every limit holds, nothing to do."
    )
    assert headline in out and "none: only broken limits are repaired" in out
    assert "No target set: the file has no \\`target:\\`" in report.read_text()


# One case per kind of bad input: (file or content, line, field)
BAD = {
    "malformed": ("bad_syntax.yaml", 3, "YAML syntax error"),
    "tab": ("bad_tab.yaml", 3, "tab"),
    "unknown key": ("bad_unknown_key.yaml", 6, "limits.max_turnvoer"),
    "unknown ticker": ("bad_tickers.yaml", 8, "holdings[3].ticker 'BRK.X'"),
    "negative shares": ("bad_negative_shares.yaml", 5, "holdings[1].shares -5"),
    "nan shares": ("bad_nan_shares.yaml", 4, "holdings[2].shares nan"),
    "duplicate ticker": ("bad_duplicate_ticker.yaml", 5, "holdings[2].ticker 'BRKB'"),
    "target out of range": ("bad_target_range.yaml", 5, "target.small_cap_share 1.5"),
    "empty": ("bad_empty.yaml", 1, "file is empty"),
    "object tag": ("bad_tag.yaml", 4, "holdings[0].shares"),
    "top level list": ("bad_top_level.yaml", 2, "top level"),
    "duplicate key": ("bad_duplicate_key.yaml", 5, "limits.max_turnover"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_with_a_located_message(case: str) -> None:
    name, line, field = BAD[case]
    code, out, err = invoke("score", str(DATA / name))
    assert code == 2
    assert out == ""  # no partial output
    assert "Traceback" not in err
    first = err.splitlines()[0]
    assert first.startswith(f"error: {DATA / name}:{line}: "), first
    assert field in first


def test_binary_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "photo.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    code, out, err = invoke("score", str(path))
    assert code == 2 and out == ""
    assert re.match(rf"error: {re.escape(str(path))}:\d+: file .*not a text YAML file", err)


def test_object_tag_constructs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "evil.yaml"
    path.write_text(f'cash: !!python/object/apply:os.system ["touch {marker}"]\n')
    code, _, err = invoke("score", str(path))
    assert code == 2 and "cash" in err and "tag" in err
    assert not marker.exists()


def test_missing_portfolio_file_exits_2(tmp_path: Path) -> None:
    code, _, err = invoke("score", str(tmp_path / "nope.yaml"))
    assert code == 2 and "nope.yaml" in err


def test_fund_without_a_price_needs_one_in_the_file(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(DATA / "mini-model", model)
    csv = model / "securities.csv"
    csv.write_text(csv.read_text().replace(",40,NAV,", ",,none,"))
    portfolio = tmp_path / "p.yaml"
    portfolio.write_text(f"model: {model}\nholdings:\n  - {{ticker: FND, shares: 10}}\n")
    code, _, err = invoke("score", str(portfolio))
    assert code == 2
    assert f"{portfolio}:3: holdings[0].price is needed" in err
    portfolio.write_text(f"model: {model}\nholdings:\n  - {{ticker: FND, shares: 10, price: 41}}\n")
    code, out, _ = invoke("score", str(portfolio), "--json")
    assert code == 0 and json.loads(out)["value"] == 410


def test_unknown_model_exits_2(tmp_path: Path) -> None:
    portfolio = tmp_path / "p.yaml"
    portfolio.write_text("model: no-such-model\ncash: 100\n")
    code, _, err = invoke("score", str(portfolio))
    assert code == 2 and "no-such-model" in err and "us-equity" in err


def test_schema_forbids_unknown_keys() -> None:
    code, out, _ = invoke("schema")
    schema = json.loads(out)
    assert code == 0 and schema["additionalProperties"] is False
    assert "holdings" in schema["properties"]


def test_model_show_and_check() -> None:
    code, out, _ = invoke("model", "show", "us-equity")
    assert code == 0 and "2026-02-10" in out and "Reported vs estimated" in out
    code, out, _ = invoke("model", "check", str(ROOT / "models" / "us-equity"))
    assert code == 0 and "IWM" in out and "ok" in out


def test_model_check_refuses_a_broken_folder(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(DATA / "mini-model", model)
    (model / "funds" / "FND.csv").write_text("ticker,weight\nMID,0.5\nSML,0.4\n")
    code, _, err = invoke("model", "check", str(model))
    assert code == 2 and "FND.csv" in err and "sum to 1" in err
