"""Whole-share trades from the optimizer's answer: the planning loop (plan.py), rounding
(rounding.py), repair after rounding (repair.py) and each trade's reason (reasons.py)."""

from advisor.trades.plan import Planner, TradePlan, plan_trades
from advisor.trades.reasons import reasons
from advisor.trades.rounding import round_trades, trim_buys_for_cash

__all__ = ["Planner", "TradePlan", "plan_trades", "reasons", "round_trades", "trim_buys_for_cash"]
