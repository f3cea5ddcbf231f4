"""The performance benchmarks, in one command: timings, memory, scaling and sweep throughput.

    .venv/bin/python benchmarks/run_all.py            # everything (about 15 minutes on 2 cores)
    .venv/bin/python benchmarks/run_all.py --quick    # a smaller version (about 3 minutes)
    .venv/bin/python benchmarks/run_all.py --only year,reference

Prints tables and writes ``benchmarks/results.json`` (``--out`` to change). Sections:

year       One default-borough school year per scenario: model construction + 190 days, with interpreter start-up
           and configuration composition (Hydra) excluded (composition is timed separately). Each scenario runs in a
           fresh process: its first run gives the peak memory of one run (maxrss) and the cold time, the median of
           the next N runs (other seeds) the time. Student-days simulated per second.
reference  The same work against benchmarks/per_agent_reference.py, a per-agent Mesa implementation of the daily
           student update (every student an Agent stepped with shuffle_do), on the same borough and days, measured
           in the same process, alternating with the array model's update.
scaling    1x, 4x and 16x the default borough (primary and secondary school counts scaled) and London
           (conf/borough/london.yaml), with time and peak memory; 95 and 380 days at 1x; a fit of cost against
           students x days.
sweep      The compare_scenarios experiment end to end through Hydra (``python -m sim -m +experiment=compare_scenarios
           'seed=range(0,S)'``, joblib on all cores, aggregation and figures included): runs per minute; the size of
           each run's outputs; and the time and memory of aggregating a sweep, measured on synthetic sweeps of
           hundreds of runs (copies of the real runs' files) and extrapolated to 10,000 runs.

These are measurements, not tests: the machine may be shared, so medians and spread are reported, and the load
average at the start and the end.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # this checkout's sim, also in the subprocesses (ENV)
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
SCENARIOS = tuple(sorted(p.stem for p in (ROOT / "conf" / "scenario").glob("*.yaml")))  # every policing model
TARGETS = {
    "year_s": 0.3,
    "reference_ratio": 30.0,
    "london_s": 30.0,
    "london_gb": 4.0,
    "sweep_runs": 10_000,
}


# --- measurements made inside a fresh interpreter (``--worker``) -------------------------------------------------
def _rss_mb() -> float:
    """Resident memory now (MB)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _maxrss_mb() -> float:
    """Peak resident memory of this process so far (MB; Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_year(spec: dict[str, Any]) -> dict[str, Any]:
    """Construct and run a model ``1 + repeats`` times (seeds 0, 1, ...).

    The first run, in this fresh process, gives the cold time and the peak memory of one run; the others the warm
    times.
    """
    from sim.core.compose import compose_config
    from sim.core.model import BoroughModel

    start = time.perf_counter()
    configs = [compose_config([*spec["overrides"], f"seed={seed}"]) for seed in range(1 + spec["repeats"])]
    compose_s = (time.perf_counter() - start) / len(configs)
    gc.collect()
    baseline_mb = _rss_mb()
    runs = []
    for i, config in enumerate(configs):
        t0 = time.perf_counter()
        model = BoroughModel(config)
        t1 = time.perf_counter()
        model.run_for(config.days)
        t2 = time.perf_counter()
        runs.append({"build_s": t1 - t0, "run_s": t2 - t1, "total_s": t2 - t0})
        if i == 0:
            peak_mb = _maxrss_mb()
            students, days = model.population.n, model.day
            schools = model.borough.n_schools
            incidents = int(model.ledger.totals[0].sum())
        del model
        gc.collect()
    return {
        "overrides": spec["overrides"],
        "students": students,
        "schools": schools,
        "days": days,
        "incidents_first_run": incidents,
        "compose_s": compose_s,
        "cold_s": runs[0]["total_s"],
        "times_s": [r["total_s"] for r in runs[1:]],
        "build_s": [r["build_s"] for r in runs[1:]],
        "baseline_rss_mb": baseline_mb,
        "peak_rss_mb": peak_mb,
    }


def worker_reference(spec: dict[str, Any]) -> dict[str, Any]:
    """The per-agent reference and the array model's student update, alternating, in one process."""
    sys.path.insert(0, str(HERE))
    from per_agent_reference import time_array_update, time_reference

    from sim.core.compose import compose_config

    base = compose_config(["scenario=no_police", f"borough={spec['borough']}", f"days={spec['days']}"])
    time_array_update(base)  # warm-up (imports, caches)
    gc.collect()
    baseline_mb = _rss_mb()
    reference, array = [], []
    for i in range(max(spec["reference_repeats"], spec["array_repeats"])):
        config = base.model_copy(update={"seed": i})
        if i < spec["reference_repeats"]:
            reference.append(time_reference(config))
            if i == 0:
                reference_peak_mb = _maxrss_mb()
            gc.collect()
        if i < spec["array_repeats"]:
            array.append(time_array_update(config))
            gc.collect()
    return {
        "borough": spec["borough"],
        "days": spec["days"],
        "students": reference[0]["students"],
        "reference_s": [r["seconds"] for r in reference],
        "reference_build_s": [r["build_s"] for r in reference],
        "reference_incidents": [r["incidents"] for r in reference],
        "array_update_s": [r["seconds"] for r in array],
        "array_update_incidents": [r["incidents"] for r in array],
        "baseline_rss_mb": baseline_mb,
        "reference_peak_rss_mb": reference_peak_mb,
    }


def worker_aggregate(spec: dict[str, Any]) -> dict[str, Any]:
    """Aggregate a sweep directory as the end of a sweep does (tables and report, no figures): time and memory."""
    import pandas as pd

    from sim.analyze import main as analyze

    gc.collect()
    baseline_mb = _rss_mb()
    t0 = time.perf_counter()
    analyze([spec["sweep_dir"], "--no-plots"])
    seconds = time.perf_counter() - t0
    peak_mb = _maxrss_mb()
    sweep = Path(spec["sweep_dir"])
    runs = pd.read_parquet(sweep / "runs.parquet")
    daily = pd.read_parquet(sweep / "daily.parquet")
    return {
        "runs": len(runs),
        "seconds": seconds,
        "baseline_rss_mb": baseline_mb,
        "peak_rss_mb": peak_mb,
        "runs_table_mb": runs.memory_usage(deep=True).sum() / 2**20,
        "daily_table_mb": daily.memory_usage(deep=True).sum() / 2**20,
        "daily_rows": len(daily),
        "runs_parquet_mb": (sweep / "runs.parquet").stat().st_size / 2**20,
        "daily_parquet_mb": (sweep / "daily.parquet").stat().st_size / 2**20,
    }


WORKERS = {"year": worker_year, "reference": worker_reference, "aggregate": worker_aggregate}


def run_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return what it reports."""
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=ENV,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {spec} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- the sections ------------------------------------------------------------------------------------------------
def _summary(times: list[float]) -> dict[str, float]:
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "spread_pct": 100 * (max(times) - min(times)) / statistics.median(times),
        "n": len(times),
    }


def section_year(quick: bool) -> dict[str, Any]:
    """One default-borough school year per scenario."""
    repeats = 5 if quick else 7
    out = {}
    print(f"\n== One default-borough school year (construction + 190 days; median of {repeats} runs, fresh process)")
    print(
        f"{'scenario':<22}{'median s':>9}{'min':>7}{'max':>7}{'cold s':>8}{'build s':>8}"
        f"{'student-days/s':>16}{'peak MB':>9}{'model MB':>9}"
    )
    for scenario in SCENARIOS:
        r = run_worker({"kind": "year", "overrides": [f"scenario={scenario}"], "repeats": repeats})
        s = _summary(r["times_s"])
        r |= s
        r["student_days_per_s"] = r["students"] * r["days"] / s["median_s"]
        r["model_mb"] = r["peak_rss_mb"] - r["baseline_rss_mb"]
        out[scenario] = r
        print(
            f"{scenario:<22}{s['median_s']:>9.3f}{s['min_s']:>7.3f}{s['max_s']:>7.3f}{r['cold_s']:>8.3f}"
            f"{statistics.median(r['build_s']):>8.3f}{r['student_days_per_s']:>16,.0f}{r['peak_rss_mb']:>9.0f}"
            f"{r['model_mb']:>9.0f}",
            flush=True,
        )
    any_r = next(iter(out.values()))
    print(
        f"students {any_r['students']:,}, schools {any_r['schools']}, days {any_r['days']}; composing the "
        f"configuration with Hydra (excluded above) takes {any_r['compose_s']:.3f} s per run"
    )
    return out


def section_reference(quick: bool, year: dict[str, Any] | None) -> dict[str, Any]:
    """The per-agent Mesa reference against the array model on the same borough and days."""
    days = 38 if quick else 190
    spec = {
        "kind": "reference",
        "borough": "hackney",
        "days": days,
        "reference_repeats": 1 if quick else 3,
        "array_repeats": 3 if quick else 5,
    }
    print(f"\n== Per-agent Mesa reference vs array model (default borough, {days} days; same process, alternating)")
    r = run_worker(spec)
    ref = statistics.median(r["reference_s"])
    arr = statistics.median(r["array_update_s"])
    student_days = r["students"] * days
    r |= {
        "reference_median_s": ref,
        "array_update_median_s": arr,
        "ratio_student_update": ref / arr,
        "reference_student_days_per_s": student_days / ref,
        "array_update_student_days_per_s": student_days / arr,
    }
    print(f"{'':<44}{'median s':>9}{'student-days/s':>16}{'incidents':>11}")
    print(
        f"{'per-agent reference (student update only)':<44}{ref:>9.3f}{student_days / ref:>16,.0f}"
        f"{statistics.median(r['reference_incidents']):>11,.0f}"
    )
    print(
        f"{'array model, the same student update':<44}{arr:>9.3f}{student_days / arr:>16,.0f}"
        f"{statistics.median(r['array_update_incidents']):>11,.0f}"
    )
    print(f"ratio, like for like: {ref / arr:.1f}x faster")
    if year is not None:
        # The whole model year (every rule, all outcomes) against the reference's student update alone.
        per_day_ref = ref / days
        r["ratio_full_model_year"] = {}
        for scenario, y in year.items():
            ratio = per_day_ref * y["days"] / y["median_s"]
            r["ratio_full_model_year"][scenario] = ratio
        print(
            "whole model year (all rules and outcomes) vs the reference's student update alone, scaled to "
            f"{next(iter(year.values()))['days']} days: "
            + ", ".join(f"{s} {v:.0f}x" for s, v in r["ratio_full_model_year"].items())
        )
    print(
        f"peak memory of the reference run: {r['reference_peak_rss_mb']:.0f} MB "
        f"(after imports: {r['baseline_rss_mb']:.0f} MB)"
    )
    return r


def _fit(points: list[tuple[float, float]]) -> dict[str, float]:
    """Least squares of log(time) on log(students x days), and of time on students x days."""
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    lx = [x for x, _ in points]
    ly = [y for _, y in points]
    slope, intercept = statistics.linear_regression(lx, ly)
    return {"loglog_exponent": b, "ns_per_student_day": slope * 1e9, "fixed_s": intercept}


def section_scaling(quick: bool, year: dict[str, Any] | None) -> dict[str, Any]:
    """1x, 4x, 16x the default borough and London; days at 1x; a fit of cost against students x days."""
    from sim.core.compose import compose_config

    base = compose_config([]).borough
    scenarios = ("no_police", "hackney_pilot") if quick else SCENARIOS
    repeats = 1 if quick else 3
    cases: list[tuple[str, list[str]]] = []
    for k in (4, 16):
        cases.append(
            (
                f"{k}x",
                [
                    f"borough.primary_schools={base.primary_schools * k}",
                    f"borough.secondary_schools={base.secondary_schools * k}",
                ],
            )
        )
    cases.append(("london", ["borough=london"]))
    day_cases = [(f"1x, {d} days", [f"days={d}"]) for d in (95, 380)]
    out: dict[str, Any] = {"cases": {}, "fit": {}}
    print(
        f"\n== Scaling (median of {repeats} warm runs after one cold run, fresh process per case; peak memory of "
        "the cold run)"
    )
    print(
        f"{'case':<20}{'scenario':<22}{'students':>10}{'days':>5}{'median s':>9}{'cold s':>8}{'ns/st-day':>10}"
        f"{'peak MB':>9}"
    )
    rows = []

    def add(label: str, scenario: str, r: dict[str, Any]) -> None:
        r["ns_per_student_day"] = r["median_s"] / (r["students"] * r["days"]) * 1e9
        rows.append((label, scenario, r))
        out["cases"].setdefault(label, {})[scenario] = r
        print(
            f"{label:<20}{scenario:<22}{r['students']:>10,}{r['days']:>5}{r['median_s']:>9.3f}{r['cold_s']:>8.3f}"
            f"{r['ns_per_student_day']:>10.0f}{r['peak_rss_mb']:>9.0f}",
            flush=True,
        )

    if year is not None:
        for scenario in scenarios:
            add("1x", scenario, year[scenario])
    london_scenarios = ("no_police",) if quick else scenarios
    for label, overrides in [*cases, *(day_cases if not quick else day_cases[1:])]:
        for scenario in london_scenarios if label == "london" else scenarios:
            r = run_worker({"kind": "year", "overrides": [f"scenario={scenario}", *overrides], "repeats": repeats})
            add(label, scenario, r | _summary(r["times_s"]))
    print("fit of time against students x days (all cases of a scenario):")
    for scenario in scenarios:
        points = [(r["students"] * r["days"], r["median_s"]) for _, s, r in rows if s == scenario]
        if len(points) >= 3:
            fit = _fit(points)
            out["fit"][scenario] = fit
            print(
                f"  {scenario:<22} time ~ (students x days)^{fit['loglog_exponent']:.2f};  linear: "
                f"{fit['fixed_s']:.3f} s + {fit['ns_per_student_day']:.1f} ns per student-day"
            )
    return out


def _copy_runs(source: Path, target: Path, n: int) -> None:
    """A synthetic sweep of ``n`` runs: the real runs' files hard-linked under new names (seed numbers)."""
    runs = sorted(p for p in source.iterdir() if p.is_dir() and (p / "metrics.json").exists())
    target.mkdir(parents=True)
    for i in range(n):
        src = runs[i % len(runs)]
        scenario = json.loads((src / "metrics.json").read_text())["scenario"]
        seed = i // len(SCENARIOS)
        dst = target / f"scenario={scenario},seed={seed}"
        if dst.exists():
            dst = target / f"scenario={scenario},seed={seed}-{i}"
        dst.mkdir()
        for name in ("metrics.json", "daily.parquet", "config.json"):
            os.link(src / name, dst / name)
        run = json.loads((src / "run.json").read_text())
        run["overrides"] = [f"scenario={scenario}", f"seed={seed}", "+experiment=compare_scenarios"]
        (dst / "run.json").write_text(json.dumps(run))


def section_sweep(quick: bool) -> dict[str, Any]:
    """compare_scenarios through Hydra: runs per minute, output sizes, aggregation memory for 10,000 runs."""
    seeds = 2 if quick else 5
    out: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="sim-bench-sweep-"))
    try:
        sweep = tmp / "sweep"
        cmd = [
            sys.executable,
            "-m",
            "sim",
            "-m",
            "+experiment=compare_scenarios",
            f"seed=range(0,{seeds})",
            f"hydra.sweep.dir={sweep}",
            "hydra.callbacks.sweep.progress=false",
        ]
        print(f"\n== Sweep throughput: {' '.join(cmd[1:])}")
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=ENV)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"sweep failed:\n{proc.stderr[-3000:]}")
        # the same aggregation again, alone, to split its share from the runs' (figures included, as at the end)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "sim.analyze", str(sweep)], cwd=ROOT, capture_output=True, check=True, env=ENV
        )
        aggregate_s = time.perf_counter() - t0
        run_dirs = [p for p in sweep.iterdir() if p.is_dir() and (p / "metrics.json").exists()]
        job_s = [json.loads((p / "run.json").read_text())["seconds"] for p in run_dirs]
        metrics_kb = [(p / "metrics.json").stat().st_size / 1024 for p in run_dirs]
        daily_kb = [(p / "daily.parquet").stat().st_size / 1024 for p in run_dirs]
        run_dir_kb = [sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 1024 for p in run_dirs]
        jobs = os.cpu_count() or 1
        out = {
            "command": " ".join(cmd[1:]),
            "runs": len(run_dirs),
            "wall_s": wall,
            "runs_per_minute": len(run_dirs) / wall * 60,
            "aggregate_with_figures_s": aggregate_s,
            "runs_per_minute_without_aggregation": len(run_dirs) / max(wall - aggregate_s, 1e-9) * 60,
            "job_seconds_median": statistics.median(job_s),
            "hydra_overhead_per_run_s": (wall - aggregate_s) * min(jobs, len(run_dirs)) / len(run_dirs)
            - statistics.median(job_s),
            "metrics_json_kb": statistics.fmean(metrics_kb),
            "daily_parquet_kb": statistics.fmean(daily_kb),
            "run_dir_kb": statistics.fmean(run_dir_kb),
            "aggregated_mb": {
                name: (sweep / name).stat().st_size / 2**20
                for name in ("runs.parquet", "daily.parquet", "summary.csv", "report.md")
                if (sweep / name).exists()
            },
        }
        print(
            f"{out['runs']} runs in {wall:.1f} s on {jobs} cores: {out['runs_per_minute']:.0f} runs/minute "
            f"({out['runs_per_minute_without_aggregation']:.0f} without the final aggregation and figures, which "
            f"take {aggregate_s:.1f} s)"
        )
        print(
            f"a job (model + outputs, run.json) takes {out['job_seconds_median']:.2f} s; Hydra and launcher "
            f"overhead per run ~{out['hydra_overhead_per_run_s']:.2f} s of a core"
        )
        print(
            f"per run: metrics.json {out['metrics_json_kb']:.1f} kB, daily.parquet {out['daily_parquet_kb']:.0f} kB,"
            f" whole run directory {out['run_dir_kb']:.0f} kB"
        )

        sizes = (100, 400) if quick else (250, 1000)
        print(f"aggregating synthetic sweeps of {sizes[0]} and {sizes[1]} runs (copies of these runs), no figures:")
        agg = []
        for n in sizes:
            target = tmp / f"synthetic-{n}"
            _copy_runs(sweep, target, n)
            r = run_worker({"kind": "aggregate", "sweep_dir": str(target)})
            agg.append(r)
            print(
                f"  {n:>6} runs: {r['seconds']:6.1f} s, peak {r['peak_rss_mb']:6.0f} MB (after imports "
                f"{r['baseline_rss_mb']:.0f} MB); runs table {r['runs_table_mb']:.1f} MB, borough-level daily "
                f"table {r['daily_table_mb']:.1f} MB in memory"
            )
            shutil.rmtree(target)
        a, b = agg
        n_target = TARGETS["sweep_runs"]

        def extrapolate(key: str) -> float:
            slope = (b[key] - a[key]) / (b["runs"] - a["runs"])
            return b[key] + slope * (n_target - b["runs"])

        per_run_daily_mb = b["daily_table_mb"] / b["runs"]
        estimate = {
            "runs": n_target,
            "peak_rss_mb": extrapolate("peak_rss_mb"),
            "seconds": extrapolate("seconds"),
            "runs_table_mb": extrapolate("runs_table_mb"),
            "daily_table_mb": extrapolate("daily_table_mb"),
            "per_run_daily_table_mb": per_run_daily_mb,
            "runs_parquet_mb": extrapolate("runs_parquet_mb"),
            "daily_parquet_mb": extrapolate("daily_parquet_mb"),
            "per_school_daily_in_memory_gb": None,
            "disk_of_run_dirs_gb": out["run_dir_kb"] * n_target / 2**20,
        }
        out["aggregation"] = agg
        out["estimate_10000_runs"] = estimate
        print(
            f"estimate for {n_target:,} runs: aggregation peak ~{estimate['peak_rss_mb'] / 1024:.1f} GB, "
            f"~{estimate['seconds'] / 60:.0f} min; runs table {estimate['runs_table_mb']:.0f} MB and borough-level"
            f" daily table {estimate['daily_table_mb']:.0f} MB in memory; run directories on disk "
            f"{estimate['disk_of_run_dirs_gb']:.1f} GB"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def per_school_daily_estimate(sweep: dict[str, Any]) -> None:
    """What concatenating every run's per-school daily frame would take (the aggregation sums over schools)."""
    import logging

    logging.getLogger("MESA").setLevel(logging.WARNING)
    from sim.core.compose import compose_config
    from sim.core.model import BoroughModel

    model = BoroughModel(compose_config(["days=19"]))
    model.run_for(19)
    frame = model.daily()
    per_row = frame.memory_usage(deep=True).sum() / len(frame)
    rows = 190 * model.borough.n_schools
    gb = per_row * rows * TARGETS["sweep_runs"] / 2**30
    sweep["estimate_10000_runs"]["per_school_daily_in_memory_gb"] = gb
    print(
        f"(concatenating the per-school daily frames of {TARGETS['sweep_runs']:,} runs instead would take "
        f"~{gb:.0f} GB: {per_row:.0f} bytes per row, {rows:,} rows per run)"
    )


# --- the machine, and the report ---------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import hydra
    import mesa
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = int(line.split()[1]) / 2**20
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "sim"], cwd=ROOT, capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": mem_gb,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
        "mesa": mesa.__version__,
        "hydra": hydra.__version__,
        "platform": platform.platform(),
        "commit": commit.stdout.strip(),
        "sim_modified_since_commit": bool(dirty.stdout.strip()),
        "load_average_start": os.getloadavg(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def check_targets(results: dict[str, Any]) -> dict[str, Any]:
    """The performance targets, met or not."""
    checks: dict[str, Any] = {}
    year = results.get("year")
    if year:
        worst = max(year.values(), key=lambda r: r["median_s"])
        checks["year_s"] = {
            "target": f"<= {TARGETS['year_s']} s per default-borough year (median), every scenario",
            "value": {s: round(r["median_s"], 3) for s, r in year.items()},
            "met": worst["median_s"] <= TARGETS["year_s"],
        }
    ref = results.get("reference")
    if ref:
        value = ref["ratio_student_update"]
        checks["reference_ratio"] = {
            "target": f">= {TARGETS['reference_ratio']:.0f}x the per-agent reference",
            "value": round(value, 1),
            "met": value >= TARGETS["reference_ratio"],
        }
        if "ratio_full_model_year" in ref:
            worst = min(ref["ratio_full_model_year"].values())
            checks["reference_ratio_full_model"] = {
                "target": f">= {TARGETS['reference_ratio']:.0f}x (whole model year vs reference student update)",
                "value": {s: round(v, 1) for s, v in ref["ratio_full_model_year"].items()},
                "met": worst >= TARGETS["reference_ratio"],
            }
    scaling = results.get("scaling")
    if scaling and "london" in scaling["cases"]:
        london = scaling["cases"]["london"]
        checks["london"] = {
            "target": f"London year <= {TARGETS['london_s']:.0f} s and <= {TARGETS['london_gb']:.0f} GB",
            "value": {
                s: {
                    "median_s": round(r["median_s"], 1),
                    "cold_s": round(r["cold_s"], 1),
                    "peak_gb": round(r["peak_rss_mb"] / 1024, 2),
                }
                for s, r in london.items()
            },
            "met": all(
                max(r["median_s"], r["cold_s"]) <= TARGETS["london_s"]
                and r["peak_rss_mb"] / 1024 <= TARGETS["london_gb"]
                for r in london.values()
            ),
        }
    if scaling and scaling["fit"]:
        exps = {s: round(f["loglog_exponent"], 3) for s, f in scaling["fit"].items()}
        checks["linear"] = {
            "target": "cost linear in students x days (log-log exponent ~1)",
            "value": exps,
            "met": all(0.9 <= e <= 1.1 for e in exps.values()),
        }
    sweep = results.get("sweep")
    if sweep and "estimate_10000_runs" in sweep:
        est = sweep["estimate_10000_runs"]
        ram = results["machine"]["ram_gb"] or 0
        checks["sweep_memory"] = {
            "target": "aggregating a 10,000-run sweep fits in memory",
            "value": {"aggregation_peak_gb": round(est["peak_rss_mb"] / 1024, 2), "machine_ram_gb": round(ram, 1)},
            "met": est["peak_rss_mb"] / 1024 < 0.5 * ram,
        }
    return checks


def main() -> None:
    """Run the chosen sections, print tables, write results.json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller scaling and sweep")
    parser.add_argument("--only", help="comma-separated sections: year,reference,scaling,sweep")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        import logging

        logging.getLogger("MESA").setLevel(logging.WARNING)
        spec = json.loads(args.worker)
        print(json.dumps(WORKERS[spec["kind"]](spec)))
        return
    sections = args.only.split(",") if args.only else ["year", "reference", "scaling", "sweep"]
    results: dict[str, Any] = {"machine": machine(), "quick": args.quick, "sections": sections}
    m = results["machine"]
    print(
        f"{m['cpu']}, {m['nproc']} cores, {m['ram_gb']:.0f} GB RAM; Python {m['python']}, numpy {m['numpy']}, "
        f"Mesa {m['mesa']}; load average {m['load_average_start'][0]:.2f}; commit {m['commit']}"
        f"{' (sim/ modified)' if m['sim_modified_since_commit'] else ''}"
    )
    started = time.perf_counter()
    if "year" in sections:
        results["year"] = section_year(args.quick)
    if "reference" in sections:
        results["reference"] = section_reference(args.quick, results.get("year"))
    if "scaling" in sections:
        results["scaling"] = section_scaling(args.quick, results.get("year"))
    if "sweep" in sections:
        results["sweep"] = section_sweep(args.quick)
        per_school_daily_estimate(results["sweep"])
    results["machine"]["load_average_end"] = os.getloadavg()
    results["seconds"] = time.perf_counter() - started
    results["targets"] = check_targets(results)
    print("\n== Targets")
    for check in results["targets"].values():
        print(f"{'met    ' if check['met'] else 'NOT MET'}  {check['target']}: {check['value']}")
    print(
        f"\nload average at the end {results['machine']['load_average_end'][0]:.2f}; "
        f"{results['seconds'] / 60:.1f} minutes; results in {args.out}"
    )
    args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
