"""Bad input of every size and kind ends early, as exit 2 with a located message: files too
large, too many holdings, nesting, alias bombs, FIFOs and devices, numbers the solver cannot
take, portfolios of no value, hostile model folders and proposals. Never a traceback or exit 1."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import InputError
from advisor.portfolio.loading import InputErrors, load_portfolio, resolve_tickers
from tests.conftest import DATA, ROOT

runner = CliRunner()
MINI = DATA / "mini-model"
HOLDING = "  - {ticker: BIG, shares: 10}\n"


def invoke(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stderr


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str | Path, timeout: float = 20) -> tuple[int, str, float]:
    """The real CLI in its own process: exit code, standard error and seconds taken."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "advisor", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,  # a command that blocks fails the test instead of hanging it
    )
    return done.returncode, done.stderr, time.monotonic() - start


def refused(error: str, where: str, problem: str) -> None:
    """`error` is one located message (no traceback) starting `error: where problem`."""
    assert error.startswith("error: "), error
    assert "Traceback" not in error and "internal error" not in error, error
    assert error.removeprefix("error: ").startswith(where), error
    assert problem in error, error


# Limits of a portfolio file


def test_a_50_mb_file_is_refused_from_its_size_in_well_under_a_second(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:
        file.truncate(50 * 1024 * 1024)  # sparse: nothing is written, and nothing may be read
    start = time.monotonic()
    with pytest.raises(InputError) as caught:
        load_portfolio(path)
    assert time.monotonic() - start < 0.3
    assert str(caught.value) == (
        f"{path}: file is 50.0 MB, larger than the 2.0 MB such a file may have; "
        "check that this is the right file"
    )


def test_more_than_10000_holdings_are_refused_before_composing(tmp_path: Path) -> None:
    rows = "".join(f"  - {{ticker: T{i}, shares: 1}}\n" for i in range(10_001))
    path = write(tmp_path, "cash: 1\nholdings:\n" + rows)
    start = time.monotonic()
    with pytest.raises(InputError) as caught:
        load_portfolio(path)
    assert time.monotonic() - start < 0.5
    assert str(caught.value) == (
        f"{path}:10003: holdings has more than 10,000 holdings, the most a portfolio file may "
        "have; split the account into several files"
    )


def test_holdings_written_through_an_alias_count_too(tmp_path: Path) -> None:
    text = "one: &h {ticker: BIG, shares: 1}\nholdings:\n" + "  - *h\n" * 10_001
    with pytest.raises(InputError, match=re.escape("p.yaml:3: holdings has more than 10,000")):
        load_portfolio(write(tmp_path, text))


def test_10000_holdings_load(tmp_path: Path) -> None:
    rows = "".join(f"  - {{ticker: T{i}, shares: 1}}\n" for i in range(10_000))
    loaded = load_portfolio(write(tmp_path, "cash: 1\nholdings:\n" + rows))
    assert len(loaded.portfolio.holdings) == 10_000


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("cash: 1\nholdings: " + "[" * 400 + "]" * 400 + "\n", 2),
        ("cash: 1\nholdings: " + "[" * 1_000_000 + "\n", 2),  # unclosed, 1 MB
        ("cash: 1\nx: " + "{a: " * 400 + "1" + "}" * 400 + "\n", 2),
        ("cash: &c 1\nholdings: " + "[" * 400 + "]" * 400 + "\n", 2),  # ruamel's composer
    ],
    ids=["lists", "a megabyte of brackets", "mappings", "with an anchor"],
)
def test_deep_flow_nesting_is_refused_before_composing(
    tmp_path: Path, text: str, line: int
) -> None:
    path = write(tmp_path, text)
    start = time.monotonic()
    with pytest.raises(InputError) as caught:
        load_portfolio(path)
    assert time.monotonic() - start < 2
    assert str(caught.value) == (
        f"{path}:{line}: file nests more than 20 levels deep; a portfolio nests 6 levels at most "
        "(holdings, lots); check the brackets"
    )


def test_deep_block_nesting_is_refused_while_converting(tmp_path: Path) -> None:
    text = "cash: 1\nx:\n" + "".join(" " * i + "a:\n" for i in range(1, 400))
    with pytest.raises(InputError, match=re.escape("p.yaml:22: x.a.a.a")) as caught:
        load_portfolio(write(tmp_path, text))
    assert " nests more than 20 levels deep; " in str(caught.value)


def test_deep_block_nesting_beyond_the_recursion_limit(tmp_path: Path) -> None:
    text = "cash: 1\nx:\n" + "".join(" " * i + "a:\n" for i in range(1, 1500))
    with pytest.raises(InputError, match=re.escape("p.yaml: file nests more than 20 levels")):
        load_portfolio(write(tmp_path, text))


def test_a_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    path = write(tmp_path, "cash: 1\n" + "\n".join(lines) + "\n")
    start = time.monotonic()
    with pytest.raises(InputError) as caught:
        load_portfolio(path)
    assert time.monotonic() - start < 3
    message = str(caught.value)
    assert " expands aliases to more than 200,000 values; write the file without nested " in message


@pytest.mark.slow
def test_many_values_without_aliases_are_told_so(tmp_path: Path) -> None:
    text = "cash: 1\nlimits:\n  no_sell: [" + "A," * 200_000 + "A]\n"
    with pytest.raises(InputError) as caught:
        load_portfolio(write(tmp_path, text))
    message = str(caught.value)
    assert "takes the file past 200,000 keys and values, the most it may have" in message
    assert "without nested aliases" not in message


# Files that are not regular files


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command", ["validate", "score", "rebalance"])
def test_a_fifo_is_refused_without_blocking(fifo: Path, command: str) -> None:
    code, error, _ = run(command, fifo)
    assert code == 2
    refused(error, f"{fifo}: file", "is a FIFO (named pipe), not a regular file")


@pytest.mark.parametrize("command", ["validate", "score"])
def test_a_device_and_a_directory_are_refused(tmp_path: Path, command: str) -> None:
    code, error = invoke(command, "/dev/zero")
    assert code == 2
    refused(error, "/dev/zero: file", "is a device, not a regular file")
    code, error = invoke(command, tmp_path)
    assert code == 2
    refused(error, f"{tmp_path}: file", "is a directory")


def test_a_fifo_in_a_model_folder_is_refused_without_blocking(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(MINI, folder)
    (folder / "funds" / "FND.csv").unlink()
    os.mkfifo(folder / "funds" / "FND.csv")
    portfolio = write(tmp_path, "cash: 1000\nholdings:\n" + HOLDING)
    code, error, _ = run("score", portfolio, "--model", folder)
    assert code == 2
    refused(error, f"{folder}/funds/FND.csv: file", "is a FIFO")


def test_a_fifo_proposal_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "proposal.json")
    code, error, _ = run("review", tmp_path / "proposal.json")
    assert code == 2
    refused(error, f"{tmp_path}/proposal.json: file", "is a FIFO")


# Numbers the solver cannot take, and portfolios of no value


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        (f"cash: 1e300\nholdings:\n{HOLDING}", "p.yaml:1: cash 1e+300", "must be <= 1e+15"),
        (
            "cash: 1\nholdings:\n  - {ticker: BIG, shares: 1, price: 1e300}\n",
            "p.yaml:3: holdings[0].price 1e+300",
            "is out of range; must be <= 1e+06",
        ),
        (
            "cash: 1\nholdings:\n  - {ticker: BIG, shares: 1, price: 0}\n",
            "p.yaml:3: holdings[0].price 0",
            "must be > 0",
        ),
        (
            f"cash: 1\nholdings:\n  - {{ticker: BIG, shares: {10**30}}}\n",
            f"p.yaml:3: holdings[0].shares {10**30}",
            "is out of range; must be <= 1e+12",
        ),
        (
            "holdings:\n  - ticker: BIG\n    lots:\n      - {shares: 9e11}\n"
            "      - {shares: 9e11}\n",
            "p.yaml:2: holdings[0] lots add up to 1.8e+12 shares, more than 1e+12",
            "check the lots' shares",
        ),
        (
            "cash: 0\nholdings:\n  - {ticker: BIG, shares: 0}\n",
            "p.yaml:1: cash 0 with no shares held: the portfolio has no value",
            "add the cash or the shares the account holds",
        ),
        (
            "holdings: []\n",
            "p.yaml:1: cash 0 with no shares held: the portfolio has no value",
            "",
        ),
        (
            f"cash: 1000\nholdings:\n{HOLDING}target: {{small_cap_share: 0.5}}\n"
            "limits: {cash_min: 1}\n",
            "p.yaml:5: limits.cash_min 1 keeps all of the value in cash: nothing is left to "
            "invest toward the target",
            "lower cash_min (e.g. 0.01), or remove target:",
        ),
    ],
    ids=["cash", "price", "zero price", "shares", "lots", "no value", "nothing", "cash_min 1"],
)
@pytest.mark.parametrize("command", ["validate", "score", "rebalance"])
def test_numbers_out_of_bounds(
    tmp_path: Path, command: str, text: str, where: str, problem: str
) -> None:
    code, error = invoke(command, write(tmp_path, text), "--model", MINI)
    assert code == 2, error
    refused(error, f"{tmp_path}/{where}", problem)


def test_an_account_of_cash_alone_scores_and_has_nothing_to_do(tmp_path: Path) -> None:
    path = write(tmp_path, "cash: 100000\n")
    code, error = invoke("score", path)
    assert code == 0, error
    result = runner.invoke(app, ["rebalance", str(path), "--output", str(tmp_path / "x.json")])
    assert result.exit_code == 0, result.stderr
    assert "No target set: no trades; every limit holds." in result.stdout
    assert '"trades": []' in (tmp_path / "x.json").read_text(encoding="utf-8")


def test_cash_alone_with_a_target_and_nothing_to_buy_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "cash: 100000\ntarget: {small_cap_share: 0.3}\n")
    code, error = invoke("rebalance", path)
    assert code == 3
    assert error == (
        "error: nothing may be bought: the account holds cash alone, and buy_from ['holdings'] "
        "(less no_buy) names no security to invest it in; add funds, all or tickers to "
        "limits.buy_from\n"
    )


# An account of cash alone with a target, buy_from: [all]: tests/test_signable.py
# test_cash_is_invested_in_positions_that_matter.


# Hostile model folders


def hostile(tmp_path: Path, file: str, row: int, column: str, value: str) -> Path:
    """The mini model with one cell of `file` (row 1 = the first after the header) replaced."""
    folder = tmp_path / "model"
    shutil.copytree(MINI, folder)
    path = folder / file
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[row][rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return folder


CELLS = [
    # file, row, column, value, message after the folder
    (
        "securities.csv",
        1,
        "market_cap",
        "abc",
        "securities.csv:2: market_cap 'abc' must be a "
        "number from 1e-06 to 1e+15; rebuild the model",
    ),
    (
        "securities.csv",
        2,
        "beta",
        "nan",
        "securities.csv:3: beta 'nan' must be a number from -10 to 10; rebuild the model",
    ),
    (
        "securities.csv",
        2,
        "price",
        "-5",
        "securities.csv:3: price -5.0 must be a number from 0 to 1e+06; rebuild the model",
    ),
    (
        "securities.csv",
        3,
        "type",
        "bond",
        "securities.csv:4: type 'bond' must be stock or fund; rebuild the model",
    ),
    (
        "funds/FND.csv",
        1,
        "weight",
        "xyz",
        "funds/FND.csv:2: weight 'xyz' must be a number from 0 to 1; rebuild the model",
    ),
]


@pytest.mark.parametrize(("file", "row", "column", "value", "message"), CELLS)
@pytest.mark.parametrize("how", ["--model", "model:"])
def test_a_hostile_model_cell_is_located(
    tmp_path: Path, file: str, row: int, column: str, value: str, message: str, how: str
) -> None:
    folder = hostile(tmp_path, file, row, column, value)
    if how == "--model":
        code, error = invoke(
            "score", write(tmp_path, f"cash: 1\nholdings:\n{HOLDING}"), how, folder
        )
    else:
        code, error = invoke("validate", write(tmp_path, f"model: {folder}\ncash: 1\n"))
    assert code == 2, error
    assert error == f"error: {folder}/{message}\n"


def test_a_model_missing_a_column(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(MINI, folder)
    path = folder / "securities.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    drop = rows[0].index("beta")
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([row[:drop] + row[drop + 1 :] for row in rows])
    code, error = invoke("model", "check", folder)
    assert code == 2
    assert error == (
        f"error: {path}:1: header lacks columns ['beta']; "
        "rebuild the model with `advisor model build`\n"
    )


def test_a_huge_model_file_is_refused_from_its_size(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(MINI, folder)
    with (folder / "securities.csv").open("ab") as file:
        file.truncate(40 * 1024 * 1024)
    start = time.monotonic()
    code, error = invoke("model", "check", folder)
    assert time.monotonic() - start < 1
    assert code == 2
    refused(error, f"{folder}/securities.csv: file is 40.0 MB, larger than the 32.0 MB", "")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            "".join(
                f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}" if i else "1"] * 10) + "]\n"
                for i in range(10)
            ),
            "model.yaml is not valid YAML (expands to more than 100,000 values)",
        ),
        ("z: " + "[" * 2000 + "\n", "model.yaml is not valid YAML (nests more than 20 levels"),
    ],
    ids=["alias bomb", "deep"],
)
def test_a_hostile_model_yaml_is_refused_quickly(tmp_path: Path, edit: str, message: str) -> None:
    folder = tmp_path / "model"
    shutil.copytree(MINI, folder)
    with (folder / "model.yaml").open("a", encoding="utf-8") as file:
        file.write(edit)
    start = time.monotonic()
    code, error = invoke("model", "check", folder)
    assert time.monotonic() - start < 2
    assert code == 2
    refused(error, f"{folder}/{message}", "rebuild the model")


def test_a_cost_that_is_not_a_number(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(MINI, folder)
    meta = folder / "model.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace(
            "impact_coefficient: 0.1", "impact_coefficient: x"
        ),
        encoding="utf-8",
    )
    code, error = invoke("model", "check", folder)
    assert code == 2
    assert error == (
        f"error: {meta}: costs.impact_coefficient 'x' must be a number from 0 to 10; "
        "rebuild the model with `advisor model build`\n"
    )


def test_model_build_refuses_a_date_that_is_not_one(tmp_path: Path) -> None:
    code, error = invoke("model", "build", "--as-of", "2026-99-99", "--out", tmp_path / "m")
    assert code == 2
    assert error == (
        "error: --as-of '2026-99-99' is not a date; write it as YYYY-MM-DD, e.g. --as-of "
        "2026-02-10\n"
    )
    assert not (tmp_path / "m").exists()


# Proposals


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        '{"trades": ' + "[" * 5_000 + "]" * 5_000 + "}",
    ],
    ids=["list", "object", "trades"],
)
@pytest.mark.parametrize("command", ["review", "apply"])
def test_deeply_nested_json_is_refused(tmp_path: Path, text: str, command: str) -> None:
    path = write(tmp_path, text, "proposal.json")
    extra = ["--fills", str(write(tmp_path, "ticker,side,shares,price\n", "f.csv"))]
    code, error = invoke(command, path, *(extra if command == "apply" else []))
    assert code == 2
    refused(error, f"{path}: JSON", "nests too deeply")


def test_a_huge_proposal_is_refused_from_its_size(tmp_path: Path) -> None:
    path = tmp_path / "proposal.json"
    with path.open("wb") as file:
        file.truncate(100 * 1024 * 1024)
    code, error = invoke("review", path)
    assert code == 2
    refused(error, f"{path}: file is 100.0 MB, larger than the 64.0 MB", "")


def test_a_fund_without_its_holdings_file(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(MINI, folder)
    (folder / "funds" / "FND.csv").unlink()
    code, error = invoke("model", "check", folder)
    assert code == 2
    assert error == (
        f"error: {folder}/securities.csv:6: ticker 'FND' is a fund without its holdings file "
        "funds/FND.csv; rebuild the model with `advisor model build`\n"
    )


@pytest.mark.parametrize("name", ["x" * 300, '"a\\0b"'], ids=["too long", "NUL"])
def test_a_model_name_the_file_system_refuses(tmp_path: Path, name: str) -> None:
    code, error = invoke("score", write(tmp_path, f"model: {name}\ncash: 1\n"))
    assert code == 2
    refused(error, "model '", "is not a model name or folder (a NUL byte, or a name over 255")
    code, error = invoke("model", "check", "y" * 300)
    assert code == 2
    refused(error, "y" * 300, "is not a model folder (no model.yaml)")


def test_10000_unknown_tickers_are_refused_quickly(tmp_path: Path, shipped_model: Any) -> None:
    rows = "".join(f"  - {{ticker: QX{i}, shares: 1}}\n" for i in range(10_000))
    loaded = load_portfolio(write(tmp_path, "cash: 1\nholdings:\n" + rows))
    start = time.monotonic()
    with pytest.raises(InputErrors) as caught:
        resolve_tickers(loaded, shipped_model.tickers, "us-equity")
    assert time.monotonic() - start < 2
    errors = caught.value.errors
    assert len(errors) == 10_000
    assert errors[0].fix == "did you mean 'QXO'?"
    assert all("did you mean" not in e.fix for e in errors[20:])
