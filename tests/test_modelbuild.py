"""Model building: the iShares parser, the screener's common-equity filter, calibration, and
reproducibility of the shipped model from the public exports."""

from __future__ import annotations

import filecmp
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from advisor.market.build import Sources, build_model, write_model
from advisor.market.calibrate import Anchor, fit_two_anchors, logistic
from advisor.market.ishares import read_ishares
from advisor.market.risk import _logistic_regression
from advisor.market.screener import company_ids, is_common_equity
from tests.conftest import DATA, SHARED_DATA, SHIPPED_MODEL, needs_shared_data


def test_ishares_quoted_layout() -> None:
    fund = read_ishares(DATA / "ishares_quoted.csv")
    assert fund.fund_name == "iShares Test Small-Cap ETF"
    assert fund.as_of == date(2026, 4, 10)
    assert fund.shares_outstanding == 1000
    assert fund.nav == pytest.approx(100_000 / 1000)  # all lines, cash included
    equity = fund.equity
    assert list(equity["ticker"]) == ["AAA", "BRKB"]  # the '-' right and non-equity lines left out
    assert equity["weight"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert fund.equity_share == pytest.approx(90_000 / 100_000)  # looked-through lines only


def test_ishares_spreadsheet_resaved_layout() -> None:
    fund = read_ishares(DATA / "ishares_resaved.csv")
    assert fund.as_of == date(2026, 4, 13)
    assert fund.nav == pytest.approx(4_000 / 2_000)
    assert fund.equity["weight"].tolist() == pytest.approx([0.75, 0.25])
    assert fund.equity["sector"].tolist() == ["Information Technology", "Communication"]


@needs_shared_data
@pytest.mark.parametrize(
    "folder, lines",
    [
        ("ishares-iwm-2026-04-10", 1934),
        ("ishares-iwb-2026-04-13", 1004),
        ("ishares-iwb-2026-07-17", 1024),
        ("ishares-ivv-2024-12-06", 503),
    ],
)
def test_real_ishares_files(folder: str, lines: int) -> None:
    path = next((SHARED_DATA / folder).glob("*.csv"))
    fund = read_ishares(path)
    assert abs(len(fund.equity) - lines) <= 2
    assert fund.equity["weight"].sum() == pytest.approx(1.0)
    assert 0.99 < fund.equity_share < 1.0


@pytest.mark.parametrize(
    "name, common",
    [
        ("Apple Inc. Common Stock", True),
        ("Alliance Resource Partners L.P. Common Units representing Limited Partners", True),
        ("Abpro Holdings Inc. Warrant", False),
        ("Amplitech Group Inc. Series A Right", False),
        ("AGNC Investment Corp. Depositary Shares Each Representing a 1/1000th", False),
        ("Assurant Inc. 5.25% Subordinated Notes due 2061", False),
        ("Blue Water Acquisition Corp. III Units", False),
        ("abrdn Emerging Markets ex-China Fund Inc. Common Stock", False),
    ],
)
def test_common_equity_filter(name: str, common: bool) -> None:
    assert is_common_equity(name) is common


def test_share_classes_group_into_one_company() -> None:
    frame = pd.DataFrame(
        {
            "ticker": ["GOOG", "GOOGL", "GHC", "GHM", "FOX", "FOXA"],
            "name": [
                "Alphabet Inc. Class C Capital Stock",
                "Alphabet Inc. Class A Common Stock",
                "Graham Holdings Company Common Stock",
                "Graham Corporation Common Stock",
                "Fox Corporation Class B Common Stock",
                "Fox Corporation Class A Common Stock",
            ],
            "market_cap": [3.924e12, 3.923e12, 4.9e9, 0.94e9, 24.1e9, 26.7e9],
        }
    )
    ids = company_ids(frame)
    assert ids.tolist() == ["GOOG", "GOOG", "GHC", "GHM", "FOX", "FOX"]


def test_two_anchor_calibration_hits_both_targets() -> None:
    rng = np.random.default_rng(42)
    small = Anchor("small", rng.normal(-1.5, 0.5, 500), rng.uniform(0.5, 2, 500), 0.40)
    large = Anchor("large", rng.normal(0.5, 0.5, 300), rng.uniform(0.5, 2, 300), 0.06)
    a, b = fit_two_anchors(logistic, small, large)
    assert small.mean(logistic(a + b * small.z)) == pytest.approx(0.40, abs=1e-8)
    assert large.mean(logistic(a + b * large.z)) == pytest.approx(0.06, abs=1e-8)


def test_logistic_regression_recovers_known_coefficients() -> None:
    rng = np.random.default_rng(7)
    z = rng.normal(0, 1.5, 20_000)
    y = (rng.uniform(size=z.size) < logistic(-1.0 - 0.8 * z)).astype(float)
    a, b = _logistic_regression(z, y)
    assert a == pytest.approx(-1.0, abs=0.06) and b == pytest.approx(-0.8, abs=0.05)


@needs_shared_data
def test_shipped_model_is_reproducible(tmp_path: Path) -> None:
    """Building from the public exports gives byte-identical files to the committed model."""
    built = build_model(Sources.in_folder(SHARED_DATA), "us-equity", date(2026, 2, 10))
    write_model(built, tmp_path / "us-equity")
    compared = ["model.yaml", "securities.csv", *(f"funds/{f}.csv" for f in built.funds)]
    _, mismatch, errors = filecmp.cmpfiles(
        SHIPPED_MODEL, tmp_path / "us-equity", compared, shallow=False
    )
    assert not mismatch and not errors, (mismatch, errors)

    # Calibration: the estimation rules alone reproduce the published aggregates.
    stocks = built.securities.set_index("ticker")
    iwm = built.funds["IWM"].set_index("ticker")["weight"]
    members = stocks.loc[iwm.index]
    assert members["band"].isin(["small", "micro"]).mean() > 0.85
    meta = built.meta["estimation"]
    for field in ("floating_debt", "unprofitable", "refinancing", "domestic_revenue"):
        assert set(meta[field]) >= {"rule", "a", "b", "calibrated_to"}
