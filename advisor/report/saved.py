"""A proposal document told for people: its verdict and figures, shared by every report.

The HTML report, the Markdown summary and `advisor review` all render the ProposalDocument, so
a saved proposal and a fresh one look the same. Pure functions: no printing, no writing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from advisor import measures
from advisor.enums import Status
from advisor.proposal import ProposalDocument, Target, Trade

# The risk measures, in table order (see advisor/measures.py).
RISKS = measures.RISK_MEASURES


@dataclass(frozen=True)
class Verdict:
    """The answer in one line, its tone (ok, warn, bad) and the lines that explain it."""

    tone: str
    headline: str
    lines: tuple[str, ...]


NO_TARGET = (
    "No target set: the file has no `target:` (small_cap_share or size_score), so only broken "
    "limits are repaired"
)


def verdict(document: ProposalDocument) -> Verdict:
    failed = document.failed_checks()
    diagnosis = tuple(document.diagnosis or ())
    if document.status == Status.NOTHING_TO_DO:
        if document.target is None:
            return Verdict("ok", f"{NO_TARGET}; every limit holds, nothing to do.", ())
        return Verdict(
            "ok",
            "Nothing to do: the portfolio is inside the target band and within every limit.",
            (),
        )
    if diagnosis and document.target is None:
        return Verdict(
            "warn",
            f"{NO_TARGET}, and the limits cannot all be met: the trades get as close as they "
            "allow.",
            diagnosis,
        )
    if diagnosis:
        reached = target_text(document, "after")
        return Verdict(
            "warn",
            "Target not reached: the limits stop it. The trades get as "
            f"close as the limits allow: {reached}.",
            diagnosis,
        )
    if failed:
        lines = tuple(f"{c.name}: {c.detail or c.value}" for c in failed)
        return Verdict("bad", "Blocked: a check failed; do not place these trades.", lines)
    if document.target is None:
        return Verdict("ok", "No target set: the trades only repair broken limits.", ())
    return Verdict("ok", f"Target reached: {target_text(document, 'after')}.", ())


def target_spec(target: Target | None) -> str:
    """The target as the file sets it, or that it sets none."""
    if target is None:
        return "none: only broken limits are repaired"
    return f"{target.measure} {target.value:g} ± {target.band:g}"


def target_text(document: ProposalDocument, when: str) -> str:
    """E.g. 'small_cap_share 28.1% (target 28.0%-32.0%)'."""
    target = document.target
    if target is None:
        return "no target"
    measure, value, band = target.measure, target.value, target.band
    now = getattr(document, when).figure(measure)
    if measure == "small_cap_share":
        return f"{measure} {pct(now)} (target {pct(value - band)}-{pct(value + band)})"
    return f"{measure} {signed(now)} (target {signed(value - band)} to {signed(value + band)})"


def checked(document: ProposalDocument) -> int:
    """How many checks were re-run on the final trades, pre-trade checks included."""
    return len(document.checks) + len(document.pretrade_checks)


def trade_share(document: ProposalDocument, trade: Trade) -> float:
    """A trade's value as a share of the portfolio's value before trading."""
    value = document.before.value
    return trade.value / value if value else 0.0


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


def target_range(document: ProposalDocument, measure: str, show: Callable[[float], str]) -> str:
    """'lo to hi' for the measure the target is set on, else ''."""
    target = document.target
    if target is None or target.measure != measure:
        return ""
    return f"{show(target.value - target.band)} to {show(target.value + target.band)}"


def largest_companies(document: ProposalDocument) -> list[tuple[str, float, float]]:
    """The largest companies held, looked through (shares of value): before, after, largest
    after first; 0 where a company is not among the largest then."""
    before, after = document.before.largest_companies, document.after.largest_companies
    names = [*after, *(n for n in before if n not in after)]
    return [(n, before.get(n, 0.0), after.get(n, 0.0)) for n in names]


def price_note(document: ProposalDocument) -> str:
    """Where the prices of the holdings and trades came from, e.g. 'run date 2026-11-28;
    3 prices from --prices q.csv (2026-11-27), 2 from model: reported (2026-02-10)'."""
    used: dict[str, tuple[str, str]] = {}
    for item in document.positions:
        used.setdefault(item.ticker, (item.price_source, item.price_date))
    for trade in document.trades:
        used.setdefault(trade.ticker, (trade.price_source, trade.price_date))
    counts: dict[tuple[str, str], int] = {}
    for key in used.values():
        if key[0]:  # a file written before prices carried their source says nothing
            counts[key] = counts.get(key, 0) + 1
    parts = [
        f"{n} from {source} ({day or 'undated'})"
        for (source, day), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    run = document.inputs.run_date
    head = f"run date {run}" if run else ""
    text = "; ".join(p for p in (head, ", ".join(parts)) if p)
    return text or "-"
