"""Cost of one school year on a borough, per policing model: construction + 190 days, interpreter start excluded.

    python benchmarks/year_cost.py                   # default (Hackney-sized) borough, 5 repeats
    python benchmarks/year_cost.py --borough small --repeats 9

Reports the median and spread of wall-clock seconds per borough-year, and student-days simulated per second.
A measurement, not a test: the machines are shared, so compare medians and ratios, not single timings.
The full suite (memory, the per-agent reference, scaling, sweep throughput) is ``benchmarks/run_all.py``; its
numbers are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

from sim.analysis.specs import scenario_files
from sim.core.compose import compose_config
from sim.core.model import BoroughModel, quiet_mesa

SCENARIOS = tuple(scenario_files())  # every policing model in conf/scenario/


def time_year(overrides: list[str]) -> tuple[float, float, int, int]:
    """Seconds to construct and to run one configured model; students and days."""
    config = compose_config(overrides)
    start = time.perf_counter()
    model = BoroughModel(config)
    built = time.perf_counter()
    model.run_for(config.days)
    done = time.perf_counter()
    return built - start, done - built, model.population.n, config.days


def main() -> None:
    """Time every scenario and print a table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--borough", default="hackney")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--days", type=int, default=190)
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()
    quiet_mesa()
    results = []
    print(f"borough={args.borough} days={args.days} repeats={args.repeats} python={platform.python_version()}")
    print(f"{'scenario':<22}{'median s':>10}{'min s':>8}{'max s':>8}{'build s':>9}{'student-days/s':>16}")
    for scenario in SCENARIOS:
        overrides = [f"scenario={scenario}", f"borough={args.borough}", f"days={args.days}"]
        time_year(overrides)  # warm-up: imports and caches
        totals, builds = [], []
        for seed in range(args.repeats):
            build, run, students, days = time_year([*overrides, f"seed={seed}"])
            totals.append(build + run)
            builds.append(build)
        median = statistics.median(totals)
        rate = students * days / median
        results.append(
            {
                "scenario": scenario,
                "median_s": median,
                "min_s": min(totals),
                "max_s": max(totals),
                "build_median_s": statistics.median(builds),
                "students": students,
                "days": days,
                "student_days_per_s": rate,
            }
        )
        print(
            f"{scenario:<22}{median:>10.3f}{min(totals):>8.3f}{max(totals):>8.3f}"
            f"{statistics.median(builds):>9.3f}{rate:>16,.0f}"
        )
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
