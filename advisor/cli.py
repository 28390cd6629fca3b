"""Thin typer commands: parse, call one function, render. Exit codes are decided here only."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from advisor.errors import AdvisorError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Where a portfolio stands on size and small-cap risks, and whole-share "
    "trades to tilt it. Never places orders.",
)
model_app = typer.Typer(no_args_is_help=True, help="Build, show and check market models.")
app.add_typer(model_app, name="model")

T = TypeVar("T")
PortfolioArg = Annotated[Path, typer.Argument(help="Portfolio YAML file.", show_default=False)]
SchemeOpt = Annotated[str, typer.Option("--scheme", help="Size bands: cumulative or russell.")]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="Model name or folder; overrides the portfolio file's model."),
]


def _run(action: Callable[[], T]) -> T:
    """Run a command body; a known error prints one message and exits with its code."""
    try:
        return action()
    except AdvisorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except (KeyboardInterrupt, typer.Exit):
        raise
    except Exception as exc:
        typer.echo(
            f"internal error: {type(exc).__name__}: {exc} (a bug: please report it)", err=True
        )
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
) -> None:
    """Where the portfolio stands: size bands, size score, small-cap risks, sectors."""

    def body() -> None:
        from advisor.scoring import score as score_portfolio
        from advisor.scoring import score_dict

        scored = score_portfolio(portfolio, _scheme(scheme), model)
        if as_json:
            _print_json(score_dict(scored))
            return
        from advisor.report.terminal import print_view, score_view

        print_view(score_view(scored, _user_limits(scored.loaded.portfolio.limits)))

    _run(body)


def _user_limits(limits: Any) -> dict[str, float | None]:
    return {
        "refinancing": limits.refinancing_max,
        "floating_debt": limits.floating_debt_max,
        "weak_coverage": limits.weak_coverage_max,
        "unprofitable": limits.unprofitable_max,
        "economic_sensitivity": limits.economic_sensitivity_max,
    }


@app.command()
def validate(portfolio: PortfolioArg, model: ModelOpt = None) -> None:
    """Check a portfolio file against the schema and the model; print errors only."""

    def body() -> None:
        from advisor.scoring import load_inputs, positions

        loaded, market = load_inputs(portfolio, model)
        positions(loaded, market)

    _run(body)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the portfolio file (for editors)."""
    from advisor.portfolio_file import portfolio_schema

    _print_json(portfolio_schema())


@model_app.command("build")
def model_build(
    data: Annotated[Path, typer.Option(help="Folder of public exports.")] = Path("../shared/data"),
    out: Annotated[Path, typer.Option(help="Model folder to write.")] = Path("models/us-equity"),
    name: Annotated[str, typer.Option(help="Model name.")] = "us-equity",
    as_of: Annotated[str, typer.Option(help="As-of date (the screener's).")] = "2026-02-10",
) -> None:
    """Build a model folder from iShares exports, the Nasdaq screener and fundamentals."""

    def body() -> None:
        from advisor.modelbuild.build import Sources, build_model, write_model

        built = build_model(Sources.in_folder(data), name, date.fromisoformat(as_of))
        write_model(built, out)
        typer.echo(f"wrote {out}: {len(built.securities):,} securities, {len(built.funds)} funds")

    _run(body)


@model_app.command("show")
def model_show(
    model: Annotated[str, typer.Argument(help="Model name or folder.")] = "us-equity",
) -> None:
    """As-of date, sources, counts, and how much is estimated versus reported."""

    def body() -> None:
        from advisor.market import load_model, resolve_model_folder
        from advisor.modelcheck import source_counts
        from advisor.report.terminal import model_view, print_view

        market = load_model(resolve_model_folder(model))
        print_view(model_view(market.meta, source_counts(market)))

    _run(body)


@model_app.command("check")
def model_check(
    folder: Annotated[Path, typer.Argument(help="Model folder.")] = Path("models/us-equity"),
) -> None:
    """Validate a model folder: files, columns, fund weights, and its headline figures."""

    def body() -> None:
        from advisor.market import load_model
        from advisor.modelcheck import check_model

        for line in check_model(load_model(folder)):
            typer.echo(line)

    _run(body)


def main() -> None:  # pragma: no cover - console entry point
    app()
