"""The HTML review report: one self-contained page rendered from the proposal document.

No network: no external script, style, font or image, and a Content-Security-Policy that forbids
loading any. Charts are inline SVG (charts.py); tables sort on click with a few lines of inline
JavaScript, the one script the policy allows (by its sha256, not 'unsafe-inline'). Every piece of
text from the inputs is escaped. Same document, same bytes.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from html import escape

from advisor.enums import Side
from advisor.measures import BANDS, ESTIMATE_LABELS
from advisor.proposal import CheckResult, ProposalDocument
from advisor.report import charts, saved, taxes
from advisor.report.saved import figure, pct, signed, usd
from advisor.report.summary import summary_of


def script_hash(script: str) -> str:
    """The CSP source that allows exactly this inline script: its sha256, base64."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def proposal_html(data: ProposalDocument) -> str:
    inputs = data.inputs
    title = f"Rebalancing proposal: {inputs.account or inputs.portfolio}"
    body = [
        _header(data),
        _verdict(data),
        _summary(data),
        _section(
            "Charts",
            '<div class="charts">'
            + "".join(
                f"<figure><figcaption>{escape(title)}</figcaption>{chart}</figure>"
                for title, chart in _charts(data)
            )
            + "</div>",
        ),
        _section("Trades", _trades(data)),
        _section("Taxes" if data.tax else "Lots sold", _taxes(data)),
        _section("Before and after", _measures(data)),
        _section("Which figures rest on estimates", _estimates(data)),
        _section("Checks", _checks(data)),
        _footer(data),
    ]
    body = [part for part in body if part]  # no Taxes section without taxes or lots
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + f"\n</main>\n<script>{SORT_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _header(data: ProposalDocument) -> str:
    inputs, target, solver = data.inputs, data.target, data.solver
    facts = [
        ("Account", inputs.account or "-"),
        ("Portfolio file", inputs.portfolio),
        (
            "Model",
            f"{inputs.model.name} as of {inputs.model.as_of} (size scheme: {inputs.size_scheme})",
        ),
        ("Prices", saved.price_note(data)),
        ("Target", saved.target_spec(target)),
        ("Status", str(data.status)),
    ]
    if solver:
        facts.append(
            (
                "Solver",
                f"{solver.name} ({solver.status}), {solver.repairs} repair(s) after rounding",
            )
        )
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts)
    heading = escape(str(inputs.account or inputs.portfolio))
    notes = (*data.warnings, *data.kept)
    kept = "".join(f'<p class="kept">{escape(line)}</p>' for line in notes)
    kept += "".join(f'<p class="basket">{escape(line)}</p>' for line in data.funds)
    return (
        f'<header><p class="kicker">Rebalancing proposal</p><h1>{heading}</h1>'
        f'<p class="summary" id="summary">{escape(summary_of(data))}</p>{kept}'
        f'<dl class="facts">{items}</dl></header>'
    )


def _verdict(data: ProposalDocument) -> str:
    found = saved.verdict(data)
    lines = "".join(f"<li>{escape(line)}</li>" for line in found.lines)
    return (
        f'<section class="verdict {found.tone}" id="verdict"><h2>Verdict</h2>'
        f"<p>{escape(found.headline)}</p>" + (f"<ul>{lines}</ul>" if lines else "") + "</section>"
    )


def _summary(data: ProposalDocument) -> str:
    before, after, trades, costs = data.before, data.after, data.trades, data.costs
    turnover_limit, _ = data.limit("max_turnover")
    buys = sum(1 for t in trades if t.side == Side.BUY)
    cards = [
        ("Portfolio value", usd(before.value), f"after {usd(after.value)}"),
        ("Trades", str(len(trades)), f"{buys} buy, {len(trades) - buys} sell"),
        (
            "Turnover",
            pct(costs.turnover),
            f"limit {pct(turnover_limit)}" if turnover_limit is not None else "",
        ),
        (
            "Estimated cost",
            usd(costs.estimated_total, cents=True),
            "spread + impact + commission",
        ),
        ("Cash", pct(before.cash_share), f"after {pct(after.cash_share)}"),
    ]
    if data.tax is not None and data.tax.known:
        blind = data.tax.tax_blind
        note = "" if blind is None else f"tax-blind {usd(blind.estimated_tax)}"
        cards.append(("Estimated tax", usd(data.tax.estimated_tax), note))
    return (
        '<section class="cards">'
        + "".join(
            f'<div class="card"><span>{escape(name)}</span><strong>{escape(value)}</strong>'
            f"<small>{escape(note)}</small></div>"
            for name, value, note in cards
        )
        + "</section>"
    )


def _charts(data: ProposalDocument) -> list[tuple[str, str]]:
    before, after, target = data.before, data.after, data.target

    def band(measure: str) -> tuple[float, float] | None:
        if target is None or target.measure != measure:
            return None
        return (target.value - target.band, target.value + target.band)

    share_top = charts.nice_scale(
        before.small_cap_share,
        after.small_cap_share,
        (band("small_cap_share") or (0, 0))[1],
        floor=0.2,
    )
    size = charts.gauges(
        "Small-cap share and size score, before and after",
        [
            charts.Gauge(
                "Small-cap share",
                before.small_cap_share,
                after.small_cap_share,
                0.0,
                share_top,
                pct,
                lambda v: pct(v, 0),
                band("small_cap_share"),
            ),
            charts.Gauge(
                "Size score",
                before.size_score,
                after.size_score,
                -3.0,
                3.0,
                signed,
                lambda v: f"{v:+g}" if v else "0",
                band("size_score"),
            ),
        ],
    )
    bands = charts.paired_bars(
        "Size bands: share of equity value",
        [
            charts.Row(
                name,
                before.bands[name],
                after.bands[name],
                pct(before.bands[name]),
                pct(after.bands[name]),
                1.0,
            )
            for name in BANDS
        ],
    )
    return [
        ("Small-cap share and size score", size),
        ("Size bands (share of equity value)", bands),
        ("Risk measures against their limits (each row on its own scale)", _risk_chart(data)),
        ("Sector weights (GICS, funds looked through)", _sector_chart(data)),
    ]


def _risk_chart(data: ProposalDocument) -> str:
    rows = []
    for risk in saved.RISKS:
        limit, _source = data.limit(risk.cap.key if risk.cap else None)
        before, after, kind = data.before.figure(risk.key), data.after.figure(risk.key), risk.kind
        note = risk.unit + (f" · limit {figure(limit, kind)}" if limit is not None else "")
        rows.append(
            charts.Row(
                risk.short,
                before,
                after,
                figure(before, kind),
                figure(after, kind),
                charts.nice_scale(before, after, limit),
                note=note,
                limit=limit,
            )
        )
    return charts.paired_bars(
        "Risk measures against their limits (each row on its own scale)",
        rows,
        [("limit", charts.LIMIT)],
    )


def _sector_chart(data: ProposalDocument) -> str:
    before, after = data.before.sectors, data.after.sectors
    drift, _ = data.limit("sector_drift_max")
    names = sorted(set(before) | set(after), key=lambda s: (-before.get(s, 0.0), s))
    top = charts.nice_scale(*before.values(), *after.values())
    rows = [
        charts.Row(
            name,
            before.get(name, 0.0),
            after.get(name, 0.0),
            pct(before.get(name, 0.0)),
            pct(after.get(name, 0.0)),
            top,
            allowed=None
            if drift is None
            else (before.get(name, 0.0) - drift, before.get(name, 0.0) + drift),
        )
        for name in names
    ]
    legend = [] if drift is None else [(f"allowed drift ±{pct(drift, 0)}", charts.ALLOWED)]
    return charts.paired_bars("Sector weights (GICS, funds looked through)", rows, legend)


def _trades(data: ProposalDocument) -> str:
    trades = data.trades
    if not trades:
        return "<p>No trades: nothing needs doing.</p>"
    head = (
        "Ticker",
        "Side",
        "Shares",
        "Price",
        "Price date",
        "Price source",
        "Value",
        "Share of value",
        "Est. cost",
        "Cost (bp)",
        "Reason",
    )
    rows = []
    for t in trades:
        value, cost = t.value, t.estimated_cost
        share = saved.trade_share(data, t)
        rows.append(
            [
                _td(t.ticker, cls="ticker"),
                _td(t.side, cls=t.side.lower()),
                _num(saved.shares_text(t.shares), t.shares),
                _num(f"{t.price:,.2f}", t.price),
                _td(t.price_date or "-"),
                _td(t.price_source or "-"),
                _num(usd(value), value),
                _num(pct(share, 2), share),
                _num(usd(cost, cents=True), cost),
                _num(
                    f"{1e4 * cost / value:.1f}" if value else "-",
                    1e4 * cost / value if value else 0.0,
                ),
                _td(t.reason),
            ]
        )
    bought = sum(t.value for t in trades if t.side == Side.BUY)
    sold = sum(t.value for t in trades if t.side == Side.SELL)
    total_cost = sum(t.estimated_cost for t in trades)
    foot = (
        f'<tfoot><tr><td colspan="6">Bought {escape(usd(bought))}, sold {escape(usd(sold))}'
        f'</td><td class="num">{escape(usd(bought + sold))}</td><td class="num">'
        f"{escape(pct((bought + sold) / data.before.value, 2))}</td>"
        f'<td class="num">{escape(usd(total_cost, cents=True))}</td><td colspan="2"></td>'
        "</tr></tfoot>"
    )
    return _table(
        "trades",
        head,
        rows,
        foot,
        "Click a column to sort. Share of value: the "
        "trade's value / the portfolio's value before trading.",
    )


def _taxes(data: ProposalDocument) -> str:
    """The tax figures, then a sortable table of lots for each sell that has them."""
    facts = taxes.tax_facts(data)
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    parts = [f'<dl class="facts">{items}</dl>' if items else ""]
    for n, trade in enumerate(taxes.sells_with_lots(data)):
        rows = [
            [
                _td(row.acquired),
                _num(row.shares, lot.shares),
                _num(row.cost_basis, lot.cost_basis or 0.0),
                _num(row.gain, lot.gain),
                _td(row.term),
            ]
            for row, lot in zip(taxes.lot_rows(trade), trade.lots, strict=True)
        ]
        title = f"{trade.ticker}: sell {saved.shares_text(trade.shares)} shares from these lots"
        head = ("Acquired", "Shares", "Cost basis (per share)", "Gain", "Term")
        parts.append(f"<h3>{escape(title)}</h3>" + _table(f"lots-{n}", head, rows, "", ""))
    if len(parts) > 1:
        parts.insert(
            1,
            '<p class="note">Lots each sell takes: give them to your broker as specific lots '
            "(specific identification). Gain: (price - cost basis) x shares; a lot of unknown "
            "basis is taken as no gain. Term: short when held one year or less at the run "
            "date.</p>",
        )
    return "".join(parts)


def _measures(data: ProposalDocument) -> str:
    before, after = data.before, data.after
    rows = [
        [
            _td("Value"),
            _num(usd(before.value), before.value),
            _num(usd(after.value), after.value),
            _td(""),
            _td(""),
        ],
        _limit_row(
            data,
            "Cash share",
            before.cash_share,
            after.cash_share,
            "%",
            "cash_min",
            "at least ",
        ),
    ]
    for measure in ("small_cap_share", "size_score"):
        kind = "%" if measure == "small_cap_share" else "score"
        shown = pct if kind == "%" else signed
        limit = saved.target_range(data, measure, shown)
        rows.append(
            [
                _td(measure),
                _num(shown(before.figure(measure)), before.figure(measure)),
                _num(shown(after.figure(measure)), after.figure(measure)),
                _td(limit),
                _td("target" if limit else ""),
            ]
        )
    for company, was, now in saved.largest_companies(data):
        rows.append(_limit_row(data, f"{company} (look-through)", was, now, "%", "max_position",
                               "max "))  # fmt: skip
    for risk in saved.RISKS:
        rows.append(
            _limit_row(
                data,
                risk.label,
                before.figure(risk.key),
                after.figure(risk.key),
                risk.kind,
                risk.cap.key if risk.cap else None,
                "max ",
            )
        )
    return _table(
        "measures",
        ("Measure", "Before", "After", "Limit", "Limit from"),
        rows,
        "",
        "Limit from: user (the portfolio file), default (README), or today (a default "
        "the portfolio already exceeds becomes today's level).",
    )


def _limit_row(
    data: ProposalDocument,
    label: str,
    before: float,
    after: float,
    kind: str,
    limit_name: str | None,
    prefix: str,
) -> list[str]:
    limit, source = data.limit(limit_name)
    return [
        _td(label),
        _num(figure(before, kind), before),
        _num(figure(after, kind), after),
        _td("" if limit is None else prefix + figure(limit, kind)),
        _td(f"{limit_name} ({source})" if limit is not None else ""),
    ]


def _estimates(data: ProposalDocument) -> str:
    before, after = data.before.estimated_share, data.after.estimated_share
    known = [key for key in ESTIMATE_LABELS if key in before or key in after]
    keys = known + sorted((set(before) | set(after)) - set(known))
    rows = [
        [
            _td(ESTIMATE_LABELS.get(key, key)),
            _num(pct(before.get(key)), before.get(key, 0.0)),
            _num(pct(after.get(key)), after.get(key, 0.0)),
        ]
        for key in keys
    ]
    mostly = [ESTIMATE_LABELS.get(k, k) for k, v in after.items() if v >= 0.5]
    note = (
        "Share of equity value whose figure is estimated by the model's documented rules "
        "rather than reported by a source (see `advisor model show`)."
    )
    if mostly:
        note += " Mostly estimated after the trades: " + ", ".join(mostly) + "."
    return _table("estimates", ("Figure", "Estimated before", "Estimated after"), rows, "", note)


def _checks(data: ProposalDocument) -> str:
    parts = []
    found: tuple[tuple[str, str, list[CheckResult]], ...] = (
        ("checks", "Rules re-checked on the final trades", data.checks),
        ("pretrade_checks", "Pre-trade checks", data.pretrade_checks),
    )
    for key, title, checks in found:
        rows = [
            [
                _td(c.name),
                _td("pass" if c.ok else "FAILED", cls="pass" if c.ok else "fail"),
                _num(_g(c.value), c.value or 0.0),
                _num(_g(c.limit), c.limit or 0.0),
                _td(c.detail),
            ]
            for c in checks
        ]
        parts.append(
            f"<h3>{escape(title)}</h3>"
            + _table(key, ("Check", "Result", "Value", "Limit", "Detail"), rows, "", "")
        )
    return "".join(parts)


def _footer(data: ProposalDocument) -> str:
    sha = data.inputs.sha256
    return (
        "<footer><p>Written by <code>advisor</code> from the proposal's JSON. The tool never "
        "places orders: review the trades, then place them at your broker.</p>"
        f"<p>Portfolio file sha256 <code>{escape(sha)}</code>.</p></footer>"
    )


def _section(title: str, content: str) -> str:
    if not content:
        return ""
    anchor = title.lower().replace(" ", "-")
    return f'<section id="{escape(anchor)}"><h2>{escape(title)}</h2>{content}</section>'


def _table(
    name: str, head: Sequence[str], rows: Iterable[Sequence[str]], foot: str, note: str
) -> str:
    header = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    caption = f'<p class="note">{escape(note)}</p>' if note else ""
    return (
        f'{caption}<div class="scroll"><table class="sortable" id="{escape(name)}-table">'
        f"<thead><tr>{header}</tr></thead><tbody>{body}</tbody>{foot}</table></div>"
    )


def _td(text: object, cls: str = "") -> str:
    attr = f' class="{escape(cls)}"' if cls else ""
    return f"<td{attr}>{escape(str(text))}</td>"


def _num(text: str, value: float) -> str:
    return f'<td class="num" data-v="{float(value):.10g}">{escape(text)}</td>'


def _g(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


STYLE = """
:root{--ink:#1f2933;--muted:#5f6b7a;--line:#d9dee5;--soft:#f4f6f8;--ok:#15803d;--warn:#b45309;
--bad:#b91c1c;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
body{margin:0;color:var(--ink);background:#fff;font-size:15px;line-height:1.5}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}
h1{margin:0 0 12px;font-size:28px}h2{margin:32px 0 10px;font-size:20px;
border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:16px;margin:20px 0 6px}
.kicker{margin:0;color:var(--muted);text-transform:uppercase;letter-spacing:.06em;font-size:12px}
.summary{margin:0 0 14px;font-size:18px;font-weight:600}
.kept{margin:0 0 14px;color:var(--warn);font-weight:600}
.basket{margin:0 0 6px;color:var(--muted)}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 18px;margin:0}
.facts dt{color:var(--muted)}.facts dd{margin:0}
.verdict{border-left:6px solid var(--ok);background:#f0fdf4;padding:6px 18px 10px;
margin-top:22px;border-radius:4px}.verdict h2{border:0;margin:8px 0 0;font-size:14px;
text-transform:uppercase;color:var(--muted)}.verdict p{font-size:18px;margin:4px 0}
.verdict.warn{border-color:var(--warn);background:#fffbeb}
.verdict.bad{border-color:var(--bad);background:#fef2f2}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;
margin-top:18px}.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px}
.card span,.card small{display:block;color:var(--muted);font-size:13px}
.card strong{display:block;font-size:22px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:18px;
align-items:start}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:8px 10px}
figcaption{font-weight:600;font-size:14px;margin-bottom:2px}
svg.chart{width:100%;height:auto;display:block;font-size:12px}
svg .label{fill:var(--ink)}svg .note{fill:var(--muted);font-size:10.5px}
svg .value{fill:var(--ink);font-size:11px}svg .strong{font-weight:600}
svg .axis{stroke:#9aa5b1;stroke-width:1}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:14px}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--soft);cursor:pointer;user-select:none;white-space:nowrap}
thead th::after{content:" \\2195";color:#b0b8c4;font-size:11px}
thead th[aria-sort=ascending]::after{content:" \\25B2";color:var(--ink)}
thead th[aria-sort=descending]::after{content:" \\25BC";color:var(--ink)}
tbody tr:nth-child(even){background:#fafbfc}tfoot td{font-weight:600;border-top:2px solid
var(--line)}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.ticker{font-weight:600}td.buy{color:var(--ok);font-weight:600}
td.sell{color:var(--bad);font-weight:600}td.pass{color:var(--ok)}
td.fail{color:var(--bad);font-weight:700}.note{color:var(--muted);font-size:13px;margin:4px 0}
footer{margin-top:36px;color:var(--muted);font-size:13px}
@media print{thead th::after{content:""}main{padding:0}}
"""

SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th) {
    th.tabIndex = 0;
    function sort() {
      var i = th.cellIndex, body = table.tBodies[0];
      var up = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[i], y = b.cells[i];
        var r = ("v" in x.dataset && "v" in y.dataset) ? x.dataset.v - y.dataset.v
          : x.textContent.localeCompare(y.textContent);
        return up ? r : -r;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
    });
  });
});
"""

# The page's one script runs because its hash is allowed; any other script, inline or loaded, is
# refused (an injected `<script>` does not run even if escaping were ever to fail).
CSP = (
    f"default-src 'none'; style-src 'unsafe-inline'; script-src {script_hash(SORT_SCRIPT)}; "
    "img-src data:"
)
