"""`advisor model build` from any exports: files recognised by content, whatever their names and
folders; the newest version of each kind; each source's sha256 and date in model.yaml; a rebuild
from a newer screener alone keeping what the earlier sources gave."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from ruamel.yaml import YAML

from advisor.errors import InputError
from advisor.market import exports
from advisor.market.build import Sources
from tests.conftest import DATA, ROOT, SHARED_DATA, SHIPPED_MODEL, needs_shared_data

SCREENER_2025 = "nasdaq-screener-2025-07-01/nasdaq_screener.csv"
SCREENER_2026 = "nasdaq-screener-2026-02-10/nasdaq_screener_1770731394680.csv"


def build(*options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "advisor", "model", "build", *options]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def meta_of(folder: Path) -> dict:
    return YAML(typ="safe").load((folder / "model.yaml").read_text())


def renamed_copy(dest: Path, nested: bool) -> dict[str, Path]:
    """Every CSV under the shared data, copied under a meaningless name (flat, or two folders
    deep), without the SOURCE.md notes. A copy keeps the modification time of the day its
    original states, as a download does; the folder and file names that dated some are gone."""
    copies = {}
    for number, original in enumerate(sorted(SHARED_DATA.rglob("*.csv"))):
        relative = str(original.relative_to(SHARED_DATA))
        name = hashlib.sha256(relative.encode()).hexdigest()[:16] + ".csv"
        folder = dest / f"box{number % 3}" / f"part{number}" if nested else dest
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(original, folder / name)
        export = exports.classify(original)
        if export is not None and exports.dates.sortable(export.date) == export.date:
            moment = datetime.fromisoformat(export.date).replace(hour=12, tzinfo=UTC).timestamp()
            os.utime(folder / name, (moment, moment))
        copies[relative] = folder / name
    return copies


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built") / "model"
    done = build("--data", str(SHARED_DATA), "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    return out


# --- recognition by content -----------------------------------------------------------------


def test_a_small_screener_and_holdings_export_are_recognised_by_content(tmp_path: Path) -> None:
    screener = tmp_path / "download (3).csv"
    screener.write_text(
        "Symbol,Name,Last Sale,Net Change,% Change,Market Cap,Country,IPO Year,Volume,Sector,"
        "Industry\nA,Agilent Technologies Inc. Common Stock,$118.01,-1.16,-0.973%,33522478551.00,"
        "United States,1999,1602378,Industrials,Biotechnology\n"
    )
    found = exports.classify(screener)
    assert found is not None and found.kind == exports.SCREENER
    holdings = exports.classify(DATA / "ishares_quoted.csv")
    assert holdings is not None and holdings.kind == exports.HOLDINGS
    assert (holdings.date, holdings.date_from) == ("2026-04-10", exports.dates.OWN_FIELD)
    assert holdings.fund == ""  # a test fund: no known name, no ticker in the file's name
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    assert exports.classify(tmp_path / "notes.csv") is None
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04\x00\x00" + bytes(range(256)) * 400)
    (tmp_path / "SOURCE.md").write_text("# notes, not an export\n")
    found, unknown = exports.find(tmp_path)
    assert [e.path.name for e in found] == ["download (3).csv"]
    assert sorted(p.name for p in unknown) == ["notes.csv", "sheet.xlsx"]


@needs_shared_data
@pytest.mark.parametrize(
    "relative, kind, fund",
    [
        (SCREENER_2026, exports.SCREENER, ""),
        (SCREENER_2025, exports.SCREENER, ""),
        ("ishares-iwm-2026-04-10/IWM_holdings.csv", exports.HOLDINGS, "IWM"),
        ("ishares-iwb-2026-04-13/IWB_holdings.csv", exports.HOLDINGS, "IWB"),  # resaved layout
        ("ishares-ivv-2024-12-06/IVV_holdings.csv", exports.HOLDINGS, "IVV"),
        ("ishares-iwv-2025-05-21/IWV_holdings.csv", exports.HOLDINGS, "IWV"),
        ("ishares-ijr-2021-03/IJR_holdings.csv", exports.HOLDINGS, ""),  # no preamble
        ("russell3000-yahoo-2022-01-04/market_data.csv", exports.SNAPSHOT, ""),
        ("nyse-sp500-fundamentals-2012-2016/fundamentals.csv", exports.FUNDAMENTALS, ""),
        ("nyse-sp500-fundamentals-2012-2016/securities.csv", exports.COMPANY_NAMES, ""),
        ("sp500-constituents/constituents.csv", exports.SECTORS, ""),
        ("prices-pypfopt-1990-2024/spy_prices.csv", exports.PRICES, ""),
        ("prices-pypfopt-1990-2024/stock_prices.csv", exports.PRICES, ""),
        ("returns-r3000-sample100-2019-2023/returns_data100.csv", None, ""),  # returns, not prices
        ("damodaran-coverage-ratings/interest_coverage.csv", None, ""),
        ("sp500-constituents-financials/constituents-financials.csv", None, ""),
    ],
)
def test_each_kind_is_recognised_under_a_meaningless_name(
    tmp_path: Path, relative: str, kind: str | None, fund: str
) -> None:
    copy = tmp_path / "f81c2d0e9a.csv"
    shutil.copyfile(SHARED_DATA / relative, copy)
    found = exports.classify(copy)
    assert (found.kind if found else None) == kind
    if found is not None and kind == exports.HOLDINGS:
        assert found.fund == fund  # from the fund name in the preamble, where there is one


@needs_shared_data
def test_a_fund_is_named_by_its_file_name_or_by_its_basket(tmp_path: Path) -> None:
    ijr = SHARED_DATA / "ishares-ijr-2021-03/IJR_holdings.csv"
    found = exports.classify(ijr)
    assert found is not None and (found.fund, found.identified_by) == ("IJR", "the file's name")
    # Renamed, its preamble cut off (no fund name inside): the shipped model's IWM basket
    # identifies it. (IJR's own 2021 basket keeps only the lines listed today, so it is not a
    # whole basket to compare with.)
    lines = (SHARED_DATA / "ishares-iwm-2026-04-10/IWM_holdings.csv").read_text("utf-8-sig")
    body = lines.splitlines(keepends=True)
    header = next(i for i, line in enumerate(body) if line.startswith("Ticker,"))
    (tmp_path / "export.csv").write_text("".join(body[header:]), encoding="utf-8")
    shutil.copyfile(SHARED_DATA / SCREENER_2026, tmp_path / "screener.csv")
    sources = Sources.gather(tmp_path, previous=SHIPPED_MODEL)
    assert sources.funds == {"IWM": tmp_path / "export.csv"}
    assert "share 100% of IWM's basket" in sources.found[tmp_path / "export.csv"].identified_by
    # Without a known basket it is passed over, with the way to name it.
    alone = Sources.gather(tmp_path)
    assert alone.funds == {}
    [(export, why)] = alone.passed_over
    assert export.path == tmp_path / "export.csv"
    assert f"--holdings TICKER={tmp_path / 'export.csv'}" in why
    named = Sources.gather(tmp_path, holdings=(f"iwm={tmp_path / 'export.csv'}",))
    assert named.funds == {"IWM": tmp_path / "export.csv"}
    assert named.passed_over == ()  # the file found in the folder is the one named
    with pytest.raises(InputError, match=r"--holdings names no fund .*--holdings TICKER="):
        Sources.gather(holdings=(str(tmp_path / "export.csv"),), screener=tmp_path / "screener.csv")


# --- choosing among versions ------------------------------------------------------------------


@needs_shared_data
def test_the_newest_version_of_each_kind_is_used() -> None:
    sources = Sources.in_folder(SHARED_DATA)
    assert sources.screener == SHARED_DATA / SCREENER_2026
    assert sources.funds["IWB"].parent.name == "ishares-iwb-2026-07-17"  # not 2026-04-13
    assert sources.funds["IWM"].parent.name == "ishares-iwm-2026-04-10"  # not 2025-05-13
    passed = {str(e.path.relative_to(SHARED_DATA)): why for e, why in sources.passed_over}
    assert passed == {
        SCREENER_2025: "nasdaq_screener_1770731394680.csv of 2026-02-10 is newer",
        "ishares-iwb-2026-04-13/IWB_holdings.csv": "IWB_holdings.csv of 2026-07-17 is newer",
        "ishares-iwm-2025-05-13/IWM_holdings.csv": "IWM_holdings.csv of 2026-04-10 is newer",
    }
    assert {p.name for p in sources.unclassified} == {
        "interest_coverage.csv",
        "synthetic_credit_rating.csv",
        "returns_data100.csv",
        "constituents-financials.csv",
    }
    assert sources.sp500_names == SHARED_DATA / "nyse-sp500-fundamentals-2012-2016/securities.csv"
    assert {p.name for p in sources.price_history} == {"spy_prices.csv", "stock_prices.csv"}
    # A file named outright wins over a newer one found in the folder.
    older = Sources.gather(SHARED_DATA, screener=SHARED_DATA / SCREENER_2025)
    assert older.screener == SHARED_DATA / SCREENER_2025
    assert SHARED_DATA / SCREENER_2025 not in {e.path for e, _ in older.passed_over}
    assert (SHARED_DATA / SCREENER_2026, "another file was named outright") in {
        (e.path, why) for e, why in older.passed_over
    }


@needs_shared_data
def test_files_named_outright_are_classified_by_content(tmp_path: Path) -> None:
    tenk = tmp_path / "annual.csv"
    shutil.copyfile(SHARED_DATA / "nyse-sp500-fundamentals-2012-2016/fundamentals.csv", tenk)
    iwm = tmp_path / "holdings.csv"
    shutil.copyfile(SHARED_DATA / "ishares-iwm-2025-05-13/IWM_holdings.csv", iwm)
    sources = Sources.gather(SHARED_DATA, fundamentals=(tenk,), holdings=(str(iwm),))
    assert sources.sp500_fundamentals == tenk
    assert sources.funds["IWM"] == iwm  # older than the folder's, but named
    assert sources.found[iwm].identified_by == "the fund name in the file"
    passed = {e.path.relative_to(SHARED_DATA).parts[0]: why for e, why in sources.passed_over}
    assert passed["nyse-sp500-fundamentals-2012-2016"] == "another file was named outright"
    assert passed["ishares-iwm-2026-04-10"] == "another file was named outright"
    with pytest.raises(InputError, match=r"--fundamentals is not .* it reads as an iShares"):
        Sources.gather(SHARED_DATA, fundamentals=(iwm,))


@needs_shared_data
def test_a_price_history_reads_as_closes_by_date() -> None:
    path = SHARED_DATA / "prices-pypfopt-1990-2024/spy_prices.csv"
    found = exports.classify(path)
    assert found is not None and (found.date, found.date_from) == (
        "2024-11-29",
        "the file's own field",
    )
    closes = exports.price_history(path)
    assert list(closes.columns) == ["SPY"]
    assert str(closes.index[-1]) == "2024-11-29" and closes["SPY"].iloc[-1] > 0


@needs_shared_data
def test_copies_dated_alike_are_told_apart_by_their_listings(tmp_path: Path) -> None:
    """Plain copies are all dated by the day they were made; the screener listing 2026 IPOs is
    the newer one, whatever the names."""
    shutil.copyfile(SHARED_DATA / SCREENER_2025, tmp_path / "a.csv")
    shutil.copyfile(SHARED_DATA / SCREENER_2026, tmp_path / "z.csv")
    for name in ("a.csv", "z.csv"):
        os.utime(tmp_path / name, (1_780_000_000, 1_780_000_000))
    sources = Sources.gather(tmp_path)
    assert sources.screener == tmp_path / "z.csv"
    assert sources.found[tmp_path / "z.csv"].date == "2026-05-28"  # its modification day


# --- what model.yaml records ------------------------------------------------------------------


@pytest.mark.slow
@needs_shared_data
def test_model_yaml_records_each_file_with_its_sha256_and_date(built: Path) -> None:
    meta = meta_of(built)
    sources = Sources.in_folder(SHARED_DATA)
    used = {(e.kind, e.fund or e.path.name): e.path for e in sources.found.values()}
    assert meta["as_of"] == "2026-02-10"
    # The screener, 4 fundamentals sources, 5 funds' holdings and SPY's closes.
    assert len(meta["sources"]) == 11
    for record in meta["sources"]:
        path = used[(record["kind"], record.get("fund", record["file"]))]
        assert record["file"] == path.name
        assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert record["date"] and record["date_from"] and record["publisher"]
    files = {r["file"]: (r["date"], r["date_from"]) for r in meta["sources"]}
    assert files["nasdaq_screener_1770731394680.csv"] == ("2026-02-10", "the file's download stamp")
    assert files["IJR_holdings.csv"] == ("2021-03-12", "the SOURCE.md beside it")
    assert files["spy_prices.csv"] == ("2024-11-29", "the file's own field")
    assert {(p["file"], p["date"]) for p in meta["passed_over"]} == {
        ("nasdaq_screener.csv", "2025-07-01"),
        ("IWB_holdings.csv", "2026-04-13"),
        ("IWM_holdings.csv", "2025-05-13"),
    }


@pytest.mark.slow
@needs_shared_data
@pytest.mark.parametrize("nested", [False, True])
def test_renamed_copies_build_the_same_model(built: Path, tmp_path: Path, nested: bool) -> None:
    renamed_copy(tmp_path / "exports", nested)
    out = tmp_path / "model"
    done = build(
        "--data", str(tmp_path / "exports"), "--from", str(SHIPPED_MODEL), "--out", str(out)
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ["securities.csv", *(f"funds/{p.name}" for p in (built / "funds").iterdir())]:
        assert (out / name).read_bytes() == (built / name).read_bytes(), name
    # Without its SOURCE.md the sector list is dated by its newest entry, a date it states.
    with (SHARED_DATA / "sp500-constituents/constituents.csv").open() as handle:
        newest = max(row["Date added"] for row in csv.DictReader(handle))
    figures = [pd.read_csv(f / "fundamentals.csv", dtype=str) for f in (built, out)]
    assert set(figures[1]["sectors.date"].dropna()) == {newest}
    figures[1]["sectors.date"] = figures[0]["sectors.date"]
    figures = [f.drop(columns=[c for c in f.columns if c.endswith(".file")]) for f in figures]
    pd.testing.assert_frame_equal(figures[0], figures[1])
    same = ("kind", "fund", "publisher", "date", "sha256", "used_for")
    records = [[{k: r.get(k) for k in same} for r in meta_of(f)["sources"]] for f in (built, out)]
    [sectors] = [r for r in records[1] if r["kind"] == exports.SECTORS]
    assert sectors["date"] == newest
    sectors["date"] = "2026-08-08"  # the original's SOURCE.md date
    assert records[0] == records[1]
    assert "not recognised as an export" in done.stdout


# --- a rebuild from a newer screener alone ---------------------------------------------------


@pytest.mark.slow
@needs_shared_data
def test_a_rebuild_from_a_screener_alone_keeps_what_the_earlier_sources_gave(
    built: Path, tmp_path: Path
) -> None:
    out = tmp_path / "model"
    done = build(
        "--screener", str(SHARED_DATA / SCREENER_2025), "--from", str(built), "--out", str(out)
    )
    assert done.returncode == 0, done.stderr[-2000:]
    meta, before = meta_of(out), meta_of(built)
    assert meta["as_of"] == "2025-07-01"  # the screener's date
    [screener] = [r for r in meta["sources"] if r["kind"] == exports.SCREENER]
    assert (screener["file"], screener["date"]) == ("nasdaq_screener.csv", "2025-07-01")
    kept = [r for r in meta["sources"] if r["kind"] != exports.SCREENER]
    earlier = [r for r in before["sources"] if r["kind"] != exports.SCREENER]
    assert [{k: v for k, v in r.items() if k != "carried_from"} for r in kept] == earlier
    assert {r["carried_from"] for r in kept} == {"model us-equity as of 2026-02-10"}
    for name in ["fundamentals.csv", *(f"funds/{p.name}" for p in (built / "funds").iterdir())]:
        assert (out / name).read_bytes() == (built / name).read_bytes(), name
    stocks = pd.read_csv(out / "securities.csv", keep_default_na=False).set_index("ticker")
    listed = stocks[(stocks["type"] == "stock") & (stocks["listed"].astype(str) == "True")]
    assert set(listed["price_date"]) == {"2025-07-01"}
    # A reported figure is still the raw file's, read here independently.
    with (SHARED_DATA / "russell3000-yahoo-2022-01-04/market_data.csv").open() as handle:
        raw = {row["2022-01-04"]: row for row in csv.DictReader(handle)}
    for ticker in ("AAPL", "MSFT", "CAT"):
        assert stocks.loc[ticker, "debt_source"] == "reported"
        assert float(stocks.loc[ticker, "debt"]) == pytest.approx(
            float(raw[ticker]["totalDebt"]), rel=1e-9
        )
    assert stocks.loc["AAPL", "sector"] == "Information Technology"


# --- what stops a build -----------------------------------------------------------------------


@needs_shared_data
def test_a_missing_kind_is_a_located_error_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    shutil.copyfile(SHARED_DATA / SCREENER_2026, tmp_path / "exports" / "a.csv")
    done = build("--data", str(tmp_path / "exports"), "--out", str(tmp_path / "model"))
    assert done.returncode == 2, done.stderr
    assert "snapshot is missing" in done.stderr and "--fundamentals FILE" in done.stderr
    assert "Traceback" not in done.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    for relative in (
        "russell3000-yahoo-2022-01-04/market_data.csv",
        "nyse-sp500-fundamentals-2012-2016/fundamentals.csv",
        "nyse-sp500-fundamentals-2012-2016/securities.csv",
        "sp500-constituents/constituents.csv",
        "ishares-ivv-2024-12-06/IVV_holdings.csv",
        "ishares-iwb-2026-07-17/IWB_holdings.csv",
    ):
        shutil.copyfile(SHARED_DATA / relative, tmp_path / "exports" / relative.replace("/", "_"))
    done = build("--data", str(tmp_path / "exports"), "--out", str(tmp_path / "model"))
    assert done.returncode == 2, done.stderr
    assert "holdings IWM is missing" in done.stderr and "--holdings IWM=FILE" in done.stderr
    done = build("--data", str(empty), "--out", str(tmp_path / "model"))
    assert done.returncode == 2
    assert f"{empty}: screener is missing" in done.stderr and "--screener FILE" in done.stderr
    done = build(
        "--screener",
        str(SHARED_DATA / "sp500-constituents/constituents.csv"),
        "--out",
        str(tmp_path / "model"),
    )
    assert done.returncode == 2
    assert "--screener is not a Nasdaq stock screener export" in done.stderr
    assert "it reads as an S&P 500 constituent list" in done.stderr
    assert not (tmp_path / "model").exists()
