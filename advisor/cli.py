"""Thin typer commands: parse, call one function, render. Exit codes are decided here only."""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from advisor.errors import AdvisorError
from advisor.text import plain

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's plain help: flags without a type, values with their metavar
    help="Where a portfolio stands on size and small-cap risks, and whole-share "
    "trades to tilt it. Never places orders.",
)
model_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Build, show and check market models."
)
app.add_typer(model_app, name="model")

T = TypeVar("T")
MAX_LISTED = 30  # skipped rows listed one a line; the rest counted
PortfolioArg = Annotated[
    Path, typer.Argument(metavar="PORTFOLIO", help="Portfolio YAML file.", show_default=False)
]
SchemeOpt = Annotated[str, typer.Option("--scheme", help="Size bands: cumulative or russell.")]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="Model name or folder; overrides the portfolio file's model."),
]


PricesOpt = Annotated[
    Path | None,
    typer.Option(
        "--prices",
        metavar="FILE",
        help="CSV of ticker, price and optional date (YYYY-MM-DD): these prices come first.",
    ),
]
DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date", metavar="YYYY-MM-DD", help="The run date prices are aged against (default today)."
    ),
]
MaxAgeOpt = Annotated[
    int,
    typer.Option(
        "--max-price-age",
        metavar="DAYS",
        min=0,
        help="Warn about prices older than this many days before the run date.",
    ),
]


def _version(value: bool) -> None:
    if value:
        from advisor import __version__

        typer.echo(f"advisor {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass  # the options every command shares; the app's help says what it does


def _wrote(paths: list[Path]) -> None:
    """One line on standard error for each file a command wrote."""
    for path in paths:
        _echo(f"wrote {path}", err=True)


def _price_options(prices: Path | None, run_date: str | None, max_age: int) -> Any:
    from advisor.errors import InputError, Location
    from advisor.prices import PriceOptions

    day = None
    if run_date is not None:
        try:
            day = date.fromisoformat(run_date)
        except ValueError:
            raise InputError(
                Location("--date"),
                "is not a date",
                value=run_date,
                fix="write it as YYYY-MM-DD, e.g. --date 2026-11-27",
            ) from None
    return PriceOptions(prices, day or date.today(), max_age)


def _echo(text: str, err: bool = False) -> None:
    """Print a line holding user text (a path, a ticker, a value) as plain text: its control
    characters escaped, line breaks kept (a diagnosis spans lines)."""
    typer.echo(plain(text, keep="\n"), err=err)


def _run(action: Callable[[], T]) -> T:
    """Run a command body; a known error prints one message and exits with its code. A
    file-system fault the system reports (no space, no permission) is the user's: exit 2."""
    try:
        return action()
    except AdvisorError as exc:
        _echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except (KeyboardInterrupt, typer.Exit):
        raise
    except OSError as exc:
        if exc.errno is None:  # not the system's refusal: treat as any other bug
            _internal(exc)
        from advisor.writing import reason

        _echo(f"error: {exc.filename or 'a file'}: {reason(exc)}", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:
        _internal(exc)


def _internal(exc: Exception) -> NoReturn:
    _echo(f"internal error: {type(exc).__name__}: {exc} (a bug: please report it)", err=True)
    raise typer.Exit(1) from None


def _scheme(name: str) -> Any:
    from advisor.errors import InputError, Location
    from advisor.market import SizeScheme

    try:
        return SizeScheme(name)
    except ValueError:
        raise InputError(
            Location("--scheme"),
            "is not a size scheme",
            value=name,
            fix="use cumulative or russell",
        ) from None


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


@app.command()
def score(
    portfolio: PortfolioArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    scheme: SchemeOpt = "cumulative",
    model: ModelOpt = None,
    prices: PricesOpt = None,
    run_date: DateOpt = None,
    max_price_age: MaxAgeOpt = 5,
) -> None:
    """Where the portfolio stands: size bands, size score, small-cap risks, sectors."""

    def body() -> None:
        from advisor.scoring import score as score_portfolio
        from advisor.scoring import score_dict

        options = _price_options(prices, run_date, max_price_age)
        scored = score_portfolio(portfolio, _scheme(scheme), model, options)
        if as_json:
            _print_json(score_dict(scored))
            return
        from advisor.report.terminal import print_view, score_view

        print_view(score_view(scored))
        for line in scored.warnings():
            _echo(line, err=True)

    _run(body)


@app.command()
def rebalance(
    portfolios: Annotated[
        list[Path],
        typer.Argument(
            metavar="PORTFOLIO...",
            help="Portfolio YAML file; several files or folders make a batch (needs --out-dir).",
            show_default=False,
        ),
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out-dir", help="Batch: write one proposal JSON per account and summary.csv here."
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", "-j", min=1, help="Batch: accounts solved in parallel on local cores."
        ),
    ] = 1,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="Batch: run on a Dask cluster at this address ('local' starts one).",
        ),
    ] = None,
    output: Annotated[
        list[Path] | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the proposal: .csv trades, .json everything, .html a "
            "self-contained review report, .md a short summary (repeatable).",
        ),
    ] = None,
    basket: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Write a broker basket CSV (symbol, side, quantity, order type).",
        ),
    ] = None,
    basket_format: Annotated[
        str,
        typer.Option(
            "--basket-format",
            metavar="FORMAT",
            help="The basket's layout: default, or ibkr (Interactive Brokers BasketTrader).",
        ),
    ] = "default",
    limit_band: Annotated[
        float | None,
        typer.Option(
            "--limit-band",
            metavar="BPS",
            help="Basket orders become LIMIT orders at price x "
            "(1 + BPS/10000) to buy and x (1 - BPS/10000) to sell, rounded to cents.",
        ),
    ] = None,
    allow_stale_prices: Annotated[
        bool,
        typer.Option(
            "--allow-stale-prices",
            help="Write a --limit-band basket even when a trade's price is older than "
            "--max-price-age.",
        ),
    ] = False,
    scheme: SchemeOpt = "cumulative",
    model: ModelOpt = None,
    prices: PricesOpt = None,
    run_date: DateOpt = None,
    max_price_age: MaxAgeOpt = 5,
) -> None:
    """Propose whole-share trades toward the target within the limits. Places no orders."""

    if out_dir is not None or len(portfolios) > 1 or portfolios[0].is_dir():
        code = _run(
            lambda: _rebalance_batch(
                portfolios,
                out_dir,
                jobs,
                cluster,
                scheme,
                model,
                output or [],
                basket,
                basket_format,
                _price_options(prices, run_date, max_price_age),
            )
        )
        if code:
            raise typer.Exit(code)
        return
    portfolio = portfolios[0]

    def body() -> None:
        from advisor.batch import require_regular_file
        from advisor.outcome import outcome
        from advisor.rebalance import propose
        from advisor.report.files import (
            OUTPUTS,
            BasketFormat,
            basket_csv,
            basket_lots_csv,
            check_limit_band,
            check_output_path,
            lots_path,
            proposal_document,
            proposal_text,
            refuse_stale_limits,
        )
        from advisor.report.review import saved_view
        from advisor.report.terminal import print_view
        from advisor.writing import Outputs, refuse_inside, refuse_overwrites

        outputs = output or []
        targets = [("--output", path) for path in outputs]
        targets += [("--basket", basket)] if basket else []
        if basket is not None:  # the lots companion, written beside the basket when sells have lots
            targets.append(("--basket", lots_path(basket)))
        for option, path in targets:
            check_output_path(path, option, OUTPUTS if option == "--output" else (".csv",))
        refuse_overwrites(targets, [("the portfolio file", portfolio)])
        _refuse_model_folders(targets, model)
        require_regular_file(portfolio)
        layout = _basket_format(basket_format, BasketFormat)
        check_limit_band(limit_band, basket, layout)
        options = _price_options(prices, run_date, max_price_age)
        proposal = propose(portfolio, _scheme(scheme), model, prices=options)
        market = proposal.scored.model
        refuse_inside(targets, market.folder, f"the folder of model {market.name}")
        # One view for a fresh and a saved proposal: both render the proposal document.
        document = proposal_document(proposal)
        print_view(saved_view(document))
        result = outcome(proposal)
        if result.written and basket is not None:
            refuse_stale_limits(proposal, limit_band, allow_stale_prices)
        if result.written:  # out of reach still writes the best proposal, then says why
            files = Outputs()
            for path in outputs:
                files.add(path, proposal_text(proposal, document, path), "--output")
            if basket is not None:
                files.add(basket, basket_csv(proposal, limit_band, layout), "--basket")
                lots = basket_lots_csv(document, replacing=lots_path(basket).exists())
                if lots is not None:
                    files.add(lots_path(basket), lots, "--basket")
            files.commit()
            _wrote(files.paths)
        error = result.error()
        if error is not None:
            raise error

    _run(body)


def _basket_format(name: str, formats: Any) -> Any:
    from advisor.errors import InputError, Location

    try:
        return formats(name)
    except ValueError:
        names = ", ".join(f.value for f in formats)
        raise InputError(
            Location("--basket-format"), "is not a basket format", value=name, fix=f"use {names}"
        ) from None


def _refuse_model_folders(targets: list[tuple[str, Path]], model: str | None) -> None:
    """Refuse outputs inside the shipped models or the --model folder: a file written there
    would change the model the next run reads. (The folder a portfolio file names is checked
    once it is known.)"""
    from advisor.market.model import SHIPPED, resolve_model_folder
    from advisor.writing import refuse_inside

    refuse_inside(targets, SHIPPED, "the shipped models folder")
    if model is not None:
        refuse_inside(targets, resolve_model_folder(model), f"the folder of model {model}")


def _rebalance_batch(
    portfolios: list[Path],
    out_dir: Path | None,
    jobs: int,
    cluster: str | None,
    scheme: str,
    model: str | None,
    output: list[Path],
    basket: Path | None,
    basket_format: str,
    prices: Any,
) -> int:
    from advisor.errors import InputError, Location

    if out_dir is None:
        raise InputError(
            Location("--out-dir"),
            "is needed for several portfolios",
            fix="give a folder for the proposals, e.g. --out-dir proposals",
        )
    given = [name for name, value in (("--output", output), ("--basket", basket)) if value]
    given += ["--basket-format"] if basket_format != "default" else []
    if given:
        raise InputError(
            Location(given[0]),
            "applies to one portfolio only",
            fix="use --out-dir for a batch (it writes each account's proposal as JSON)",
        )
    from collections import Counter

    from rich.console import Console
    from rich.progress import Progress

    from advisor import batch
    from advisor.report.files import batch_summary_csv
    from advisor.report.terminal import batch_view, print_view
    from advisor.writing import Outputs, check_file_target, check_folder_target, refuse_overwrites

    _scheme(scheme)
    files = batch.portfolio_files(portfolios)
    stems = [f.stem for f in files]
    clash = sorted(s for s, n in Counter(stems).items() if n > 1)  # linear: batches are large
    if clash:
        raise InputError(
            Location(str(files[stems.index(clash[0])])),
            "shares its name with another portfolio in the batch",
            value=clash[0],
            fix="rename one: each account's proposal is written as <name>.json",
        )
    check_folder_target(out_dir, "--out-dir")
    _refuse_model_folders([("--out-dir", out_dir)], model)
    targets = [out_dir / f"{f.stem}.json" for f in files] + [out_dir / "summary.csv"]
    for target in targets if out_dir.is_dir() else ():
        check_file_target(target, "--out-dir", probe=False)  # the folder was tried above
    refuse_overwrites(
        [("--out-dir", target) for target in targets],
        [("the portfolio file", file) for file in files],
    )
    paths = [str(f) for f in files]
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("accounts", total=len(paths))

        def step(done: int) -> None:
            progress.advance(task, done)

        if cluster is not None:
            results = batch.run_cluster(paths, cluster, scheme, model, step, prices)
        else:
            results = batch.run_local(paths, jobs, scheme, model, step, prices)
    outputs = Outputs()
    for file, result in zip(files, results, strict=True):
        if result.proposal_json is not None:
            outputs.add(out_dir / f"{file.stem}.json", result.proposal_json, "--out-dir")
    outputs.add(out_dir / "summary.csv", batch_summary_csv(results), "--out-dir")
    outputs.commit()
    proposals = len(outputs.paths) - 1
    _echo(f"wrote {out_dir / 'summary.csv'} and {proposals} proposal(s) in {out_dir}", err=True)
    print_view(batch_view(results))
    return batch.exit_code(results)


ProposalArg = Annotated[
    Path,
    typer.Argument(
        metavar="PROPOSAL",
        help="Proposal JSON from `rebalance --output x.json`.",
        show_default=False,
    ),
]


@app.command()
def review(
    proposal: ProposalArg,
    output: Annotated[
        list[Path] | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Also write it again: .html report, .md summary or .json (repeatable).",
        ),
    ] = None,
) -> None:
    """Show a saved proposal again: verdict, trades, before and after, checks."""

    def body() -> None:
        from advisor.batch import require_regular_file
        from advisor.proposal import read_proposal
        from advisor.report.files import DOCUMENT_WRITERS, check_output_path, document_text
        from advisor.report.review import saved_view
        from advisor.report.terminal import print_view
        from advisor.writing import Outputs, refuse_overwrites

        outputs = output or []
        for path in outputs:
            check_output_path(path, "--output", tuple(DOCUMENT_WRITERS))
        targets = [("--output", path) for path in outputs]
        refuse_overwrites(targets, [("the proposal it reviews", proposal)])
        require_regular_file(proposal)
        document = read_proposal(proposal)
        print_view(saved_view(document))
        if outputs:
            files = Outputs()
            for path in outputs:
                files.add(path, document_text(document, path), "--output")
            files.commit()
            _wrote(files.paths)

    _run(body)


@app.command()
def apply(
    proposal: ProposalArg,
    fills: Annotated[
        Path,
        typer.Option(
            "--fills",
            help="CSV of executed fills: ticker,side,shares,price[,date], the basket's "
            "columns, or a broker's trade export (Fidelity, Schwab, Vanguard, IBKR).",
            show_default=False,
        ),
    ],
    portfolio: Annotated[
        Path | None,
        typer.Option(
            "--portfolio", help="The portfolio file, if not at the proposal's inputs.portfolio."
        ),
    ] = None,
    lots: Annotated[
        str | None,
        typer.Option(
            "--lots",
            help="Which tax lots a sale takes: the proposal's (default; hifo where it lists "
            "none), or by a rule: hifo (highest cost first), fifo, lifo.",
        ),
    ] = None,
    allow_price_move: Annotated[
        bool,
        typer.Option(
            "--allow-price-move",
            help="Accept fill prices more than 20% away from the proposal's price.",
        ),
    ] = False,
) -> None:
    """Update the portfolio file with executed fills (keeps comments; old file kept as .bak)."""

    def body() -> None:
        from advisor.errors import InputError, Location
        from advisor.fills import LotRule, apply_fills

        try:
            rule = None if lots is None else LotRule(lots)
        except ValueError:
            raise InputError(
                Location("--lots"), "is not a lot rule", value=lots, fix="use hifo, fifo or lifo"
            ) from None
        done = apply_fills(
            proposal, fills, portfolio=portfolio, lot_rule=rule, allow_price_move=allow_price_move
        )
        if done.layout != "plain":
            _echo(f"read {fills} as {done.layout}", err=True)
        for skipped in done.skipped[:MAX_LISTED]:
            _echo(f"  skipped {skipped}", err=True)
        if len(done.skipped) > MAX_LISTED:
            _echo(f"  and {len(done.skipped) - MAX_LISTED} more row(s) skipped", err=True)
        for ticker, (before, after) in done.shares.items():
            _echo(f"{ticker:<8} {before:>12,.6g} -> {after:,.6g} shares")
        typer.echo(f"{'cash':<8} {done.cash_before:>12,.2f} -> {done.cash_after:,.2f}")
        if done.tax is not None:
            typer.echo(
                f"tax: realized short-term {done.tax.short_term:,.2f}, long-term "
                f"{done.tax.long_term:,.2f} added to tax.realized_this_year; "
                f"{done.tax.loss_sales} loss sale(s) added to tax.recent_sales, "
                f"{done.tax.dropped} older than 61 days dropped"
            )
        _echo(
            f"updated {done.portfolio} with {len(done.fills)} fill(s); "
            f"the previous file is {done.backup}"
        )
        _wrote([done.portfolio, done.backup])

    _run(body)


@app.command("import")
def import_export(
    export: Annotated[
        Path,
        typer.Argument(
            help="A positions export: Fidelity, Charles Schwab, Vanguard, Interactive Brokers "
            "(Activity Statement or Flex Query) or a plain CSV of ticker and shares.",
            show_default=False,
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="The portfolio file to write.")] = Path(
        "portfolio.yaml"
    ),
    account: Annotated[
        str | None,
        typer.Option(
            "--account", help="The account to import (name or number, or a unique part of it)."
        ),
    ] = None,
    prices_out: Annotated[
        Path | None,
        typer.Option(
            "--prices-out",
            metavar="FILE",
            help="The quotes CSV of the export's prices (default: <out stem>-prices.csv).",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="The model whose tickers the holdings are matched to, written as model: "
            "(default us-equity).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing output files.")] = False,
) -> None:
    """Write a portfolio file from a broker's positions export (and its prices as a quotes
    file); every row not imported is listed with the reason."""

    def body() -> None:
        from advisor.brokers.importer import import_positions

        done = import_positions(
            export, out, prices_out=prices_out, account=account, model=model, force=force
        )
        imported = done.imported
        for line in done.notes:
            _echo(line, err=True)
        _echo(
            f"wrote {done.out}: {len(imported.holdings)} holdings, cash {imported.cash:,.2f} "
            f"({imported.export.broker}, account {imported.account.label})",
            err=True,
        )
        if done.prices_out is not None:
            _echo(f"wrote {done.prices_out}: {len(imported.prices)} prices as of "
                  f"{imported.as_of.isoformat()}", err=True)  # fmt: skip

    _run(body)


@app.command()
def validate(portfolio: PortfolioArg, model: ModelOpt = None, run_date: DateOpt = None) -> None:
    """Check a portfolio file against the schema and the model; print errors, and warnings
    for a file without a target and for tax entries no rule uses."""

    def body() -> None:
        from advisor.portfolio.loading import check_tax
        from advisor.prices import MAX_PRICE_AGE_DAYS
        from advisor.scoring import load_book, load_inputs, positions

        options = _price_options(None, run_date, MAX_PRICE_AGE_DAYS)
        loaded, market = load_inputs(portfolio, model)
        positions(loaded, market, load_book(loaded, market, options))
        for line in check_tax(loaded, options.day):
            _echo(line, err=True)
        if loaded.portfolio.target is None:  # valid, but rebalance will not aim it anywhere
            _echo(
                f"warning: {loaded.path}: no target: rebalance will only repair broken limits; "
                "add `target: {small_cap_share: 0.25, band: 0.02}` to aim the portfolio",
                err=True,
            )

    _run(body)


class SchemaOf(StrEnum):
    portfolio = "portfolio"
    proposal = "proposal"


@app.command()
def schema(
    of: Annotated[
        SchemaOf,
        typer.Argument(help="portfolio (the YAML file) or proposal (the JSON of --output x.json)."),
    ] = SchemaOf.portfolio,
) -> None:
    """Print a JSON Schema: of the portfolio file (for editors), or of the proposal document."""
    if of == SchemaOf.proposal:
        from advisor.proposal import proposal_schema

        _print_json(proposal_schema())
        return
    from advisor.portfolio.loading import portfolio_schema

    _print_json(portfolio_schema())


@model_app.command("build")
def model_build(
    data: Annotated[
        Path | None,
        typer.Option(
            help="Folder of public exports, searched recursively; files are recognised by their "
            "content. Default: ../shared/data, unless files are named below or --from is given."
        ),
    ] = None,
    screener: Annotated[
        Path | None, typer.Option(help="The Nasdaq screener export to use.")
    ] = None,
    holdings: Annotated[
        list[str] | None,
        typer.Option(
            metavar="[TICKER=]FILE",
            help="A fund holdings export; TICKER= names its fund (repeatable).",
        ),
    ] = None,
    fundamentals: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="FILE",
            help="A fundamentals export: snapshot, 10-K, company or sector list (repeatable).",
        ),
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="An earlier model whose sources stand in for any not given (default: --out's).",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Model folder to write.")] = Path("models/us-equity"),
    name: Annotated[str, typer.Option(help="Model name.")] = "us-equity",
    as_of: Annotated[
        str | None, typer.Option(help="As-of date. Default: the screener's date.")
    ] = None,
) -> None:
    """Build a model folder from iShares exports, the Nasdaq screener and fundamentals."""

    def body() -> None:
        from advisor.errors import InputError, Location
        from advisor.market.build import Sources, build_model, write_model
        from advisor.market.dates import MODIFIED

        day = None
        if as_of is not None:
            try:
                day = date.fromisoformat(as_of)
            except ValueError:
                raise InputError(
                    Location("--as-of"),
                    "is not a date",
                    value=as_of,
                    fix="write it as YYYY-MM-DD, e.g. --as-of 2026-02-10",
                ) from None
        named = screener or holdings or fundamentals or previous
        folder = data if data is not None or named else Path("../shared/data")
        earlier = previous if previous is not None else out
        if previous is not None and not (previous / "model.yaml").is_file():
            raise InputError(
                Location(previous, None, "--from"),
                "is not a model folder (it has no model.yaml)",
                fix="give the folder of an earlier model, e.g. --from models/us-equity",
            )
        sources = Sources.gather(
            folder,
            screener=screener,
            holdings=tuple(holdings or ()),
            fundamentals=tuple(fundamentals or ()),
            previous=earlier if (earlier / "model.yaml").is_file() else None,
        )
        built = build_model(sources, name, day)
        write_model(built, out)
        _wrote([out])
        funds = len(built.funds) + len(built.meta.get("stand_ins", {}))
        _echo(f"wrote {out}: {len(built.securities):,} securities, {funds} funds")
        [screened] = [r for r in built.meta["sources"] if r["kind"] == "screener"]
        if screened.get("date_from") == MODIFIED:
            _echo(
                f"warning: the screener {screened['file']} states no date; it is dated by its "
                f"modification time ({screened['date']}), and so are its prices; if it was "
                "downloaded on another day, give --as-of YYYY-MM-DD",
                err=True,
            )
        for record in built.meta["sources"]:
            carried = f", carried from {record['carried_from']}" if "carried_from" in record else ""
            how = f" ({record['date_from']})" if "date_from" in record else ""
            _echo(f"  {record['kind']:<13} {record['file']}  {record['date']}{how}{carried}")
        for skipped in built.meta["passed_over"]:
            _echo(
                f"  passed over: {skipped['file']} ({skipped['kind']}, {skipped['date']}): "
                f"{skipped['why']}"
            )
        for path in sources.unclassified:
            _echo(f"  not recognised as an export: {path}")

    _run(body)


@model_app.command("show")
def model_show(
    model: Annotated[str, typer.Argument(help="Model name or folder.")] = "us-equity",
) -> None:
    """As-of date, sources, counts, and how much is estimated versus reported."""

    def body() -> None:
        from advisor.market import load_model, resolve_model_folder
        from advisor.market.check import source_counts
        from advisor.report.terminal import model_view, print_view

        market = load_model(resolve_model_folder(model))
        print_view(model_view(market.meta, source_counts(market)))

    _run(body)


@model_app.command("check")
def model_check(
    folder: Annotated[Path, typer.Argument(help="Model folder.")] = Path("models/us-equity"),
) -> None:
    """Validate a model folder: files, columns, fund weights, its headline figures, and the
    published aggregates beside the model's own."""

    def body() -> None:
        from advisor.market import load_model
        from advisor.market.check import check_model, published_aggregates

        market = load_model(folder)
        for line in [*check_model(market), *published_aggregates(market)]:
            _echo(line)

    _run(body)


@model_app.command("add-fund")
def model_add_fund(
    ticker: Annotated[str, typer.Argument(help="The fund's ticker.", show_default=False)],
    holdings: Annotated[
        Path,
        typer.Argument(
            help="Its holdings CSV: an issuer's export (iShares, SPDR, Vanguard, Invesco, "
            "Schwab) or ticker,weight.",
            show_default=False,
        ),
    ],
    model: Annotated[Path, typer.Option("--model", help="Model folder.")] = Path(
        "models/us-equity"
    ),
    name: Annotated[str, typer.Option(help="The fund's name (default: the file's).")] = "",
    price: Annotated[
        float | None, typer.Option(help="Its price per share (default: the file's NAV, if any).")
    ] = None,
    price_date: Annotated[
        str | None, typer.Option("--price-date", help="The price's date, YYYY-MM-DD.")
    ] = None,
) -> None:
    """Add a fund to a model folder from its holdings file, looked through to the model's
    stocks; holdings the model lacks are listed with their weight."""

    def body() -> None:
        from advisor.errors import InputError, Location
        from advisor.market.add_fund import add_fund

        dated = None
        if price is not None or price_date is not None:
            both = "give both, e.g. --price 512.30 --price-date 2026-11-27"
            if price is None or not 0 < price <= 1e6:
                problem = "must be a price above 0 (at most 1e6), given with --price-date"
                raise InputError(Location("--price"), problem, value=price, fix=both)
            try:
                dated = (price, date.fromisoformat(price_date or ""))
            except ValueError:
                where = Location("--price-date")
                raise InputError(where, "is not a date", value=price_date, fix=both) from None
        done = add_fund(model, ticker, holdings, name, dated)
        fund = done.fund
        _echo(
            f"{'replaced' if done.replaced else 'added'} {fund.ticker} ({fund.name}) in "
            f"{model}: {len(fund.weights):,} holdings matched, "
            f"{fund.unmatched_share:.1%} of its weight in holdings the model lacks"
        )
        for line in fund.unmatched.head(20).itertuples():
            _echo(f"  not in the model: {line.ticker or '-'} {line.name} {line.weight:.2%}")
        if len(fund.unmatched) > 20:
            _echo(f"  and {len(fund.unmatched) - 20} more")

    _run(body)


class ReaderGone:
    """A standard stream that outlives its reader: `advisor score x.yaml | head` closes the
    pipe early, and the command still finishes its work (its files, its exit code) with the
    rest of its printing sent to /dev/null, rather than ending in BrokenPipeError."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()

    def _gone(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())  # what is still buffered goes there too
        os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main() -> None:
    """The console entry point (`advisor`, `python -m advisor`). It ends the process: never
    call it in-process (tests invoke `app`)."""
    sys.stdout, sys.stderr = ReaderGone(sys.stdout), ReaderGone(sys.stderr)
    try:
        app()
    finally:
        # Every object lives until exit anyway. Frozen, they are skipped by the collections the
        # interpreter runs while tearing down modules: 0.2-0.3 s once pandas is loaded.
        gc.freeze()
