"""A saved proposal (the JSON of `rebalance --output x.json`) read back for people.

The HTML report, the Markdown summary and `advisor review` all render from this dict, so a
saved proposal and a fresh one look the same. Pure functions: no printing, no writing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.errors import InputError, Location

REQUIRED = ("status", "trades", "before", "after", "inputs")
RISKS = (  # key in before/after, label, unit kind (see terminal.fmt), limit name or None
    ("refinancing", "Refinancing (debt due < 24m per $ owned)", "$", "refinancing_max"),
    ("floating_debt", "Floating-rate debt per $ owned", "$", "floating_debt_max"),
    ("weak_coverage", "Weak interest coverage (< 1.5x), share", "%", "weak_coverage_max"),
    ("unprofitable", "Unprofitable companies, share", "%", "unprofitable_max"),
    ("economic_sensitivity", "Economic sensitivity (market = 1)", "x", "economic_sensitivity_max"),
    ("domestic_revenue_share", "Domestic revenue share", "%", None),
)
SHORT_RISKS = {  # key: short label, unit
    "refinancing": ("Refinancing", "$ due < 24m per $"),
    "floating_debt": ("Floating-rate debt", "$ per $ owned"),
    "weak_coverage": ("Weak coverage", "share < 1.5x"),
    "unprofitable": ("Unprofitable", "share of value"),
    "economic_sensitivity": ("Economic sensitivity", "market = 1"),
    "domestic_revenue_share": ("Domestic revenue", "share of revenue"),
}
ESTIMATE_LABELS = {
    "size": "Market cap (size bands, size score)",
    "refinancing": "Refinancing",
    "floating_debt": "Floating-rate debt",
    "weak_coverage": "Weak interest coverage",
    "unprofitable": "Unprofitable",
    "economic_sensitivity": "Economic sensitivity",
    "domestic_revenue_share": "Domestic revenue share",
}


FIX = "give a proposal written by `advisor rebalance PORTFOLIO --output x.json`"
TRADE_KEYS = ("ticker", "side", "shares", "price")
REPORT_TRADE_KEYS = ("value", "estimated_cost", "reason")
MEASURE_KEYS = (
    "value",
    "cash",
    "bands",
    "small_cap_share",
    "size_score",
    "sectors",
    *(risk[0] for risk in RISKS),
)


def load_proposal(path: Path, *, report: bool = True) -> dict[str, Any]:
    """Read a proposal JSON written by `advisor rebalance --output x.json`. With `report`, also
    check that it holds every figure the reports show (apply needs only its trades)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(Location(path, field="file"), "does not exist", fix=FIX) from None
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"cannot be read ({getattr(exc, 'strerror', None) or exc})"
        raise InputError(Location(path, field="file"), problem, fix=FIX) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = Location(path, exc.lineno, "JSON")
        raise InputError(where, f"is not valid JSON ({exc.msg})", fix=FIX) from exc
    _require(path, "", data, REQUIRED)
    if not isinstance(data["trades"], list):
        raise InputError(Location(path, field="trades"), "is not a list", fix=FIX)
    _require(path, "inputs", data["inputs"], ())
    for i, trade in enumerate(data["trades"]):
        field = f"trades[{i}]"
        _require(path, field, trade, TRADE_KEYS + (REPORT_TRADE_KEYS if report else ()))
        if trade["side"] not in ("BUY", "SELL"):
            raise InputError(
                Location(path, field=f"{field}.side"),
                "is not BUY or SELL",
                value=trade["side"],
                fix=FIX,
            )
        for key in ("shares", "price"):
            if not isinstance(trade[key], int | float) or isinstance(trade[key], bool):
                raise InputError(
                    Location(path, field=f"{field}.{key}"),
                    "is not a number",
                    value=trade[key],
                    fix=FIX,
                )
    if report:
        for when in ("before", "after"):
            _require(path, when, data[when], MEASURE_KEYS)
    return data


def _require(path: Path, field: str, value: Any, keys: tuple[str, ...]) -> None:
    if not isinstance(value, dict):
        raise InputError(
            Location(path, field=field or "top level"), "is not a JSON object", fix=FIX
        )
    for key in keys:
        if key not in value:
            name = f"{field}.{key}" if field else key
            raise InputError(Location(path, field=name), "is missing", fix=FIX)


@dataclass(frozen=True)
class Verdict:
    """The answer in one line, its tone (ok, warn, bad) and the lines that explain it."""

    tone: str
    headline: str
    lines: tuple[str, ...]


def verdict(data: dict[str, Any]) -> Verdict:
    failed = failed_checks(data)
    diagnosis = tuple(data.get("diagnosis") or ())
    if data["status"] == "nothing to do":
        return Verdict(
            "ok",
            "Nothing to do: the portfolio is inside the target band and within every limit.",
            (),
        )
    if diagnosis:
        reached = target_text(data, "after")
        return Verdict(
            "warn",
            "Target not reached: the limits stop it. The trades get as "
            f"close as the limits allow: {reached}.",
            diagnosis,
        )
    if failed:
        lines = tuple(f"{c['name']}: {c.get('detail') or c.get('value')}" for c in failed)
        return Verdict("bad", "Blocked: a check failed; do not place these trades.", lines)
    if data.get("target") is None:
        return Verdict("ok", "Every limit is met after the trades (no size target set).", ())
    return Verdict("ok", f"Target reached: {target_text(data, 'after')}.", ())


def target_text(data: dict[str, Any], when: str) -> str:
    """E.g. 'small_cap_share 28.1% (target 28.0%-32.0%)'."""
    target = data.get("target")
    if target is None:
        return "no target"
    measure, value, band = target["measure"], target["value"], target["band"]
    now = data[when].get(measure)
    if measure == "small_cap_share":
        return f"{measure} {pct(now)} (target {pct(value - band)}-{pct(value + band)})"
    return f"{measure} {signed(now)} (target {signed(value - band)} to {signed(value + band)})"


def failed_checks(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        c
        for c in (*data.get("checks", []), *data.get("pretrade_checks", []))
        if not c.get("ok", True)
    ]


def limit(data: dict[str, Any], name: str | None) -> tuple[float | None, str]:
    """A limit's value and where it came from (user, default, today)."""
    entry = (data.get("limits") or {}).get(name or "")
    if not isinstance(entry, dict):
        return None, ""
    return entry.get("value"), str(entry.get("source", ""))


def trade_share(data: dict[str, Any], trade: dict[str, Any]) -> float:
    """A trade's value as a share of the portfolio's value before trading."""
    value = float(data["before"].get("value") or 0.0)
    return float(trade["value"]) / value if value else 0.0


def cash_share(exposures: dict[str, Any]) -> float:
    value = float(exposures.get("value") or 0.0)
    return float(exposures.get("cash") or 0.0) / value if value else 0.0


def pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}%"


def signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"


def usd(value: float | None, cents: bool = False) -> str:
    if value is None:
        return "-"
    return f"${value:,.2f}" if cents else f"${value:,.0f}"


def figure(value: float | None, kind: str) -> str:
    """A risk figure in its unit: % share, $ per $ owned, or x (a ratio to the market)."""
    if value is None:
        return "-"
    if kind == "%":
        return pct(value)
    return f"{value:.3f}" if kind == "$" else f"{value:.2f}"


def shares_text(shares: float) -> str:
    return f"{shares:,.0f}" if float(shares).is_integer() else f"{shares:,.6g}"


def target_range(data: dict[str, Any], measure: str, show: Callable[[float], str]) -> str:
    """'lo to hi' for the measure the target is set on, else ''."""
    target = data.get("target") or {}
    if target.get("measure") != measure:
        return ""
    return f"{show(target['value'] - target['band'])} to {show(target['value'] + target['band'])}"
