"""What a proposal comes to: its exit code, status and message (DESIGN.md, exit codes).

The one policy the CLI and the batch share: a diagnosis means the target or limits cannot all
be met (exit 3, the best proposal is still written); a failed check without a diagnosis blocks
the proposal (exit 4, nothing written); otherwise a proposal was made or nothing needs doing (0).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from advisor.enums import AccountStatus
from advisor.errors import AdvisorError, InputError, PreTradeCheckFailed, TargetUnreachable

if TYPE_CHECKING:
    from advisor.checks import Check
    from advisor.rebalance import Proposal
    from advisor.trades import TradePlan

# A batch exits with the most severe code among its accounts: bad input first, then blocked.
SEVERITY: Final = (InputError.exit_code, PreTradeCheckFailed.exit_code,
                   TargetUnreachable.exit_code, AdvisorError.exit_code)  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    status: AccountStatus
    exit_code: int = 0
    message: str = ""  # the diagnosis, or the failed checks

    @property
    def written(self) -> bool:
        """Whether the proposal may be written (a blocked one never is)."""
        return self.exit_code != PreTradeCheckFailed.exit_code

    def error(self) -> AdvisorError | None:
        """The error the CLI ends with, or None for exit 0."""
        if self.exit_code == TargetUnreachable.exit_code:
            return TargetUnreachable(self.message)
        if self.exit_code == PreTradeCheckFailed.exit_code:
            return PreTradeCheckFailed(f"the proposal was not written: {self.message}")
        return None


def outcome(proposal: Proposal) -> Outcome:
    return plan_outcome(proposal.plan, proposal.pretrade)


def plan_outcome(plan: TradePlan, pretrade: Iterable[Check] = ()) -> Outcome:
    """The outcome of a plan and its pre-trade checks."""
    if plan.diagnosis is not None:
        return Outcome(
            AccountStatus(plan.status), TargetUnreachable.exit_code, plan.diagnosis.message()
        )
    failed = [c for c in (*pretrade, *plan.checks) if not c.ok]
    if failed:
        names = "; ".join(f"{c.name} ({c.detail or c.value})" for c in failed)
        return Outcome(AccountStatus.BLOCKED, PreTradeCheckFailed.exit_code, names)
    return Outcome(AccountStatus(plan.status))


def worst(codes: Iterable[int]) -> int:
    """The exit code of many outcomes: the most severe among them, 0 if all went well."""
    found = set(codes)
    return next((code for code in SEVERITY if code in found), 0)
