"""Interleaved A/B timing of a default-borough school year: two checkouts of the project, the same runs.

    python benchmarks/ab_year.py OLD_CHECKOUT NEW_CHECKOUT --rounds 7 --scenarios no_police,hackney_pilot

Each round runs every scenario once in each checkout, in a fresh interpreter, alternating which goes first, and
times construction + one school year inside that interpreter (imports excluded). Reports each side's median and the
ratio NEW / OLD of the medians, per scenario. A measurement, not a test: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

RUN = r"""
import json, logging, sys, time
logging.getLogger("MESA").setLevel(logging.WARNING)
try:
    from sim.core.compose import compose_config
    from sim.core.model import BoroughModel
except ImportError:  # a checkout from before the layout of sim/core
    from sim.compose import compose_config
    from sim.model import BoroughModel
config = compose_config(sys.argv[1:])
start = time.perf_counter()
model = BoroughModel(config)
model.run_for(config.days)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def time_once(checkout: Path, overrides: list[str]) -> float:
    """Seconds for one construction + run in a fresh interpreter in ``checkout``."""
    out = subprocess.run(
        [sys.executable, "-c", RUN, *overrides],
        cwd=checkout,
        env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    """Run the rounds and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--scenarios", default="no_police,embedded_officer,hackney_pilot,supportive_policing")
    parser.add_argument("--overrides", default="", help="extra overrides, comma-separated")
    args = parser.parse_args()
    extra = [o for o in args.overrides.split(",") if o]
    times: dict[tuple[str, str], list[float]] = {}
    for r in range(args.rounds):
        for scenario in args.scenarios.split(","):
            overrides = [f"scenario={scenario}", "seed=0", *extra]
            sides = [("old", args.old), ("new", args.new)]
            for side, checkout in sides if r % 2 == 0 else reversed(sides):
                times.setdefault((scenario, side), []).append(time_once(checkout.resolve(), overrides))
    print(f"{'scenario':<22}{'old median s':>14}{'new median s':>14}{'new/old':>9}")
    for scenario in args.scenarios.split(","):
        old, new = statistics.median(times[(scenario, "old")]), statistics.median(times[(scenario, "new")])
        print(f"{scenario:<22}{old:>14.3f}{new:>14.3f}{new / old:>9.3f}")


if __name__ == "__main__":
    main()
