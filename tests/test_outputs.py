"""Outputs never overwrite an input or each other, are checked before any work, and are written
all together or not at all; a file-system fault is exit 2 naming the path and the reason."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import InputError
from advisor.writing import Outputs
from tests.conftest import ROOT

runner = CliRunner()
ROTATION = ROOT / "portfolios" / "rotation.yaml"


def invoke(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stderr


@pytest.fixture
def portfolio(tmp_path: Path) -> Path:
    path = tmp_path / "pf.json"  # a YAML file with a name an output could have
    shutil.copy(ROTATION, path)
    return path


def only_files(folder: Path) -> set[str]:
    """Every name in `folder`, temporary files included."""
    return {p.name for p in folder.iterdir()}


def test_output_over_the_portfolio_file_is_refused(portfolio: Path) -> None:
    before = portfolio.read_bytes()
    code, err = invoke("rebalance", portfolio, "--output", portfolio)
    assert code == 2
    assert err == (
        f"error: --output '{portfolio}' is the portfolio file '{portfolio}': an output never "
        "overwrites an input; give --output another file name\n"
    )
    assert portfolio.read_bytes() == before


@pytest.mark.parametrize("how", ["symlink", "hard link", "dotted path"])
def test_the_portfolio_file_is_found_under_another_name(portfolio: Path, how: str) -> None:
    before = portfolio.read_bytes()
    other = portfolio.parent / "other.json"
    if how == "symlink":
        other.symlink_to(portfolio)
    elif how == "hard link":
        os.link(portfolio, other)
    else:
        (portfolio.parent / "sub").mkdir()
        other = portfolio.parent / "sub" / ".." / portfolio.name
    code, err = invoke("rebalance", portfolio, "--output", other)
    assert code == 2 and f"--output '{other}' is the portfolio file '{portfolio}'" in err
    assert portfolio.read_bytes() == before


def test_two_outputs_to_one_file_are_refused(portfolio: Path) -> None:
    out = portfolio.parent / "x.csv"
    code, err = invoke("rebalance", portfolio, "--output", out, "--basket", out)
    assert code == 2
    assert f"error: --basket '{out}' is the same file as --output '{out}'" in err
    assert not out.exists()


def test_an_output_in_the_model_folder_is_refused(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "models" / "us-equity", tmp_path / "model")
    portfolio = tmp_path / "pf.yaml"
    portfolio.write_text(
        ROTATION.read_text().replace("model: us-equity", f"model: {tmp_path}/model")
    )
    before = only_files(tmp_path / "model" / "funds")
    code, err = invoke("rebalance", portfolio, "--output", tmp_path / "model" / "funds" / "Q.csv")
    assert code == 2 and "is inside the folder of model us-equity" in err
    assert only_files(tmp_path / "model" / "funds") == before  # no new fund


def test_review_output_over_the_proposal_is_refused(portfolio: Path) -> None:
    saved = portfolio.parent / "saved.json"
    assert invoke("rebalance", portfolio, "--output", saved)[0] == 0
    before = saved.read_bytes()
    code, err = invoke("review", saved, "--output", saved)
    assert code == 2
    assert f"--output '{saved}' is the proposal it reviews '{saved}'" in err
    assert saved.read_bytes() == before


def test_a_batch_never_writes_over_its_inputs(tmp_path: Path) -> None:
    shutil.copy(ROTATION, tmp_path / "a.json")  # written as <stem>.json: a.json itself
    shutil.copy(ROTATION, tmp_path / "b.yaml")
    before = (tmp_path / "a.json").read_bytes()
    code, err = invoke("rebalance", tmp_path / "a.json", tmp_path / "b.yaml", "--out-dir", tmp_path)
    assert code == 2
    assert f"--out-dir '{tmp_path / 'a.json'}' is the portfolio file" in err
    assert (tmp_path / "a.json").read_bytes() == before
    assert only_files(tmp_path) == {"a.json", "b.yaml"}  # refused before any work


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("/proc/p.json", "cannot be written: No such file or directory (ENOENT)"),
        ("{tmp}", "is a folder, not a file"),
        ("{tmp}/missing/p.json", "is in a folder that does not exist"),
        ("{tmp}/pf.json/p.json", "is in {tmp}/pf.json, which is a file, not a folder"),
        ("/dev/null", "is not a regular file (a device, FIFO or socket)"),
        ("{tmp}/" + "a" * 300 + ".csv", "cannot be used: File name too long (ENAMETOOLONG)"),
    ],
)
def test_an_unwritable_output_is_refused_before_solving(
    portfolio: Path, target: str, problem: str
) -> None:
    path = target.format(tmp=portfolio.parent)
    code, err = invoke("rebalance", portfolio, "--output", path)
    assert code == 2, err
    assert err.startswith(f"error: --output '{path}' {problem.format(tmp=portfolio.parent)}"), err
    assert only_files(portfolio.parent) == {"pf.json"}


@pytest.mark.parametrize(
    ("out_dir", "problem"),
    [
        ("{tmp}/pf.json", "is a file, not a folder"),
        ("{tmp}/pf.json/out", "is under {tmp}/pf.json, a file, not a folder"),
        ("/proc/out", "cannot be written: No such file or directory (ENOENT)"),
    ],
)
def test_an_unusable_out_dir_is_refused(portfolio: Path, out_dir: str, problem: str) -> None:
    path = out_dir.format(tmp=portfolio.parent)
    code, err = invoke("rebalance", portfolio, "--out-dir", path)
    assert code == 2, err
    assert err.startswith(f"error: --out-dir '{path}' {problem.format(tmp=portfolio.parent)}")


def fail_writing(monkeypatch: pytest.MonkeyPatch, name_part: str, code: int) -> None:
    """Make os.write fail with `code` for temporary files whose name contains `name_part`."""
    write = os.write

    def failing(fd: int, data: bytes | memoryview) -> int:
        if name_part in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(code, os.strerror(code))
        return write(fd, data)

    monkeypatch.setattr(os, "write", failing)


def test_disk_full_leaves_no_output_and_no_temporary_file(
    portfolio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report, basket = portfolio.parent / "report.html", portfolio.parent / "basket.csv"
    basket.write_text("the previous basket\n")
    fail_writing(monkeypatch, ".basket.csv.", errno.ENOSPC)  # the second of the two outputs
    code, err = invoke("rebalance", portfolio, "--output", report, "--basket", basket)
    assert code == 2
    assert err == (
        f"error: --basket '{basket}' could not be written: No space left on device (ENOSPC); "
        "nothing was written; free space or choose another place, then run again\n"
    )
    assert only_files(portfolio.parent) == {"pf.json", "basket.csv"}  # no report, no temp
    assert basket.read_text() == "the previous basket\n"


def test_review_output_fault_is_exit_2(portfolio: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = portfolio.parent / "saved.json"
    assert invoke("rebalance", portfolio, "--output", saved)[0] == 0
    fail_writing(monkeypatch, ".again.md.", errno.EACCES)
    code, err = invoke("review", saved, "--output", portfolio.parent / "again.md")
    assert code == 2 and "could not be written: Permission denied (EACCES)" in err
    assert only_files(portfolio.parent) == {"pf.json", "saved.json"}


def test_outputs_are_renamed_only_when_all_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = Outputs()
    outputs.add(tmp_path / "new" / "deeper" / "a.json", "{}", "--out-dir")
    outputs.add(tmp_path / "new" / "b.csv", "x\n", "--out-dir")
    fail_writing(monkeypatch, ".b.csv.", errno.ENOSPC)
    with pytest.raises(InputError, match=r"b\.csv' could not be written: No space left"):
        outputs.commit()
    assert only_files(tmp_path) == set()  # the folders it made are gone too
    monkeypatch.undo()
    outputs.commit()
    assert (tmp_path / "new" / "deeper" / "a.json").read_text() == "{}"
    assert only_files(tmp_path / "new") == {"deeper", "b.csv"}


def test_a_batch_never_writes_into_a_model_folder(portfolio: Path) -> None:
    funds = ROOT / "models" / "us-equity" / "funds"
    before = only_files(funds)
    code, err = invoke("rebalance", portfolio, "--out-dir", funds)
    assert code == 2 and f"--out-dir '{funds}' is inside the shipped models folder" in err
    assert only_files(funds) == before  # a summary.csv there would become a fund
    model = portfolio.parent / "model"
    shutil.copytree(ROOT / "models" / "us-equity", model)
    code, err = invoke("rebalance", portfolio, "--model", model, "--out-dir", model / "out")
    assert code == 2 and f"is inside the folder of model {model}" in err
    assert not (model / "out").exists()


def test_a_name_as_long_as_the_system_allows_is_written(tmp_path: Path) -> None:
    path = tmp_path / ("a" * 251 + ".csv")  # 255 characters: its temporary name is shortened
    outputs = Outputs()
    outputs.add(path, "x\n", "--output")
    outputs.commit()
    assert only_files(tmp_path) == {path.name}


@pytest.mark.slow
@pytest.mark.parametrize("command", ["rebalance", "review"])
def test_a_fifo_given_as_the_input_is_refused_unopened(tmp_path: Path, command: str) -> None:
    """A real process: reading a FIFO nobody writes to would block it (the timeout fails it)."""
    fifo = tmp_path / "in.json"
    os.mkfifo(fifo)
    args = [sys.executable, "-m", "advisor", command, str(fifo)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert f"error: {fifo}: file is a FIFO (named pipe), not a regular file" in done.stderr


def test_a_reader_that_stops_early_changes_neither_the_work_nor_the_exit_code(
    tmp_path: Path,
) -> None:
    """`advisor ... | head -c 1`: the pipe closes at once; the proposal is still written, and
    the exit code is the proposal's (here 3, a target out of reach), not a broken pipe's."""
    portfolio = tmp_path / "tight.yaml"
    text = (ROOT / "portfolios" / "rotation.yaml").read_text()
    portfolio.write_text(text.replace("max_turnover: 0.40", "max_turnover: 0.02"))
    out = tmp_path / "p.json"
    command = (
        f'"{sys.executable}" -m advisor rebalance "{portfolio}" --output "{out}" 2>&1 '
        '| head -c 1 > /dev/null; exit "${PIPESTATUS[0]}"'
    )
    done = subprocess.run(["bash", "-c", command], cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 3
    assert json.loads(out.read_text())["status"] == "unreachable"
