"""User text reaches the terminal and CSV cells as plain text: no rich markup read from it, no
control sequence a terminal would obey, no formula a spreadsheet would run; and never exit 1."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.market import SizeScheme
from advisor.rebalance import propose
from advisor.report.files import basket_csv, trades_csv
from advisor.text import csv_cell, plain
from tests.conftest import ROOT

runner = CliRunner()
ROTATION = ROOT / "portfolios" / "rotation.yaml"

# YAML double-quoted escapes for text a terminal would obey or rich would read as markup, and
# what the tool shows for each.
HOSTILE = {
    r"[/bold]": "[/bold]",
    r"[red]x": "[red]x",
    r"\e[2J": r"\x1b[2J",
    r"\e]0;title\a": r"\x1b]0;title\x07",
    r"a\rb": r"a\rb",
    r"\ud800": "\ufffd",
    r"\u202eevil": r"\u202eevil",
    r"b\bc\x9bd": r"b\x08c\x9bd",
}
# C0 and C1 controls but the line feed, bidi embeddings/overrides/isolates, lone surrogates.
UNSAFE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    output = result.stdout + result.stderr
    assert not UNSAFE.findall(output), UNSAFE.findall(output)
    return result.exit_code, output


def with_account(folder: Path, escaped: str, name: str = "p.yaml") -> Path:
    text = ROTATION.read_text(encoding="utf-8")
    path = folder / name
    path.write_text(
        text.replace("account: Rotation scenario", f'account: "{escaped}"'), encoding="utf-8"
    )
    return path


def test_plain_escapes_controls_and_replaces_surrogates() -> None:
    assert plain("Taxable brokerage") == "Taxable brokerage"
    assert plain("\x1b[2J\r\t\b") == r"\x1b[2J\r\t\x08"
    assert plain("\x85\u202e\u2028\U000e0001") == r"\x85\u202e\u2028\U000e0001"
    assert plain("a\ud800b") == "a\ufffdb"
    assert plain("one\ntwo", keep="\n") == "one\ntwo"
    assert plain("Zürich café, 東京") == "Zürich café, 東京"


def test_csv_cell_neutralises_formulas_in_text_only() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert str(csv_cell(f"{start}1+1")).startswith("'")
    assert csv_cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert csv_cell("\tx") == r"'\tx"
    assert csv_cell("IWM") == "IWM"
    assert csv_cell(-12.5) == -12.5


@pytest.mark.parametrize("escaped", list(HOSTILE))
def test_score_and_validate_show_the_account_as_plain_text(tmp_path: Path, escaped: str) -> None:
    path = with_account(tmp_path, escaped)
    code, out = invoke("score", str(path))
    assert code == 0
    assert f"{path}  {HOSTILE[escaped]}" in out
    assert invoke("validate", str(path))[0] == 0


def test_rebalance_and_review_show_the_account_as_plain_text(tmp_path: Path) -> None:
    escaped = "".join(HOSTILE)
    shown = "".join(HOSTILE.values())
    path = with_account(tmp_path, escaped)
    saved = tmp_path / "proposal.json"
    code, out = invoke("rebalance", str(path), "--output", str(saved))
    assert code == 0
    assert shown in out
    # The proposal keeps the account as given, but a lone surrogate cannot be written as UTF-8.
    account = json.loads(saved.read_text(encoding="utf-8"))["inputs"]["account"]
    assert account.startswith("[/bold][red]x\x1b[2J") and "\ufffd" in account
    code, out = invoke("review", str(saved))
    assert code == 0
    assert shown in out


def test_review_shows_a_tampered_proposals_text_as_plain_text(tmp_path: Path) -> None:
    saved = tmp_path / "proposal.json"
    assert invoke("rebalance", str(ROTATION), "--output", str(saved))[0] == 0
    document = json.loads(saved.read_text(encoding="utf-8"))
    document["summary"] = "[/bold]\x1b[2J summary"
    document["kept"] = ["[red]\x1b]0;title\x07 kept"]
    document["trades"][0]["ticker"] = "\x1b[31mNVDA[/]"
    document["trades"][0]["reason"] = "\u202e\r reason [bold]"
    saved.write_text(json.dumps(document), encoding="utf-8")
    code, out = invoke("review", str(saved))
    assert code == 0
    for text in (
        r"[/bold]\x1b[2J summary",
        r"[red]\x1b]0;title\x07 kept",
        r"\x1b[31mNVDA[/]",
        r"\u202e\r reason [bold]",
    ):
        assert text in out


def test_an_error_shows_the_bad_value_and_field_as_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        'cash: 1000\nholdings:\n  - {ticker: "\\e[2J[/bold]\\u202e", shares: 1}\n',
        encoding="utf-8",
    )
    code, out = invoke("validate", str(path))
    assert code == 2 and "error:" in out
    path.write_text('cash: 1000\n"\\e]0;x\\a[/]": 1\nholdings: []\n', encoding="utf-8")
    code, out = invoke("score", str(path))
    assert code == 2 and r"\x1b]0;x\x07[/]" in out


def test_a_path_with_control_characters_is_shown_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "a\x1b[2J[bold]\u202e"
    folder.mkdir()
    path = with_account(folder, "plain")
    code, out = invoke("score", str(path))
    assert code == 0 and r"a\x1b[2J[bold]\u202e" in out
    code, out = invoke("score", str(folder / "missing.yaml"))
    assert code == 2 and r"a\x1b[2J[bold]\u202e" in out


def test_batch_summary_csv_and_view_neutralise_an_account(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts"
    accounts.mkdir()
    with_account(accounts, "=cmd|' /C calc'!A0", "formula.yaml")
    with_account(accounts, r"@SUM(1+1)\e[2J", "at.yaml")
    (accounts / "broken.yaml").write_text('cash: "-1+\\e[2J"\nholdings: []\n', encoding="utf-8")
    out_dir = tmp_path / "out"
    code, out = invoke("rebalance", str(accounts), "--out-dir", str(out_dir))
    assert code == 2  # the broken file; the others are proposed
    assert "=cmd|' /C calc'!A0" in out and r"@SUM(1+1)\x1b[2J" in out
    text = (out_dir / "summary.csv").read_text(encoding="utf-8")
    assert "\x1b" not in text
    rows = {Path(r["path"]).name: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["formula.yaml"]["account"] == "'=cmd|' /C calc'!A0"
    assert rows["at.yaml"]["account"] == r"'@SUM(1+1)\x1b[2J"
    for row in rows.values():
        for column in ("path", "account", "status", "summary", "message"):
            assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r")), row


def test_trades_and_basket_csv_neutralise_a_formula_in_a_ticker_or_reason() -> None:
    proposal = propose(ROTATION, SizeScheme.cumulative)
    trades = proposal.plan.trades
    trades.index = ["=HYPERLINK(1)", *trades.index[1:]]
    trades.iloc[0, trades.columns.get_loc("reason")] = "-2+3 \x1b[2J"
    rows = list(csv.DictReader(io.StringIO(trades_csv(proposal))))
    assert rows[0]["ticker"] == "'=HYPERLINK(1)"
    assert rows[0]["reason"] == r"'-2+3 \x1b[2J"
    assert float(rows[0]["shares"]) > 0 and float(rows[0]["value"]) > 0  # numbers untouched
    basket = list(csv.reader(io.StringIO(basket_csv(proposal, 25))))
    assert basket[1][0] == "'=HYPERLINK(1)"
    assert float(basket[1][4]) > 0


def test_a_real_process_prints_hostile_text_as_valid_utf8(tmp_path: Path) -> None:
    """In a process of its own (stdout a pipe, strict UTF-8): a lone surrogate in the account
    and undecodable bytes in the path print as U+FFFD, ESC as text; no UnicodeEncodeError."""
    folder = os.fsencode(tmp_path) + b"/\xff\x1b[2J"
    os.mkdir(folder)
    text = ROTATION.read_text(encoding="utf-8")
    path = folder + b"/p.yaml"
    Path(os.fsdecode(path)).write_text(
        text.replace("account: Rotation scenario", 'account: "\\ud800\\e]0;x\\a"'),
        encoding="utf-8",
    )
    for args, code, shown in (
        ([b"score", path], 0, "\ufffd\\x1b]0;x\\x07"),  # the account
        ([b"score", folder + b"/missing.yaml"], 2, "missing.yaml"),
    ):
        done = subprocess.run(
            [os.fsencode(sys.executable), b"-m", b"advisor", *args],
            cwd=ROOT,
            capture_output=True,
            env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
        )
        output = (done.stdout + done.stderr).decode("utf-8")  # strict: valid UTF-8 throughout
        assert done.returncode == code, output
        assert not UNSAFE.findall(output)
        assert "\ufffd\\x1b[2J" in output and shown in output  # the path, and more
