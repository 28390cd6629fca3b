"""The one sentence that says what a proposal does, first in every output.

Built from the proposal document alone, so a saved proposal written before documents carried
it gets the sentence a fresh one would. Pure functions: no printing, no writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from advisor.enums import Side
from advisor.proposal import Measures, ProposalDocument, Target, Trade
from advisor.report.saved import pct, signed

SHOWN: Final = 3  # tickers named before "and N more"
CASH_STILL: Final = 0.0005  # a cash share moving less than 0.05 points is "unchanged"


def summary_of(document: ProposalDocument) -> str:
    """The document's sentence: its own, or the one it would have had."""
    return document.summary or summarize(document)


def with_summary(document: ProposalDocument) -> ProposalDocument:
    """The document, its summary filled in where it has none."""
    if document.summary:
        return document
    return document.model_copy(update={"summary": summarize(document)})


def summarize(document: ProposalDocument) -> str:
    """E.g. 'Sell $119k of 8 holdings (NVDA, AAPL, MSFT and 5 more) to buy $112k of IWM and
    IWV: small_cap_share 0.0% -> 23.5% (target 25% ± 2%); cash 4.4% -> 4.5%; estimated tax
    $1.2k (tax-blind $5.7k).' (the tax where the account is taxable). In the order the
    exit code is decided (advisor/outcome.py): a diagnosis, then a failed check, then the rest."""
    target, trades, diagnosis = document.target, document.trades, document.diagnosis
    failed = document.failed_checks()
    if failed and not diagnosis:
        names = _listed(list(dict.fromkeys(str(c.name) for c in failed)))
        return f"Blocked: {names} failed; do not place these trades."
    cash = _cash(document)
    if target is None:
        if not trades:
            done = "a limit cannot be met (see the diagnosis)" if diagnosis else "every limit holds"
            return f"No target set: no trades; {done}."
        aim = "come as close to every limit as they allow" if diagnosis else "keep every limit"
        return f"No target set: {_action(trades, 'and')} to {aim}; {cash}{_tax(document)}."
    if diagnosis:
        done = _action(trades, "to") if trades else "no trades"
        reach = _reach(document, target, " out of reach: see the diagnosis")
        return f"Best within the limits: {done}: {reach}; {cash}{_tax(document)}."
    if not trades:
        now = _figure(document.after, target.measure)
        return (
            f"No trades: {target.measure} {now} is within the target {_aim(target)} "
            "and every limit holds."
        )
    action = _action(trades, "to")
    return f"{action[0].upper()}{action[1:]}: {_reach(document, target)}; {cash}{_tax(document)}."


def money(value: float) -> str:
    """$850, $1.2k, $119k, $1.2M: enough to read at a glance, not to reconcile."""
    value = abs(value)
    if round(value) < 1_000:
        return f"${value:,.0f}"
    scaled, unit = (value / 1e3, "k") if round(value, -3) < 1e6 else (value / 1e6, "M")
    shown = f"{scaled:.1f}" if scaled < 9.95 else f"{scaled:,.0f}"
    return f"${shown.removesuffix('.0')}{unit}"


def _action(trades: Sequence[Trade], then: str) -> str:
    """'sell $X of ... {then} buy $Y of ...', or one side alone."""
    sells = [t for t in trades if t.side == Side.SELL]
    buys = [t for t in trades if t.side == Side.BUY]
    if not sells:
        return f"invest {_amount(buys, 'of cash in', 'securities')}"
    sold = f"sell {_amount(sells, 'of', 'holdings')}"
    return f"{sold} {then} buy {_amount(buys, 'of', 'securities')}" if buys else sold


def _amount(trades: Sequence[Trade], of: str, noun: str) -> str:
    """'$112k of IWM and IWV', or '$119k of 8 holdings (NVDA, AAPL, MSFT and 5 more)'."""
    return f"{money(sum(t.value for t in trades))} {of} {_names(trades, noun)}"


def _names(trades: Sequence[Trade], noun: str) -> str:
    """The tickers, largest trade first: all of them, or a count and the first few."""
    tickers = [t.ticker for t in sorted(trades, key=lambda t: -t.value)]
    if len(tickers) <= SHOWN:
        return _listed(tickers)
    rest = f"{len(tickers) - SHOWN} more"
    return f"{len(tickers)} {noun} ({_listed([*tickers[:SHOWN], rest])})"


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _reach(document: ProposalDocument, target: Target, note: str = "") -> str:
    """'small_cap_share 0.0% -> 23.5% (target 25% ± 2%)'."""
    before = _figure(document.before, target.measure)
    after = _figure(document.after, target.measure)
    return f"{target.measure} {before} -> {after} (target {_aim(target)}{note})"


def _figure(measures: Measures, measure: str) -> str:
    """A measure as the tables show it; '-' without equity to measure it on."""
    if measures.equity_value <= 0:
        return "-"
    show = pct if measure == "small_cap_share" else signed
    return show(measures.figure(measure))


def _aim(target: Target) -> str:
    if target.measure == "small_cap_share":
        return f"{100 * target.value:g}% ± {100 * target.band:g}%"
    return f"{target.value:+g} ± {target.band:g}"


def _tax(document: ProposalDocument) -> str:
    """'; estimated tax $1.2k (tax-blind $5.7k)' in a taxable account where either proposal
    sells at a gain; '' without tax figures (a deferred or exempt account, an older file)."""
    tax = document.tax
    if tax is None or not tax.known:
        return ""
    blind = None if tax.tax_blind is None else tax.tax_blind.estimated_tax
    if not any(t.side == Side.SELL for t in document.trades) and not blind:
        return ""
    compared = "" if blind is None else f" (tax-blind {money(blind)})"
    return f"; estimated tax {money(tax.estimated_tax)}{compared}"


def _cash(document: ProposalDocument) -> str:
    before, after = document.before.cash_share, document.after.cash_share
    if abs(after - before) < CASH_STILL:
        return f"cash unchanged at {pct(before)}"
    return f"cash {pct(before)} -> {pct(after)}"
