"""`advisor score` end to end on a 50-holding portfolio, against the bare import floor.

Run: .venv/bin/python bench/bench_score.py [runs]
Prints medians of whole-process wall times and their ratio, measured in the same run, the
commands taking turns.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ADVISOR, holdings_portfolio, time_commands


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory() as folder:
        portfolio = holdings_portfolio(Path(folder) / "fifty.yaml", 50)
        got = time_commands({
            "floor": [sys.executable, "-c", "import pandas, numpy, pydantic, typer"],
            "tables": [*ADVISOR, "score", str(portfolio)],
            "--json": [*ADVISOR, "score", str(portfolio), "--json"],
        }, runs)  # fmt: skip
    floor, table, as_json = got["floor"], got["tables"], got["--json"]
    print(f"runs per figure: {runs} (medians; the commands take turns in each round)")
    print(f"import floor (pandas+numpy+pydantic+typer): {floor:.3f} s")
    for label, seconds in (("tables", table), ("--json", as_json)):
        ratio = seconds / floor
        print(f"advisor score, 50 holdings, {label:7s}: {seconds:.3f} s ({ratio:.2f}x floor)")


if __name__ == "__main__":
    main()
