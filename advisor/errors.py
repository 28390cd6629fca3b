"""The error hierarchy. Exit codes are decided from it, at the CLI only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class AdvisorError(Exception):
    """Base of every error the tool raises on purpose. Anything else is a bug (exit 1)."""

    exit_code = 1


@dataclass
class Location:
    """Where a bad value sits: file, line (1-based, None when unknown) and field path."""

    file: Path | str
    line: int | None = None
    field: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else f"{self.file}"
        return f"{where}: {self.field}" if self.field else where


class InputError(AdvisorError):
    """Invalid input (a portfolio file, a model folder, a fills file, an option): exit code 2.

    The message reads `file:line: field 'value' problem; fix`, on one line.
    """

    exit_code = 2

    def __init__(
        self, location: Location, problem: str, *, value: object = None, fix: str = ""
    ) -> None:
        self.location = location
        self.problem = problem
        self.value = value
        self.fix = fix
        shown = "" if value is None else f" {_show(value)}"
        text = f"{location}{shown} {problem}"
        if fix:
            text += f"; {fix}"
        super().__init__(text)


class ModelError(InputError):
    """A model folder that is missing, incomplete or inconsistent."""


class TargetUnreachable(AdvisorError):
    """The target and the limits cannot all be met; the diagnosis says which limits stop it."""

    exit_code = 3


class PreTradeCheckFailed(AdvisorError):
    """A pre-trade check blocked the proposal; the message says what failed."""

    exit_code = 4


class SolverError(AdvisorError):
    """The solver failed in a way no input change explains (a bug or a numerical breakdown)."""

    exit_code = 1


def _show(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
