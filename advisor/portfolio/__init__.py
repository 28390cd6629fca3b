"""The portfolio file: its pydantic models (model.py), loading with located errors (loading.py),
in-place editing that keeps the layout (editing.py), tickers (tickers.py), fast YAML composing
(yaml_nodes.py)."""

from advisor.portfolio.model import Holding, Limits, Lot, Portfolio, Target

__all__ = ["Holding", "Limits", "Lot", "Portfolio", "Target"]
