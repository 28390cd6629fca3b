"""What each start-up trick buys: `advisor` with the trick and with it switched off.

Run: .venv/bin/python bench/bench_startup.py [runs]
Each line is a pair of whole-process commands timed in turns in the same run (medians):
- collector frozen at exit (advisor.cli.main): `score --json` as shipped, and with gc.freeze a
  no-op;
- libyaml composing portfolio files and model.yaml (advisor/portfolio/yaml_nodes.py):
  `score --json` as shipped, and with every file composed by ruamel; in one process as a batch
  reads them, the time to compose one 50-holding file either way; and loading the model once in
  a fresh process (as every command does) either way;
- scipy.stats deferred while cvxpy imports (advisor/optimize/lean_import.py): importing the
  optimizer as shipped, and with scipy.stats imported first.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ADVISOR, holdings_portfolio, time_commands

CLI = "import sys; sys.argv = ['advisor', *{args!r}]; {patch}; from advisor.cli import main; main()"


def variant(patch: str, args: list[str]) -> list[str]:
    return [sys.executable, "-c", CLI.format(args=args, patch=patch)]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    with tempfile.TemporaryDirectory() as folder:
        score = ["score", str(holdings_portfolio(Path(folder) / "fifty.yaml", 50)), "--json"]
        got = time_commands({
            "as shipped": [*ADVISOR, *score],
            "no freeze": variant("import gc; gc.freeze = lambda: None", score),
            "no libyaml": variant("import advisor.portfolio.yaml_nodes as y; y._CLoader = None",
                                  score),
            "optimizer": [sys.executable, "-c", "import advisor.optimize"],
            "optimizer, scipy.stats first": [
                sys.executable, "-c", "import scipy.stats; import advisor.optimize"
            ],
        }, runs)  # fmt: skip
    shipped = got["as shipped"]
    print(f"runs per figure: {runs} (medians; the commands take turns in each round)")
    print(f"advisor score --json, 50 holdings, as shipped: {shipped:.3f} s")
    for name, trick in (("no freeze", "freeze at exit"), ("no libyaml", "libyaml")):
        print(
            f"  without {trick:17s}: {got[name]:.3f} s, the trick buys "
            f"{1000 * (got[name] - shipped):+.0f} ms"
        )
    lean, eager = got["optimizer"], got["optimizer, scipy.stats first"]
    print(
        f"import advisor.optimize: {lean:.3f} s; with scipy.stats: {eager:.3f} s, the deferral "
        f"buys {1000 * (eager - lean):+.0f} ms"
    )

    print(
        "composing one 50-holding portfolio file in a running process (a batch's accounts): "
        "libyaml {:.1f} ms, ruamel {:.1f} ms".format(*compose_ms())
    )
    print(
        "loading the model in a fresh process: libyaml {:.1f} ms, ruamel {:.1f} ms".format(
            *cold_model_ms(runs)
        )
    )


COLD_LOAD = """
import time
import advisor.scoring
from advisor.market import load_model, resolve_model_folder
from advisor.portfolio import yaml_nodes
{patch}
start = time.perf_counter()
load_model(resolve_model_folder("us-equity"))
print(1000 * (time.perf_counter() - start))
"""


def cold_model_ms(rounds: int) -> tuple[float, float]:
    """Median milliseconds to load the shipped model in a fresh process: libyaml, then ruamel."""
    out = []
    for patch in ("", "yaml_nodes._CLoader = None"):
        code = COLD_LOAD.format(patch=patch)
        times = [
            float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout)
            for _ in range(rounds)
        ]  # fmt: skip
        out.append(statistics.median(times))
    return out[0], out[1]


def compose_ms(rounds: int = 50) -> tuple[float, float]:
    """Median milliseconds to compose a 50-holding file: with libyaml, then ruamel alone."""
    from ruamel.yaml import YAML

    from advisor.portfolio import yaml_nodes

    with tempfile.TemporaryDirectory() as folder:
        text = holdings_portfolio(Path(folder) / "fifty.yaml", 50).read_text()
    out = []
    for loader in (yaml_nodes._CLoader, None):
        yaml_nodes._CLoader = loader
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            yaml_nodes.compose(YAML(typ="rt"), text)
            times.append(time.perf_counter() - start)
        out.append(1000 * statistics.median(times))
    return out[0], out[1]


if __name__ == "__main__":
    main()
