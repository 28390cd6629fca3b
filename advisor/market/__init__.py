"""The market model: loading it (model.py), building it from public exports (build.py and the
readers it uses), checking it (check.py)."""

from advisor.market.model import (
    SOURCES,
    MarketModel,
    SizeScheme,
    cached_model,
    load_model,
    resolve_model_folder,
)
from advisor.measures import BANDS, SMALL_BANDS

__all__ = [
    "BANDS",
    "SMALL_BANDS",
    "SOURCES",
    "MarketModel",
    "SizeScheme",
    "cached_model",
    "load_model",
    "resolve_model_folder",
]
