"""`advisor score` end to end on a 50-holding portfolio, against the bare import floor.

Run: .venv/bin/python bench/bench_score.py [runs]
Prints medians of whole-process wall times and their ratio, measured in the same run, the
commands taking turns: against the bare import, and against the same import exiting as advisor
does (common.FROZEN_EXIT).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ADVISOR, FROZEN_EXIT, holdings_portfolio, time_commands

STACK = "import pandas, numpy, pydantic, typer"


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory() as folder:
        portfolio = holdings_portfolio(Path(folder) / "fifty.yaml", 50)
        got = time_commands({
            "floor": [sys.executable, "-c", STACK],
            "frozen": [sys.executable, "-c", STACK + FROZEN_EXIT],
            "tables": [*ADVISOR, "score", str(portfolio)],
            "--json": [*ADVISOR, "score", str(portfolio), "--json"],
        }, runs)  # fmt: skip
    floor, frozen = got["floor"], got["frozen"]
    print(f"runs per figure: {runs} (medians; the commands take turns in each round)")
    print(f"import floor (pandas+numpy+pydantic+typer): {floor:.3f} s")
    print(f"the same, exiting with the collector frozen: {frozen:.3f} s")
    for label in ("tables", "--json"):
        seconds = got[label]
        print(
            f"advisor score, 50 holdings, {label:7s}: {seconds:.3f} s "
            f"({seconds / floor:.2f}x floor, {seconds / frozen:.2f}x the frozen floor)"
        )


if __name__ == "__main__":
    main()
