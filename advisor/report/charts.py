"""Inline SVG charts for the HTML report, written by hand: no plotting library, no network.

Every chart is one `<svg>` element with a viewBox, so it scales with the page. Text is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 560
LABEL_W = 190  # label column
BAR_W = 290  # the bars' full scale
BAR_H = 11
ROW_H = 40
TOP = 30  # room for the legend
BEFORE, AFTER, LIMIT, ALLOWED = "#9aa5b1", "#2563eb", "#dc2626", "#dcfce7"


@dataclass(frozen=True)
class Row:
    """One measure before and after, drawn as two bars on the row's own scale."""

    label: str
    before: float
    after: float
    shown_before: str
    shown_after: str
    scale: float  # the value at the bars' right edge
    note: str = ""  # a second, smaller line under the label
    limit: float | None = None  # drawn as a red line
    allowed: tuple[float, float] | None = None  # a shaded range (target band, allowed drift)


def paired_bars(
    title: str, rows: Sequence[Row], extra_legend: Sequence[tuple[str, str]] = ()
) -> str:
    height = TOP + ROW_H * len(rows) + 6
    body = [_legend([("before", BEFORE), ("after", AFTER), *extra_legend])]
    for i, row in enumerate(rows):
        body.append(_row(row, TOP + i * ROW_H))
    return _svg(title, height, body)


def _row(row: Row, y: float) -> str:
    x = _scaler(row.scale)
    out = [_text(LABEL_W - 10, y + 13, row.label, anchor="end", cls="label")]
    if row.note:
        out.append(_text(LABEL_W - 10, y + 27, row.note, anchor="end", cls="note"))
    if row.allowed is not None:
        lo, hi = x(row.allowed[0]), x(row.allowed[1])
        out.append(_rect(lo, y + 1, max(hi - lo, 1.0), 2 * BAR_H + 6, ALLOWED))
    out.append(
        f'<line x1="{LABEL_W}" y1="{y}" x2="{LABEL_W}" y2="{y + 2 * BAR_H + 8}" class="axis"/>'
    )
    for k, (value, shown, colour) in enumerate(
        ((row.before, row.shown_before, BEFORE), (row.after, row.shown_after, AFTER))
    ):
        top = y + 3 + k * (BAR_H + 2)
        end = x(value)
        out.append(_rect(LABEL_W, top, max(end - LABEL_W, 0.0), BAR_H, colour, cls="bar"))
        out.append(_text(end + 4, top + BAR_H - 1.5, shown, cls="value"))
    if row.limit is not None:
        lx = x(row.limit)
        out.append(
            f'<line x1="{lx:.1f}" y1="{y - 1}" x2="{lx:.1f}" y2="{y + 2 * BAR_H + 9}" '
            f'stroke="{LIMIT}" stroke-width="2" class="limit"/>'
        )
    return "".join(out)


@dataclass(frozen=True)
class Gauge:
    """A value before and after on a fixed scale, with the target band shaded."""

    label: str
    before: float
    after: float
    low: float
    high: float
    show: Callable[[float], str]  # a marker's value
    tick: Callable[[float], str]  # an axis tick
    band: tuple[float, float] | None = None


def gauges(title: str, items: Sequence[Gauge]) -> str:
    height = TOP + 70 * len(items)
    body = [_legend([("before", BEFORE), ("after", AFTER), ("target band", ALLOWED)])]
    for i, item in enumerate(items):
        body.append(_gauge(item, TOP + 70 * i))
    return _svg(title, height, body)


def _gauge(item: Gauge, y: float) -> str:
    span = item.high - item.low or 1.0

    def x(value: float) -> float:
        share = (min(max(value, item.low), item.high) - item.low) / span
        return LABEL_W + BAR_W * share

    axis = y + 30
    out = [_text(LABEL_W - 10, axis + 4, item.label, anchor="end", cls="label")]
    if item.band is not None:
        lo, hi = x(item.band[0]), x(item.band[1])
        out.append(_rect(lo, axis - 9, max(hi - lo, 2.0), 18, ALLOWED, cls="band"))
    out.append(
        f'<line x1="{LABEL_W}" y1="{axis}" x2="{LABEL_W + BAR_W}" y2="{axis}" class="axis"/>'
    )
    for tick in (item.low, (item.low + item.high) / 2, item.high):
        out.append(
            f'<line x1="{x(tick):.1f}" y1="{axis}" x2="{x(tick):.1f}" y2="{axis + 5}" '
            'class="axis"/>'
        )
        out.append(_text(x(tick), axis + 17, item.tick(tick), anchor="middle", cls="note"))
    before, after = x(item.before), x(item.after)
    out.append(f'<circle cx="{before:.1f}" cy="{axis}" r="6" fill="{BEFORE}" class="marker"/>')
    out.append(f'<circle cx="{after:.1f}" cy="{axis}" r="6" fill="{AFTER}" class="marker"/>')
    # Labels above the axis, pushed apart when the two markers are close.
    apart = 100 if abs(after - before) < 100 else 0
    left_is_before = before <= after
    bx = before - (apart / 2 if left_is_before else -apart / 2)
    ax = after + (apart / 2 if left_is_before else -apart / 2)
    out.append(
        _text(bx, axis - 13, f"before {item.show(item.before)}", anchor="middle", cls="value")
    )
    out.append(
        _text(ax, axis - 13, f"after {item.show(item.after)}", anchor="middle", cls="value strong")
    )
    return "".join(out)


def _scaler(scale: float) -> Callable[[float], float]:
    scale = scale if scale > 0 else 1.0

    def x(value: float) -> float:
        return LABEL_W + BAR_W * min(max(value, 0.0), scale) / scale

    return x


def nice_scale(*values: float | None, floor: float = 0.0) -> float:
    """A round number a little above every value: the right edge of a bar chart."""
    top = max([floor, *(v for v in values if v is not None)]) * 1.1
    if top <= 0:
        return 1.0
    step = float(10 ** _floor_log10(top))
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * step >= top:
            return multiple * step
    return 10 * step


def _floor_log10(value: float) -> int:
    exponent = 0
    while value >= 10:
        value, exponent = value / 10, exponent + 1
    while value < 1:
        value, exponent = value * 10, exponent - 1
    return exponent


def _legend(items: Sequence[tuple[str, str]]) -> str:
    out, x = [], float(LABEL_W)
    for name, colour in items:
        out.append(_rect(x, 6, 12, 12, colour, cls="swatch"))
        out.append(_text(x + 16, 16, name, cls="note"))
        x += 26 + 7 * len(name)
    return "".join(out)


def _svg(title: str, height: float, body: Sequence[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
        f'height="{height:.0f}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"{attr}/>'


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">{escape(text)}</text>'
    )
