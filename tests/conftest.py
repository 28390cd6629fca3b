"""Shared fixtures: the shipped model, and the public exports beside the project when present."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.market import MarketModel, load_model

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_MODEL = ROOT / "models" / "us-equity"
SHARED_DATA = ROOT.parent / "shared" / "data"
DATA = Path(__file__).resolve().parent / "data"

needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"the public exports are not beside the project ({SHARED_DATA} is absent); CI has them",
)


@pytest.fixture(scope="session", autouse=True)
def wide_plain_terminal() -> Iterator[None]:
    """Rich lays tables out to COLUMNS (80 where unset) and colours by the environment: a narrow
    terminal or a long checkout path would wrap the texts the tests look for. Every test, and
    every process it starts, sees one wide, plain terminal."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "400")
        patch.setenv("LINES", "100")
        for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
            patch.delenv(name, raising=False)
        patch.setenv("NO_COLOR", "1")
        yield


@pytest.fixture(scope="session")
def shipped_model() -> MarketModel:
    return load_model(SHIPPED_MODEL)


@pytest.fixture(scope="session")
def mini_model() -> MarketModel:
    """A hand-written five-stock, one-fund model whose figures are checked by hand."""
    return load_model(DATA / "mini-model")
