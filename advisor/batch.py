"""Many accounts in one run: one proposal per portfolio file, on local cores or a Dask cluster.

Work the accounts share (the market model, its exposure tables) is done once per worker process:
models are cached per process, and with local cores the parent loads the model before the
workers fork, so they start with it in memory.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.enums import AccountStatus, CheckName
from advisor.errors import AdvisorError, InputError, Location
from advisor.input_files import require_regular
from advisor.outcome import worst
from advisor.prices import PriceOptions
from advisor.writing import reason

if TYPE_CHECKING:
    from advisor.optimize import Solver  # cvxpy: imported where a batch solves, not before


@dataclass(frozen=True)
class AccountResult:
    """One account's outcome, and its proposal as the JSON `rebalance --output` writes."""

    path: str
    account: str
    status: AccountStatus
    exit_code: int
    trades: int
    turnover: float
    target_reached: bool | None
    summary: str  # the proposal's one sentence (advisor/report/summary.py)
    message: str
    proposal_json: str | None

    def row(self) -> dict[str, Any]:
        """The account's line of summary.csv."""
        row = asdict(self)
        row.pop("proposal_json")
        return row


def portfolio_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, with each folder expanded to its *.yaml and *.yml files, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                raise InputError(
                    Location(path),
                    "holds no .yaml portfolio files",
                    fix="give portfolio files or a folder of them",
                )
            files += found
        else:
            files.append(path)
    return files


def run_accounts(
    paths: list[str],
    scheme: str = "cumulative",
    model: str | None = None,
    prices: PriceOptions | None = None,
) -> list[AccountResult]:
    """Rebalance accounts in turn, sharing one solver: accounts of a shape share one compiled
    problem, re-solved with each account's numbers."""
    from advisor.optimize import Solver

    solver = Solver()
    return [run_account(path, scheme, model, solver, prices) for path in paths]


def run_account(
    path: str,
    scheme: str = "cumulative",
    model: str | None = None,
    solver: Solver | None = None,
    prices: PriceOptions | None = None,
) -> AccountResult:
    """Rebalance one account. Whatever goes wrong in it becomes its row rather than stopping
    the batch: a known error with its exit code, anything else as an internal error (exit 1)."""
    from advisor.market import SizeScheme
    from advisor.outcome import outcome
    from advisor.rebalance import propose, turnover
    from advisor.report.files import proposal_document

    try:
        require_regular_file(Path(path))
        proposal = propose(Path(path), SizeScheme(scheme), model, solver, prices)
        result = outcome(proposal)
        document = proposal_document(proposal)
        proposal_json = document.to_json() if result.written else None
    except AdvisorError as exc:
        return failed(path, exc.exit_code, str(exc))
    except OSError as exc:  # a file-system fault is the user's to fix, as in a single run
        return failed(path, InputError.exit_code, f"{exc.filename or path}: {reason(exc)}")
    except MemoryError:
        raise  # the process itself is in trouble: no row would be trustworthy
    except Exception as exc:
        return failed(path, 1, f"internal error: {type(exc).__name__}: {exc} (a bug: report it)")
    target_failed = any(c.name == CheckName.TARGET and not c.ok for c in proposal.plan.checks)
    has_target = proposal.scored.loaded.portfolio.target is not None
    return AccountResult(
        path=path,
        account=proposal.scored.loaded.portfolio.account,
        status=result.status,
        exit_code=result.exit_code,
        trades=len(proposal.plan.trades),
        turnover=round(turnover(proposal), 6),
        target_reached=(not target_failed) if has_target else None,
        summary=document.summary,
        message=result.message,
        proposal_json=proposal_json,
    )


def failed(path: str, code: int, message: str) -> AccountResult:
    """The row of an account that has no proposal."""
    no_proposal = "No proposal: see the message."
    return AccountResult(
        path, "", AccountStatus.ERROR, code, 0, 0.0, None, no_proposal, message, None
    )


def require_regular_file(path: Path) -> None:
    """Refuse a FIFO, device, socket or folder before opening it: reading one can block."""
    require_regular(path, "give a regular file (in a batch, move it out of the folder)")


def _warm(paths: list[str], model: str | None) -> None:
    """Import the optimizer and load the models the accounts use, so forked workers inherit
    them rather than each paying for it."""
    import advisor.rebalance  # noqa: F401  (cvxpy, about 1.5 s to import)
    from advisor.scoring import load_inputs

    for path in paths:
        try:
            require_regular_file(Path(path))
            load_inputs(Path(path), model)
        except Exception:  # the account's own run reports it
            continue


CHUNKS_PER_WORKER = 4


def chunks(paths: list[str], workers: int) -> list[list[str]]:
    """The paths in order, cut into about CHUNKS_PER_WORKER pieces per worker: each piece
    compiles its problems once, and the pieces keep the workers evenly busy."""
    count = max(1, min(len(paths), workers * CHUNKS_PER_WORKER))
    size = -(-len(paths) // count)
    return [paths[i : i + size] for i in range(0, len(paths), size)]


def run_local(
    paths: list[str],
    jobs: int,
    scheme: str,
    model: str | None,
    progress: Callable[[int], None] = lambda done: None,
    prices: PriceOptions | None = None,
) -> list[AccountResult]:
    pieces = chunks(paths, jobs) if jobs > 1 else [paths]  # serial: one solver for all
    if jobs <= 1:
        results = []
        for piece in pieces:
            results += run_accounts(piece, scheme, model, prices)
            progress(len(piece))
        return results
    _warm(paths[:1], model)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(run_accounts, piece, scheme, model, prices) for piece in pieces]
        results = []
        for piece, future in zip(pieces, futures, strict=True):  # in input order
            results += piece_results(piece, future.result)
            progress(len(piece))
        return results


def piece_results(
    piece: list[str], result: Callable[[], list[AccountResult]]
) -> list[AccountResult]:
    """A piece's rows; if its worker died or failed outside run_account (a crash, a result
    that could not be sent back), a row per account saying so, so the batch still ends."""
    try:
        return result()
    except Exception as exc:
        message = (
            f"internal error: its worker failed: {type(exc).__name__}: {exc} (a bug: report it)"
        )
        return [failed(path, 1, message) for path in piece]


def run_cluster(
    paths: list[str],
    address: str,
    scheme: str,
    model: str | None,
    progress: Callable[[int], None] = lambda done: None,
    prices: PriceOptions | None = None,
) -> list[AccountResult]:
    """The same batch on a Dask distributed cluster ('local' starts a LocalCluster here)."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        if address == "local"
        else None
    )
    try:
        with _connect(Client, cluster if cluster is not None else address, address) as client:
            pieces = chunks(paths, len(client.scheduler_info()["workers"]) or 1)
            futures = client.map(
                run_accounts, pieces, scheme=scheme, model=model, prices=prices, pure=False
            )
            sizes = {future.key: len(piece) for future, piece in zip(futures, pieces, strict=True)}
            for future in as_completed(futures):
                progress(sizes[future.key])
            done = zip(pieces, futures, strict=True)
            return [row for piece, future in done for row in piece_results(piece, future.result)]
    finally:
        if cluster is not None:
            cluster.close()


CONNECT_TIMEOUT_S = 5  # a scheduler that does not answer by then is down or mistyped


def _connect(client: Any, target: Any, address: str) -> Any:
    """A Dask client for `target`; an address that cannot be reached is the user's to fix."""
    try:
        return client(target, timeout=CONNECT_TIMEOUT_S)
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(
            Location("--cluster"),
            f"could not be reached: {exc}",
            value=address,
            fix="check the scheduler's address (tcp://HOST:PORT) and that it is running, "
            "or use --cluster local",
        ) from None


def exit_code(results: Iterable[AccountResult]) -> int:
    return worst(result.exit_code for result in results)
