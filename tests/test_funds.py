"""Funds: those tracking a shipped fund's index looked through to its basket, a portfolio's own
funds from their holdings files (every issuer layout), `model add-fund`, same-index groups."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import InputError, ModelError
from advisor.market import MarketModel, load_model
from advisor.market.holdings import match_holdings, read_holdings
from tests.conftest import DATA, SHARED_DATA, SHIPPED_MODEL, needs_shared_data

FUNDS = DATA / "funds"
LAYOUTS = sorted(p.name for p in FUNDS.glob("*.csv"))
# The fixtures' fund: these weights in percent, ZZQX unknown to the model, 1% cash (the plain
# files leave the cash out), BRK.B written BRK/B where the layout allows.
PERCENT = {"NVDA": 20, "AAPL": 18, "MSFT": 16, "AMZN": 10, "AVGO": 8, "META": 8,
           "GOOGL": 6, "GOOG": 6, "BRK.B": 5}  # fmt: skip
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def portfolio(tmp_path: Path, text: str, name: str = "p.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def score_json(path: str) -> dict:  # type: ignore[type-arg]
    code, out, err = invoke("score", path, "--json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


# Funds tracking a shipped fund's index


@pytest.mark.parametrize(
    ("ticker", "price", "basket", "approximate"),
    [("SPY", "", "IVV", False), ("VOO", ", price: 560.0", "IVV", False),
     ("VTI", ", price: 310.0", "IWV", True), ("IJR", ", price: 120.0", "IJR", True)],
)  # fmt: skip
def test_one_fund_portfolios_score_and_say_which_basket_stands_in(
    tmp_path: Path, ticker: str, price: str, basket: str, approximate: bool
) -> None:
    path = portfolio(tmp_path, f"holdings:\n  - {{ticker: {ticker}, shares: 10{price}}}\n")
    scored = score_json(path)
    [found] = scored["funds"]
    assert (found["ticker"], found["basket"], found["approximate"]) == (ticker, basket, approximate)
    assert basket in found["note"] and ("approximate" in found["note"]) == approximate
    code, out, _ = invoke("score", path)
    assert code == 0 and found["note"] in out


def test_spy_and_voo_are_ivv_to_the_digit(tmp_path: Path, shipped_model: MarketModel) -> None:
    """The same basket: the same figures. IVV's small-cap share is also summed here by hand from
    funds/IVV.csv and the securities' bands, apart from the model's exposure table."""
    shares = {}
    for ticker in ("IVV", "SPY", "VOO"):
        path = portfolio(tmp_path, f"holdings:\n  - {{ticker: {ticker}, shares: 10, "
                                   "price: 500.0}\n", f"{ticker}.yaml")  # fmt: skip
        shares[ticker] = score_json(path)["small_cap_share"]
    assert shares["SPY"] == shares["VOO"] == shares["IVV"]
    weights = pd.read_csv(SHIPPED_MODEL / "funds" / "IVV.csv").set_index("ticker")["weight"]
    band = shipped_model.securities.loc[weights.index, "band"]
    assert shares["IVV"] == pytest.approx(float(weights[band.isin(["small", "micro"])].sum()))


def test_a_fund_without_a_price_is_a_located_error_naming_it(tmp_path: Path) -> None:
    path = portfolio(tmp_path, "cash: 100\nholdings:\n  - {ticker: VTI, shares: 10}\n")
    code, _, err = invoke("score", path)
    assert code == 2
    assert f"{path}:3: holdings[0].price" in err and "no price for VTI" in err


def test_a_named_fund_without_a_price_cannot_be_bought(tmp_path: Path) -> None:
    path = portfolio(tmp_path, "cash: 1000\nholdings:\n  - {ticker: AAPL, shares: 10}\n"
                               "limits: {buy_from: [holdings, VOO]}\n")  # fmt: skip
    code, _, err = invoke("rebalance", path)
    assert code == 2
    assert "limits.buy_from[1] 'VOO'" in err and "no price" in err


def test_funds_tracking_one_index_are_grouped(shipped_model: MarketModel) -> None:
    same = shipped_model.same_index
    assert same("SPY") == same("VOO") == {"IVV", "SPY", "VOO", "SPLG"}
    assert same("VTWO") == {"IWM", "VTWO"} and same("VONE") == {"IWB", "VONE"}
    assert same("VTHR") == {"IWV", "VTHR"}
    assert same("IJR") == same("VIOO") == {"IJR", "SPSM", "VIOO"}
    # Each total-market fund follows its own index (CRSP, S&P TMI, Dow Jones): none is
    # substantially identical to another or to the Russell 3000 funds.
    assert same("VTI") == {"VTI"} and same("ITOT") == {"ITOT"} and same("SCHB") == {"SCHB"}
    assert same("AAPL") == {"AAPL"}


def test_stand_ins_share_their_basket(shipped_model: MarketModel) -> None:
    weights = shipped_model.fund_weights
    assert weights["SPY"] is weights["IVV"] and weights["VTI"] is weights["IWV"]
    assert weights["SPSM"] is weights["IJR"]
    meta = shipped_model.meta
    assert meta["stand_ins"]["VTWO"]["basket"] == "IWM"
    assert meta["stand_ins"]["SCHB"]["approximate"] is True
    assert not (SHIPPED_MODEL / "funds" / "SPY.csv").exists()  # no copies of a basket


def test_a_stand_in_whose_basket_is_gone_is_a_located_model_error(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL, folder)
    meta = folder / "model.yaml"
    meta.write_text(meta.read_text().replace("    basket: IVV\n", "    basket: IVX\n", 1))
    with pytest.raises(ModelError, match=r"stand_ins\.SPY\.basket 'IVX' is not a fund"):
        load_model(folder)


def test_buy_from_funds_offers_one_fund_per_basket(shipped_model: MarketModel) -> None:
    from advisor.portfolio import Portfolio
    from advisor.rebalance import candidates

    chosen = candidates(
        Portfolio.model_validate({"cash": 1, "limits": {"buy_from": ["funds"]}}),
        shipped_model,
        pd.Index([]),
        set(),
    )
    assert list(chosen) == ["IVV", "IWB", "IWM", "IWV"]  # SPY is IVV's basket again; IJR unpriced


@needs_shared_data
def test_build_prices_spy_and_dates_ijr_from_their_sources(shipped_model: MarketModel) -> None:
    closes = pd.read_csv(SHARED_DATA / "prices-pypfopt-1990-2024" / "spy_prices.csv")
    spy = shipped_model.securities.loc["SPY"]
    assert spy["price"] == pytest.approx(closes["SPY"].iloc[-1], rel=1e-9)
    assert spy["price_date"] == closes["date"].iloc[-1] == "2024-11-29"
    assert pd.isna(shipped_model.securities.at["VOO", "price"])
    ijr = shipped_model.meta["funds"]["IJR"]
    assert ijr["as_of"] == "2021-03-12"  # the SOURCE.md beside the export: it has no preamble
    # Holdings delisted since 2021 leave the basket, their weight stated; the rest sum to 1.
    assert 0.1 < ijr["holdings_gone_share"] < 0.25
    assert shipped_model.fund_weights["IJR"].sum() == pytest.approx(1.0)


# A portfolio's own funds, from holdings files


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_reads_to_the_same_fund(layout: str, shipped_model: MarketModel) -> None:
    holdings = read_holdings(FUNDS / layout)
    fund = match_holdings(shipped_model, "TGRO", holdings, "")
    # Matched weights renormalised by hand over the 97 points matched. The cash line (1%) is
    # listed as unmatched where the layout gives it; the plain files and the iShares reader
    # (equity lines only) leave it out, so their lines sum to 99.
    expected = pd.Series({t: p / 97 for t, p in PERCENT.items()}).sort_index()
    pd.testing.assert_series_equal(fund.weights, expected, check_names=False, rtol=1e-9)
    unmatched = dict(zip(fund.unmatched["ticker"], fund.unmatched["weight"], strict=True))
    lines = 99 if layout.startswith("plain") or layout == "ishares.csv" else 100
    assert unmatched["ZZQX"] == pytest.approx(2 / lines)
    assert fund.unmatched_share == pytest.approx(1 - 97 / lines)
    if not layout.startswith("plain"):
        assert str(holdings.as_of) == "2026-11-26"


def test_a_partial_list_states_what_it_leaves_out(
    tmp_path: Path, shipped_model: MarketModel
) -> None:
    path = tmp_path / "top.csv"
    path.write_text("ticker,weight\nNVDA,9.0\nAAPL,8.0\nMSFT,7.2\n", encoding="utf-8")
    fund = match_holdings(shipped_model, "TOP", read_holdings(path), "")
    assert fund.unmatched_share == pytest.approx(1 - 0.242)
    assert "not listed in the file" in fund.unmatched["name"].iloc[0]


def test_a_file_without_weights_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("name,country\nApple,US\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.csv: header has no ticker and weight columns"):
        read_holdings(path)
    path.write_text("ticker,weight\nAAPL,12\nMSFT,lots\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.csv:3: weight 'lots' is not a number"):
        read_holdings(path)


def own_fund(tmp_path: Path, layout: str, body: str) -> str:
    shutil.copy(FUNDS / layout, tmp_path / layout)
    entry = f"funds:\n  TGRO: {{holdings: {layout}, name: Test Growth}}\n"
    return portfolio(tmp_path, body + entry)


@pytest.mark.parametrize("layout", ["spdr.csv", "vanguard.csv", "plain-percent.csv"])
def test_a_portfolio_fund_scores_listing_what_the_model_lacks(tmp_path: Path, layout: str) -> None:
    path = own_fund(tmp_path, layout, "holdings:\n  - {ticker: TGRO, shares: 100, price: 500.0}\n")
    scored = score_json(path)
    [found] = scored["funds"]
    assert found["ticker"] == "TGRO" and found["basket"] == layout
    assert {"ticker": "ZZQX"}.items() <= found["unmatched"][0].items()
    assert found["unmatched"][0]["weight"] == pytest.approx(2 / (99 if "plain" in layout else 100))
    largest = scored["largest_companies"]  # looked through: NVDA is 20/97 of it
    assert largest["NVDA"] == pytest.approx(20 / 97)
    code, out, _ = invoke("score", path)
    assert code == 0 and "not in the model, left out: ZZQX 2.0%" in out


def test_a_portfolio_fund_is_sold_and_bought_by_rebalance(tmp_path: Path) -> None:
    """The real solver: a large-cap fund sold to reach a small-cap target, then bought."""
    sell = own_fund(tmp_path, "invesco.csv", "holdings:\n  - {ticker: TGRO, shares: 200, "
                    "price: 500.0}\ntarget: {small_cap_share: 0.15, band: 0.02}\n"
                    "limits: {buy_from: [holdings, IWM], max_position: 0.5}\n")  # fmt: skip
    out = tmp_path / "sell.json"
    code, _, err = invoke("rebalance", sell, "--output", str(out))
    assert code == 0, err
    document = json.loads(out.read_text())
    sides = {t["ticker"]: t["side"] for t in document["trades"]}
    assert sides == {"TGRO": "SELL", "IWM": "BUY"}
    assert any(line.startswith("TGRO: holdings file invesco.csv") for line in document["funds"])
    buy = own_fund(tmp_path, "ishares.csv", "holdings:\n  - {ticker: IWM, shares: 400}\n"
                   "target: {small_cap_share: 0.8, band: 0.02}\nlimits: {buy_from: "
                   "[holdings, TGRO], sector_drift_max: 1.0, max_turnover: 2}\n")  # fmt: skip
    code, _, err = invoke("rebalance", buy, "--output", str(out))
    assert code == 0, err
    sides = {t["ticker"]: t["side"] for t in json.loads(out.read_text())["trades"]}
    assert sides == {"TGRO": "BUY", "IWM": "SELL"}


def test_a_portfolio_fund_named_like_a_stock_is_refused(tmp_path: Path) -> None:
    shutil.copy(FUNDS / "spdr.csv", tmp_path / "spdr.csv")
    path = portfolio(tmp_path, "cash: 100\nfunds:\n  AAPL: {holdings: spdr.csv}\n")
    code, _, err = invoke("score", path)
    assert code == 2 and f"{path}:3: funds.AAPL 'AAPL' is a stock in model us-equity" in err
    path = portfolio(tmp_path, "cash: 100\nfunds:\n  TGRO: {holdings: gone.csv}\n")
    code, _, err = invoke("score", path)
    assert code == 2 and f"{path}:3: funds.TGRO.holdings 'gone.csv' does not exist" in err


def test_a_portfolio_fund_replaces_a_stand_in(tmp_path: Path) -> None:
    shutil.copy(FUNDS / "plain-fraction.csv", tmp_path / "vti.csv")
    path = portfolio(tmp_path, "holdings:\n  - {ticker: VTI, shares: 10, price: 300.0}\n"
                               "funds:\n  VTI: {holdings: vti.csv}\n")  # fmt: skip
    [found] = score_json(path)["funds"]
    assert found["basket"] == "vti.csv" and "IWV" not in found["note"]


# model add-fund


def test_add_fund_then_model_check_passes(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL, folder)
    before = (folder / "securities.csv").read_text().splitlines()
    code, out, err = invoke("model", "add-fund", "tgro", str(FUNDS / "vanguard.csv"),
                            "--model", str(folder), "--price", "500", "--price-date",
                            "2026-11-27")  # fmt: skip
    assert code == 0, err
    assert "added TGRO" in out and "ZZQX" in out
    code, out, err = invoke("model", "check", str(folder))
    assert code == 0, err
    assert "TGRO: 9 holdings" in out
    after = (folder / "securities.csv").read_text().splitlines()
    assert sorted(set(after) - set(before)) == [line for line in after if line.startswith("TGRO,")]
    assert len(after) == len(before) + 1  # every other row kept as it was
    model = load_model(folder)
    assert model.securities.at["TGRO", "price"] == 500 and model.is_fund("TGRO")
    entry = model.meta["funds"]["TGRO"]
    assert entry["file"] == "vanguard.csv" and len(entry["sha256"]) == 64
    assert entry["as_of"] == "2026-11-26"
    held = portfolio(tmp_path, f"model: {folder}\nholdings:\n  - {{ticker: TGRO, shares: 5}}\n")
    assert score_json(held)["positions"][0]["price"] == 500


def test_add_fund_refuses_a_stock_and_replaces_a_stand_in(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL, folder)
    code, _, err = invoke("model", "add-fund", "AAPL", str(FUNDS / "spdr.csv"), "--model",
                          str(folder))  # fmt: skip
    assert code == 2 and "TICKER 'AAPL' is a stock in model us-equity" in err
    code, _, err = invoke("model", "add-fund", "VTI", str(FUNDS / "spdr.csv"), "--model",
                          str(folder))  # fmt: skip
    assert code == 0, err
    model = load_model(folder)
    assert "VTI" not in model.meta["stand_ins"] and (folder / "funds" / "VTI.csv").is_file()
    assert model.same_index("VTI") == {"VTI"}
    assert invoke("model", "check", str(folder))[0] == 0


def test_every_report_says_which_basket_stands_in(tmp_path: Path) -> None:
    path = portfolio(tmp_path, "cash: 20000\nholdings:\n  - {ticker: VTI, shares: 100, "
                               "price: 310.0}\n  - {ticker: SPY, shares: 20}\n"
                               "target: {small_cap_share: 0.12, band: 0.02}\n"
                               "limits: {buy_from: [holdings, IWM]}\n")  # fmt: skip
    line = "VTI: Russell 3000 basket (IWV, iShares 2025-05-21) stands in for CRSP US Total "
    saved = tmp_path / "proposal.json"
    code, out, err = invoke("rebalance", path, "--output", str(saved))
    assert code == 0, err
    assert line in out and "SPY: S&P 500 basket (IVV, iShares 2024-12-06)" in out
    document = json.loads(saved.read_text())
    assert document["funds"][0] == line + "Market, approximate"
    for suffix in (".md", ".html"):
        written = tmp_path / f"review{suffix}"
        assert invoke("review", str(saved), "--output", str(written))[0] == 0
        assert line in written.read_text()
    assert line in invoke("review", str(saved))[1]


def test_a_typo_in_a_fund_entry_is_named_with_the_key_meant(tmp_path: Path) -> None:
    path = portfolio(tmp_path, "cash: 100\nfunds:\n  TGRO: {holding: tgro.csv}\n")
    code, _, err = invoke("validate", path)
    assert code == 2
    assert f"{path}:3: funds.TGRO.holding is an unknown key; did you mean 'holdings'?" in err


@pytest.mark.parametrize(
    ("old", "today", "same"),
    [("HB FULLER", "H. B. Fuller Company Common Stock", True),
     ("PACFIC PREMIER BANCORP INC", "PACIFIC PREMIER BANCORP INC", True),
     ("COCA COLA CONSOLIDATED INC", "Coca-Cola Consolidated Inc. Common Stock", True),
     ("BARNES GROUP INC", "Barrick Mining Corporation Common Shares", False),
     ("VONAGE HOLDINGS CORP", "Venture Global Inc. Class A common stock", False),
     ("CALAMP CORP", "CAMP4 Therapeutics Corporation Common Stock", False)],
)  # fmt: skip
def test_a_stale_ticker_counts_only_under_its_name(old: str, today: str, same: bool) -> None:
    from advisor.market.identity import same_company

    assert same_company(old, today) is same


def test_ijr_is_looked_through_without_reused_tickers(shipped_model: MarketModel) -> None:
    weights = shipped_model.fund_weights["IJR"]
    assert "B" not in weights.index and "VG" not in weights.index  # Barrick, Venture Global
    assert "FUL" in weights.index and "ENSG" in weights.index


def test_a_plain_line_without_a_weight_is_named(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("ticker,weight\nAAPL,60\nMSFT\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"short\.csv:3: weight is missing for 'MSFT'"):
        read_holdings(path)
