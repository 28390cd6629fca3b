"""The fast composer gives the node tree ruamel composes: same classes, tags, values, lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from advisor.errors import InputError
from advisor.portfolio import yaml_nodes
from advisor.portfolio.loading import load_portfolio
from tests.conftest import ROOT

# Plain scalars that YAML 1.1 (libyaml) and 1.2 (ruamel) resolve differently, and some that agree.
TRICKY = ["ON", "on", "yes", "No", "off", "y", "0777", "0o17", "0x1F", "1_000", "1:30",
          "2024-01-02", "2024-13-45", "3.5", "1e3", "-0", "+5", ".inf", "-.Inf", ".nan", "NaN",
          "null", "~", "Null", "True", "false", "BRK.B", "12:30:00", "0b101", "1,000", "5%",
          "S&P", "AT&T", "5*3", "a!b", "'ON'", '"yes"', "'0777'", '"1:30"']  # fmt: skip


def tree(node: object) -> object:
    """A node tree as plain data: class, tag, line, value, style."""
    if node is None:
        return None
    kind = type(node).__name__
    line = node.start_mark.line  # type: ignore[attr-defined]
    value = node.value  # type: ignore[attr-defined]
    if kind == "ScalarNode":
        return kind, str(node.tag), line, value, node.style or None  # type: ignore[attr-defined]
    if kind == "SequenceNode":
        return kind, str(node.tag), line, [tree(v) for v in value]  # type: ignore[attr-defined]
    return kind, str(node.tag), line, [(tree(k), tree(v)) for k, v in value]  # type: ignore[attr-defined]


def both(text: str) -> tuple[object, object]:
    return tree(yaml_nodes.compose(YAML(typ="rt"), text)), tree(YAML(typ="rt").compose(text))


def test_every_portfolio_and_test_file_composes_the_same() -> None:
    files = [*(ROOT / "portfolios").glob("*.yaml"), *(ROOT / "tests" / "data").glob("*.yaml")]
    assert len(files) > 10
    for path in files:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        try:
            fast, slow = both(text)
        except Exception as exc:  # a bad file: both must refuse it, with the same error
            try:
                YAML(typ="rt").compose(text)
            except Exception as again:
                assert type(exc) is type(again) and str(exc) == str(again), path
                continue
            raise AssertionError(f"{path}: only the fast composer failed") from exc
        assert fast == slow, path


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["cash", "ticker", "shares", "band", "note"]),
            st.sampled_from(TRICKY),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_tricky_scalars_resolve_as_ruamel_resolves_them(rows: list[tuple[str, str, bool]]) -> None:
    lines = ["holdings:"]
    for key, value, flow in rows:
        lines.append(f"  - {{{key}: {value}}}" if flow else f"  - {key}: {value}")
    fast, slow = both("\n".join(lines) + "\n")
    assert fast == slow


def test_on_is_a_ticker_not_a_boolean(tmp_path: Path) -> None:
    path = tmp_path / "on.yaml"
    path.write_text("holdings:\n  - {ticker: ON, shares: 5}\n  - ticker: yes\n    shares: 1\n")
    holdings = load_portfolio(path).portfolio.holdings
    assert [h.ticker for h in holdings] == ["ON", "yes"]


# Files the fast path must hand to ruamel, or read exactly as ruamel does.
EDGE_CASES = [
    'cash: 0\nholdings:\n  - {"ticker": IWM, "shares":!foo 1000}\n',  # a tag right after ':'
    'cash: 0\nholdings:\n  - {"ticker": IWM, "shares":!!int "1000"}\n',
    '{"cash":!!str 5, holdings: [{ticker: IWM, shares: 10}]}\n',
    '{"account":!!python/name:os.system x, cash: 0, holdings: [{ticker: IWM, shares: 10}]}\n',
    '{"a":&x 1, "cash": 0}\n',  # an anchor right after ':'
    'account: "a\u2028b"\ncash: 0\nholdings:\n  - {ticker: IWM, shares: -5}\n',  # lines after it
    "account: >\n  Small\n  cap\ncash: 0\nholdings:\n  - {ticker: IWM, shares: 5}\n",
    'cash: 0\nholdings: [{ticker: IWM, shares: 5}, "ticker":SPY]\n',  # ruamel refuses it
    "account: x\ncash:\nholdings:\n  - {ticker: IWM, shares: 5}\n",
]


def outcome(path: Path) -> str:
    try:
        found = load_portfolio(path).portfolio
    except InputError as exc:
        return "error: " + str(exc)
    return repr(found)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_read_the_same_as_ruamel_alone(
    tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "edge.yaml"
    path.write_text(text, encoding="utf-8")
    fast = outcome(path)
    monkeypatch.setattr(yaml_nodes, "_CLoader", None)  # every file through ruamel
    assert fast == outcome(path)
