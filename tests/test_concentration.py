"""Look-through concentration: the optimizer's sparse look-through, the reports' pandas sum and
a hand calculation from the model's own CSV files agree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor.concentration import largest, look_through
from advisor.market import MarketModel
from tests.conftest import SHIPPED_MODEL

VALUES = pd.Series({"IVV": 60_000.0, "IWM": 20_000.0, "AAPL": 9_000.0, "GOOG": 3_000.0,
                    "GOOGL": 2_000.0, "BRK.B": 4_000.0})  # fmt: skip
TOTAL = float(VALUES.sum()) + 2_000.0  # and cash


def test_the_sparse_look_through_and_the_pandas_sum_agree(shipped_model: MarketModel) -> None:
    through = look_through(shipped_model, pd.Index(VALUES.index))
    weights = pd.Series(through.values(VALUES.to_numpy()) / TOTAL, index=through.companies)
    sparse_sum = weights[weights > 0].sort_values(ascending=False, kind="stable")
    top = largest(shipped_model, VALUES, TOTAL)
    assert list(top) == list(sparse_sum.index[: len(top)])
    np.testing.assert_allclose(list(top.values()), sparse_sum.iloc[: len(top)].to_numpy(),
                               rtol=1e-12)  # fmt: skip
    ivv = pd.read_csv(SHIPPED_MODEL / "funds" / "IVV.csv", keep_default_na=False)
    iwm = pd.read_csv(SHIPPED_MODEL / "funds" / "IWM.csv", keep_default_na=False)

    def weight(fund: pd.DataFrame, tickers: tuple[str, ...]) -> float:
        return float(fund.loc[fund["ticker"].isin(tickers), "weight"].sum())

    apple = 9_000.0 + 60_000.0 * weight(ivv, ("AAPL",)) + 20_000.0 * weight(iwm, ("AAPL",))
    assert sparse_sum["AAPL"] == pytest.approx(apple / TOTAL, rel=1e-9)
    # Alphabet's two share classes are one company, held directly and through IVV.
    classes = ("GOOG", "GOOGL")
    alphabet = 5_000.0 + 60_000.0 * weight(ivv, classes) + 20_000.0 * weight(iwm, classes)
    company = shipped_model.securities.at["GOOGL", "company"]
    assert shipped_model.securities.at["GOOG", "company"] == company
    assert sparse_sum[company] == pytest.approx(alphabet / TOTAL, rel=1e-9)
    # Every dollar lands on some company: the funds' equity weights sum to one.
    assert float(sparse_sum.sum()) == pytest.approx(float(VALUES.sum()) / TOTAL, rel=1e-9)
