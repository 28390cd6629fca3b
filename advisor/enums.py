"""Closed sets of names, as StrEnums: each member equals the string written in files and JSON."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """What became of a plan: the `status` of a proposal."""

    NOTHING_TO_DO = "nothing to do"
    OPTIMAL = "optimal"
    OPTIMAL_INACCURATE = "optimal_inaccurate"
    UNREACHABLE = "unreachable"


class AccountStatus(StrEnum):
    """What became of an account in a batch: its plan's status, or why it has no proposal."""

    NOTHING_TO_DO = "nothing to do"
    OPTIMAL = "optimal"
    OPTIMAL_INACCURATE = "optimal_inaccurate"
    UNREACHABLE = "unreachable"
    BLOCKED = "blocked"  # a check failed, so no proposal was written
    ERROR = "error"  # the account's input could not be used


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Sense(StrEnum):
    """Which way a limit bounds its measure."""

    MAX = "max"
    MIN = "min"


class CheckName(StrEnum):
    """Every rule advisor/checks.py checks, on the final trades and before they go out."""

    TARGET = "target"
    NO_SHORT = "no_short"
    WHOLE_SHARES = "whole_shares"
    MIN_TRADE_VALUE = "min_trade_value"  # the larger of min_trade_value and min_trade_share
    MIN_POSITION = "min_position"
    CASH_MIN = "cash_min"
    CASH_MAX = "cash_max"
    NO_SELL = "no_sell"
    NO_BUY = "no_buy/buy_from"
    REFINANCING_MAX = "refinancing_max"
    FLOATING_DEBT_MAX = "floating_debt_max"
    WEAK_COVERAGE_MAX = "weak_coverage_max"
    UNPROFITABLE_MAX = "unprofitable_max"
    ECONOMIC_SENSITIVITY_MAX = "economic_sensitivity_max"
    MAX_TURNOVER = "max_turnover"
    MAX_POSITION = "max_position"
    MAX_FUND_POSITION = "max_fund_position"
    MAX_NAMES = "max_names"
    EQUITY_KEPT = "equity_kept"
    SECTOR_DRIFT_MAX = "sector_drift_max"
    # a taxable account's
    LOTS = "lots"
    WASH_SALE = "wash_sale"
    GAINS_BUDGET = "gains_budget"
    # pre-trade checks
    PRICES = "prices"
    ORDER_SHARE = "order_share"
    ADV_SHARE = "adv_share"
