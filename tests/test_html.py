"""The HTML review report: self-contained, escaped, and checked in a real (headless) Chromium."""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import http.server
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.proposal import ProposalDocument
from advisor.rebalance import propose
from advisor.report.files import proposal_document
from advisor.report.html import CSP, SORT_SCRIPT, script_hash
from advisor.report.html import proposal_html as render
from tests.conftest import ROOT

ROTATION = ROOT / "portfolios" / "rotation.yaml"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Chromium is not installed here (CI installs it: apt-get install -y chromium)",
)


@pytest.fixture(scope="module")
def rotation() -> dict[str, Any]:
    """The proposal for portfolios/rotation.yaml as its JSON dict (one solve for the module)."""
    data = json.loads(proposal_document(propose(ROTATION)).to_json())
    assert data["trades"], "the rotation example should propose trades"
    return data


def page_of(data: dict[str, Any]) -> str:
    """The report of a proposal given as its JSON dict (edited by the tests)."""
    return render(ProposalDocument.model_validate(data))


def test_page_is_self_contained(rotation: dict[str, Any]) -> None:
    page = page_of(rotation)
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    # The one inline script is allowed by the hash of its exact text, never by 'unsafe-inline'.
    digest = base64.b64encode(hashlib.sha256(SORT_SCRIPT.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}';" in CSP and "script-src 'unsafe-inline'" not in CSP
    assert page.count("<script>") == 1 and f"<script>{SORT_SCRIPT}</script>" in page
    assert not re.search(r"https?://", page), "no URL at all: nothing to load"
    assert not re.search(r"<(link|img|iframe|object|embed)\b|\bsrc=|@import|url\(", page)
    assert page.count("<svg") == 4


def test_page_shows_what_a_reviewer_needs(rotation: dict[str, Any]) -> None:
    page = page_of(rotation)
    inputs = rotation["inputs"]
    for text in (
        inputs["account"],
        inputs["model"]["name"],
        inputs["model"]["as_of"],
        "Target reached",
        "Size bands",
        "Size score",
        "Risk measures",
        "Sector weights",
        "Pre-trade checks",
        "Which figures rest on estimates",
        "Share of value",
        "Est. cost",
    ):
        assert text in page, text
    for trade in rotation["trades"]:
        assert f'<td class="ticker">{trade["ticker"]}</td>' in page
        assert html.escape(trade["reason"]) in page


def test_rendering_leaves_its_input_alone(rotation: dict[str, Any]) -> None:
    """The report reads the proposal and changes nothing in it, so a second render (or any
    other output made from the same document) gives the same bytes."""
    document = ProposalDocument.model_validate(rotation)
    before = document.model_copy(deep=True)
    page = render(document)
    assert document == before
    assert render(document) == page


def test_every_text_is_escaped(rotation: dict[str, Any]) -> None:
    data = copy.deepcopy(rotation)
    data["inputs"]["account"] = "<script>alert('x')</script> & Co"
    data["trades"][0]["reason"] = '<img src="http://example.com/x.png">'
    data["diagnosis"] = ["<b>bold</b>"]
    page = page_of(data)
    assert "<script>alert" not in page and "<img" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_unreachable_and_nothing_to_do(rotation: dict[str, Any]) -> None:
    data = copy.deepcopy(rotation)
    data["status"] = "unreachable"
    data["diagnosis"] = ["max_turnover 0.05 allows small_cap_share 0.120"]
    page = page_of(data)
    assert 'class="verdict warn"' in page and "Target not reached" in page
    assert "<li>max_turnover 0.05 allows small_cap_share 0.120</li>" in page
    data.update(status="nothing to do", diagnosis=None, trades=[])
    data["after"] = data["before"]
    page = page_of(data)
    assert 'class="verdict ok"' in page and "Nothing to do" in page
    assert "No trades: nothing needs doing." in page


# In a real browser. The probe runs on the page's load event, after the report's own script and
# once every load the page started has ended (a resource is listed only when its load has ended,
# so a probe run earlier could miss an image still loading): it measures the charts, sorts the
# trade table by clicking, and lists every resource loaded. --dump-dom reads the page after it.
PROBE = """<script>
window.addEventListener("load", function () {
  var out = {charts: [], resources: [], sorted: []};
  document.querySelectorAll("svg.chart").forEach(function (svg) {
    var box = svg.getBoundingClientRect(), bars = 0;
    svg.querySelectorAll("rect.bar, circle.marker").forEach(function (shape) {
      var b = shape.getBoundingClientRect();
      if (b.width > 0 && b.height > 0) { bars += 1; }
    });
    out.charts.push({width: box.width, height: box.height, shapes: bars});
  });
  var table = document.getElementById("trades-table");
  out.rows = Array.prototype.map.call(table.tBodies[0].rows, function (r) {
    return r.cells[0].textContent; });
  var value = table.tHead.rows[0].cells[6];
  value.click();
  out.sorted.push(Array.prototype.map.call(table.tBodies[0].rows, function (r) {
    return r.cells[0].textContent; }));
  value.click();
  out.sorted.push(Array.prototype.map.call(table.tBodies[0].rows, function (r) {
    return r.cells[0].textContent; }));
  out.resources = performance.getEntriesByType("resource").map(function (e) { return e.name; });
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def chromium(profile: Path, *args: str) -> str:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def probe(page: str, folder: Path, name: str = "probed") -> dict[str, Any]:
    """Runs the probe in a fresh browser with a profile of its own. The page's policy allows
    its own script only, so the probe's hash is added to it (nothing else is loosened)."""
    path = folder / f"{name}.html"
    allowed = script_hash(PROBE.removeprefix("<script>").removesuffix("</script>"))
    page = page.replace("script-src ", f"script-src {allowed} ", 1)
    path.write_text(page.replace("</body>", PROBE + "\n</body>"))
    dom = chromium(folder / f"profile-{name}", "--dump-dom", path.as_uri())
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run: " + dom[-500:]
    import html

    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


@pytest.mark.slow
@needs_chromium
def test_report_in_headless_chromium(rotation: dict[str, Any], tmp_path: Path) -> None:
    report = tmp_path / "review.html"
    result = CliRunner().invoke(app, ["rebalance", str(ROTATION), "--output", str(report)])
    assert result.exit_code == 0, result.stderr
    page = report.read_text()
    assert page == page_of(rotation)  # the CLI renders the proposal's JSON dict

    seen = probe(page, tmp_path)
    tickers = [t["ticker"] for t in rotation["trades"]]
    assert seen["rows"] == tickers  # every trade in the page, in the proposal's order
    assert len(seen["charts"]) == 4
    for chart in seen["charts"]:
        assert chart["width"] > 200 and chart["height"] > 50, chart
        assert chart["shapes"] >= 2, chart  # bars or markers actually drawn
    by_value = [t["ticker"] for t in sorted(rotation["trades"], key=lambda t: t["value"])]
    assert seen["sorted"] == [by_value, by_value[::-1]]  # click-to-sort works
    assert seen["resources"] == []  # nothing loaded: no network, no file

    screenshot = tmp_path / "review.png"
    chromium(
        tmp_path / "profile",
        f"--screenshot={screenshot}",
        "--window-size=1280,2000",
        report.as_uri(),
    )
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Counting.hits.append(self.path)
        if self.path.endswith(".png"):
            # An image loads beside the parser, not before the next script: answered late, it
            # is still loading when a probe that did not wait for the load event would run.
            time.sleep(0.5)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def local_server() -> Iterator[tuple[str, list[str]]]:
    _Counting.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Counting.hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
@needs_chromium
def test_the_policy_blocks_any_load(
    rotation: dict[str, Any], tmp_path: Path, local_server: tuple[str, list[str]]
) -> None:
    """A load slipped into the page is blocked by its Content-Security-Policy; the same load
    without the policy reaches the server. The probe lists attempted loads, blocked or not,
    so the empty list in the test above means the report never even tries one."""
    url, hits = local_server
    page = page_of(rotation)
    smuggled = f'<img src="{url}/pixel.png" alt=""><script src="{url}/x.js"></script>'
    blocked = page.replace("<main>", "<main>" + smuggled)
    seen = probe(blocked, tmp_path, "blocked")
    assert hits == []
    assert sorted(seen["resources"]) == [f"{url}/pixel.png", f"{url}/x.js"]
    control = blocked.replace(f'<meta http-equiv="Content-Security-Policy" content="{CSP}">', "")
    assert "Content-Security-Policy" not in control
    seen = probe(control, tmp_path, "control")
    assert sorted(hits) == ["/pixel.png", "/x.js"]
    assert sorted(seen["resources"]) == [f"{url}/pixel.png", f"{url}/x.js"]


@pytest.mark.slow
@needs_chromium
def test_the_policy_runs_the_reports_script_and_no_other(
    rotation: dict[str, Any], tmp_path: Path
) -> None:
    """The sort script runs (it makes the headers focusable); a script slipped into the page
    does not, as it does without the policy."""
    injected = '<script>document.body.setAttribute("data-x", "r" + "an");</script>'
    page = page_of(rotation).replace("<main>", "<main>" + injected)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    for name, text, runs in [("with", page, False), ("without", page.replace(meta, ""), True)]:
        path = tmp_path / f"{name}.html"
        path.write_text(text)
        dom = chromium(tmp_path / f"profile-{name}", "--dump-dom", path.as_uri())
        assert 'tabindex="0"' in dom  # the report's own script ran
        assert ('data-x="ran"' in dom) == runs, name
