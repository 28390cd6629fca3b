"""A batch of accounts in one run against one process per account, and peak memory.

Run: .venv/bin/python bench/bench_batch.py [--accounts 1000] [--jobs 2] [--sample 20] [--lots]
Each account holds 45-50 stocks spread over the size range plus IWM and IVV, funds as buy
candidates, a 0.30 small-cap target; with --lots each holding is 10 tax lots (a taxable
account: tax-aware and tax-blind plans). Run date 2026-11-28. Prints the wall time of one
`advisor rebalance FOLDER --out-dir --jobs N` run over every account, and the median wall time of
one `advisor rebalance FILE` process over `--sample` of the accounts (every account when the
sample is as large), scaled to all accounts; their ratio; the batch's peak resident memory (the
largest of its processes). Both measured in the same run.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rebalance import TARGET
from bench_tax_speed import RUN_DATE, with_lots
from common import ADVISOR, ROOT, compile_advisor, holdings_portfolio


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument(
        "--lots", action="store_true", help="10 tax lots per holding (bench_tax_speed.py's)"
    )
    args = parser.parse_args()
    compile_advisor()
    with tempfile.TemporaryDirectory() as folder:
        inputs = Path(folder) / "accounts"
        inputs.mkdir()
        for i in range(args.accounts):
            path = holdings_portfolio(inputs / f"account-{i:04d}.yaml", 50 - i % 5, TARGET)
            if args.lots:
                with_lots(path, seed=i)
        day = ["--date", RUN_DATE.isoformat()]
        start = time.perf_counter()
        done = subprocess.run([*ADVISOR, "rebalance", str(inputs), "--out-dir", f"{folder}/out",
                               "--jobs", str(args.jobs), *day], cwd=ROOT, check=False,
                              capture_output=True, text=True)  # fmt: skip
        batch = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        written = len(list(Path(folder, "out").glob("*.json")))
        files = sorted(inputs.iterdir())
        step = max(1, len(files) // args.sample)
        single = []
        for path in files[::step][: args.sample]:
            start = time.perf_counter()
            subprocess.run([*ADVISOR, "rebalance", str(path), *day], cwd=ROOT, check=False,
                           capture_output=True)  # fmt: skip
            single.append(time.perf_counter() - start)
    each = statistics.median(single)
    print(
        f"accounts: {args.accounts}{' with lots' if args.lots else ''}, jobs: {args.jobs}; "
        f"batch exit code {done.returncode}, "
        f"{written} proposals written"
    )
    print(
        f"one batch run:           {batch:.1f} s ({batch / args.accounts * 1000:.0f} ms per "
        "account, start-up included)"
    )
    print(
        f"one process per account: {each:.2f} s each (median of {len(single)}), "
        f"{each * args.accounts:.0f} s for {args.accounts}"
    )
    print(
        f"speed-up: {each * args.accounts / batch:.1f}x; peak memory of one process: "
        f"{peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
