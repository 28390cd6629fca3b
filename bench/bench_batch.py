"""A batch of accounts in one run against one process per account, and peak memory.

Run: .venv/bin/python bench/bench_batch.py [accounts] [jobs]
Each account holds about 50 stocks with funds as buy candidates. Prints wall time per account for
`advisor rebalance FOLDER --out-dir --jobs N` and for one `advisor rebalance FILE` process per
account, measured in the same run, their ratio, and the batch's peak resident memory.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rebalance import TARGET
from common import ADVISOR, ROOT, holdings_portfolio


def main() -> None:
    accounts = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    jobs = sys.argv[2] if len(sys.argv) > 2 else "2"
    with tempfile.TemporaryDirectory() as folder:
        inputs = Path(folder) / "accounts"
        inputs.mkdir()
        for i in range(accounts):
            holdings_portfolio(inputs / f"account-{i:04d}.yaml", 50 - i % 5, TARGET)
        start = time.perf_counter()
        subprocess.run([*ADVISOR, "rebalance", str(inputs), "--out-dir", f"{folder}/out",
                        "--jobs", jobs], cwd=ROOT, check=False, capture_output=True)
        batch = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        start = time.perf_counter()
        for path in sorted(inputs.iterdir()):
            subprocess.run([*ADVISOR, "rebalance", str(path)], cwd=ROOT, check=False,
                           capture_output=True)
        single = time.perf_counter() - start
    print(f"accounts: {accounts}, jobs: {jobs}")
    print(f"one batch run:           {batch:.1f} s ({batch / accounts:.3f} s per account)")
    print(f"one process per account: {single:.1f} s ({single / accounts:.3f} s per account)")
    print(f"speed-up: {single / batch:.1f}x; peak memory of one process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
