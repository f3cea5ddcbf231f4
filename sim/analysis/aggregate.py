"""Gather a sweep directory into tidy tables: runs, borough-level days, and a summary with paired differences.

Works on any sweep directory, finished, partial or with failed runs: it reads what the jobs left on disk
(``metrics.json``, ``daily.parquet``, ``yearly.parquet``, ``run.json``, ``config.json``, ``error.json``) and reports
failed and missing runs rather than dropping them silently. A run counts as finished only if its files verify
against ``run.json`` (a run whose files do not is listed as failed, naming the file); only the runs of the sweep's
plan (``sweep.json``) are read, unless asked for every run in the folder. The tables, figures and report are
written together (:func:`publish`), so that every one of them describes the same runs, named in ``aggregate.json``.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.analysis.drivers import (
    MECHANISMS_COLUMN,
    SEPARATOR,
    WITHOUT_COLUMN,
    contributions,
    mechanisms_ran,
    names_left_out,
)
from sim.analysis.folders import (
    AGGREGATE_FILE,
    CONFIG_FILE,
    DAILY_FILE,
    ERROR_FILE,
    METRICS_FILE,
    RUN_FILE,
    SWEEP_FILE,
    YEARLY_FILE,
    RunFileError,
    read_json,
    verify_run,
    write_json_atomic,
)
from sim.analysis.stats import summarise
from sim.core.configure import load_built_in_mechanisms
from sim.core.metrics import RUN_LABELS
from sim.core.outcomes import REGISTRY, Kind

DEFAULT_BASELINE = "no_police"
ID_COLUMNS = ("run", "scenario", "seed")
CONTRIBUTIONS_FILE = "contributions.csv"


@dataclass
class SweepResult:
    """Everything aggregated from one sweep directory."""

    sweep_dir: Path
    meta: dict[str, Any]
    runs: pd.DataFrame
    daily: pd.DataFrame
    summary: pd.DataFrame
    factors: list[str]
    metrics: list[str]
    baseline: str | None
    failed: list[dict[str, Any]] = field(default_factory=list)
    missing: list[list[str]] = field(default_factory=list)
    yearly: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per school year of each run longer than a school year (the runs' ``yearly.parquet``)."""
    excluded: list[str] = field(default_factory=list)
    """Run folders left out because they are not part of the sweep's plan (another sweep's runs)."""
    ablation: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The leave-one-out runs (``scenario.without``): in runs.parquet, not in the summary, tables or figures."""
    contributions: pd.DataFrame = field(default_factory=pd.DataFrame)
    """What drives each difference from the baseline (:func:`sim.analysis.drivers.contributions`)."""


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out |= _flatten(v, key + ".")
        elif isinstance(v, list):
            out[key] = json.dumps(v)
        else:
            out[key] = v
    return out


def parse_override(override: str) -> tuple[str, Any]:
    """``key=value`` (with an optional +, ++ or ~ prefix) to (key, typed value)."""
    key, _, value = override.partition("=")
    key = key.lstrip("+~")
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        parsed = value
    if isinstance(parsed, dict | list):
        parsed = value
    return key, parsed


def _run_dirs(sweep_dir: Path) -> list[Path]:
    return sorted(p for p in sweep_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def job_key(overrides: list[str]) -> tuple[str, ...]:
    """A job's identity within a plan: its overrides, in any order."""
    return tuple(sorted(overrides))


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as err:  # pyarrow's errors name no file
        raise RunFileError(f"{path}: cannot be read as parquet ({type(err).__name__}: {err})") from None


@dataclass
class Collected:
    """What the run folders of a sweep hold."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    dailies: list[pd.DataFrame] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    yearlies: list[pd.DataFrame] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    metrics_keys: list[str] = field(default_factory=list)


def collect(sweep_dir: Path, plan: set[tuple[str, ...]] | None = None) -> Collected:
    """Rows of finished runs, their daily frames summed over schools, the failed runs, and their yearly frames.

    Args:
        sweep_dir: the sweep folder.
        plan: the jobs of the sweep's plan (:func:`job_key`); run folders of other jobs are listed as excluded.
            None reads every run folder.
    """
    out = Collected()
    for d in _run_dirs(sweep_dir):
        if not any((d / name).exists() for name in (RUN_FILE, METRICS_FILE, ERROR_FILE)):
            continue  # not a run folder (figures/), or a job that never started
        try:
            run_info = read_json(d / RUN_FILE) if (d / RUN_FILE).exists() else {}
        except RunFileError as err:
            out.failed.append({"run": d.name, "overrides": [], "error": str(err)})
            continue
        overrides = run_info.get("overrides", [])
        if not isinstance(overrides, list):
            out.failed.append({"run": d.name, "overrides": [], "error": f"{d / RUN_FILE}: overrides is not a list"})
            continue
        if plan is not None and job_key(overrides) not in plan:
            out.excluded.append(d.name)
            continue
        if run_info.get("status") == "running":
            continue  # started and not finished: missing (a re-run of the sweep runs it)
        finished, why = verify_run(d)
        if not finished:
            error = f"its files do not verify: {why}"
            if run_info.get("status") == "failed" or (d / ERROR_FILE).exists():
                try:
                    record = read_json(d / ERROR_FILE)
                    error = str(record.get("error"))
                    overrides = record.get("overrides", overrides)
                except RunFileError as err:
                    error = str(err)
            out.failed.append({"run": d.name, "overrides": overrides, "error": error})
            continue
        try:
            _collect_finished(d, overrides, out)
        except RunFileError as err:
            out.failed.append({"run": d.name, "overrides": overrides, "error": str(err)})
    return out


def _collect_finished(d: Path, overrides: list[str], out: Collected) -> None:
    metrics = read_json(d / METRICS_FILE)
    config = read_json(d / CONFIG_FILE) if (d / CONFIG_FILE).exists() else {}
    row: dict[str, Any] = {"run": d.name}
    row |= _flatten(config)
    row |= metrics
    row |= dict(parse_override(o) for o in overrides)
    row.pop("scenario.without", None)  # given once, as the column "without"
    row[WITHOUT_COLUMN] = SEPARATOR.join(names_left_out((config.get("scenario") or {}).get("without")))
    row[MECHANISMS_COLUMN] = SEPARATOR.join(mechanisms_ran(config))
    row["_overrides"] = json.dumps(overrides)
    daily = yearly = None
    if (d / DAILY_FILE).exists():
        daily = _read_parquet(d / DAILY_FILE)
        numeric = daily.drop(columns=["scenario", "seed", "school", "phase"], errors="ignore")
        daily = numeric.groupby("day", as_index=False).sum()
        daily.insert(0, "run", d.name)
    if (d / YEARLY_FILE).exists():
        yearly = _read_parquet(d / YEARLY_FILE).drop(columns=["scenario", "seed"], errors="ignore")
        yearly.insert(0, "run", d.name)
    out.rows.append(row)
    for key in metrics:
        if key not in out.metrics_keys:
            out.metrics_keys.append(key)
    if daily is not None:
        out.dailies.append(daily)
    if yearly is not None:
        out.yearlies.append(yearly)


def swept_factors(runs: pd.DataFrame) -> list[str]:
    """Settings given as overrides that take more than one value across runs (seed excluded)."""
    keys: list[str] = []
    for overrides in runs["_overrides"]:
        for o in json.loads(overrides):
            k, _ = parse_override(o)
            if k not in keys:
                keys.append(k)
    factors = [k for k in keys if k != "seed" and k in runs and runs[k].astype(str).nunique(dropna=False) > 1]
    if "scenario" in factors:
        factors.remove("scenario")
    return ["scenario", *factors]


def metric_columns(runs: pd.DataFrame, metrics_keys: list[str]) -> list[str]:
    """Numeric outcome columns: what was run (seed, sizes) and settings echoed as labels excluded."""
    load_built_in_mechanisms()
    skip = set(RUN_LABELS) | {m.key for m in REGISTRY if m.kind is Kind.LABEL}
    return [k for k in metrics_keys if k not in skip and k in runs and pd.api.types.is_numeric_dtype(runs[k])]


def read_meta(sweep_dir: Path) -> dict[str, Any]:
    """``sweep.json`` ({} when absent).

    Raises:
        RunFileError: naming the file, when it cannot be read or is not an object with a list of jobs.
    """
    path = Path(sweep_dir) / SWEEP_FILE
    if not path.exists():
        return {}
    meta: dict[str, Any] = read_json(path)
    if not isinstance(meta.get("jobs") or [], list):
        raise RunFileError(f"{path}: 'jobs' is not a list")
    return meta


def aggregate(sweep_dir: Path, baseline: str | None = None, every_run: bool = False) -> SweepResult:
    """Aggregate a sweep directory into :class:`SweepResult` (nothing is written).

    Args:
        sweep_dir: the sweep folder.
        baseline: the scenario paired differences are taken from (default: the experiment's, else ``no_police``).
        every_run: read every run folder, not only the jobs of the plan in ``sweep.json``.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"no sweep directory at {sweep_dir}")
    meta = read_meta(sweep_dir)
    jobs = meta.get("jobs") or []
    plan = {job_key(job) for job in jobs} if jobs and not every_run else None
    found = collect(sweep_dir, plan)
    failed = found.failed
    metrics_keys = found.metrics_keys
    dailies, yearlies = found.dailies, found.yearlies
    all_runs = pd.DataFrame(found.rows)
    ablation = pd.DataFrame()
    runs = all_runs
    if not all_runs.empty:  # leave-one-out runs are kept apart: the tables and figures are of full runs
        left_out = all_runs[WITHOUT_COLUMN] != ""
        runs, ablation = all_runs[~left_out].reset_index(drop=True), all_runs[left_out].reset_index(drop=True)
    if runs.empty:
        factors: list[str] = ["scenario"]
        metrics: list[str] = []
        daily = pd.DataFrame()
        yearly = pd.DataFrame()
        summary = pd.DataFrame()
        contribution_table = pd.DataFrame()
    else:
        factors = swept_factors(runs)
        metrics = metric_columns(runs, metrics_keys)
        runs = runs.sort_values(["run"]).reset_index(drop=True)
        ordered = [c for c in dict.fromkeys((*ID_COLUMNS, *factors)) if c in runs]
        runs = runs[ordered + [c for c in runs.columns if c not in ordered]]
        keys = runs[list(dict.fromkeys(["run", "seed", *factors]))].drop_duplicates("run")
        daily = pd.concat(dailies, ignore_index=True) if dailies else pd.DataFrame()
        if not daily.empty:
            daily = keys.merge(daily[daily["run"].isin(keys["run"])], on="run", how="right")
            daily = daily.sort_values(["run", "day"]).reset_index(drop=True)
        yearly = pd.concat(yearlies, ignore_index=True) if yearlies else pd.DataFrame()
        if not yearly.empty:  # the run's keys first, as in daily; the columns factors name replaced by the run's
            yearly = keys.merge(yearly.drop(columns=[c for c in keys if c != "run"], errors="ignore"), on="run")
            yearly = yearly.sort_values(["run", "school_year"]).reset_index(drop=True)
        experiment = meta.get("experiment") or {}
        if baseline is None:
            baseline = experiment.get("baseline")
        scenarios = set(runs["scenario"])
        if baseline is None and DEFAULT_BASELINE in scenarios and len(scenarios) > 1:
            baseline = DEFAULT_BASELINE
        if baseline is not None and baseline not in scenarios:
            baseline = None
        summary = summarise(runs, factors, metrics, baseline)
        if not ablation.empty:
            ablation = ablation.sort_values(["run"]).reset_index(drop=True)
            ablation = ablation[[c for c in runs.columns if c in ablation] + [c for c in ablation if c not in runs]]
        contribution_table = contributions(runs, ablation, factors, _decomposed(experiment, metrics), baseline)
    missing = []
    if jobs:
        done = set(all_runs["_overrides"].map(lambda s: tuple(sorted(json.loads(s))))) if not all_runs.empty else set()
        done |= {tuple(sorted(f["overrides"])) for f in failed}
        missing = [job for job in jobs if tuple(sorted(job)) not in done]
    return SweepResult(
        sweep_dir, meta, runs, daily, summary, factors, metrics, baseline, failed, missing, yearly, found.excluded,
        ablation, contribution_table,
    )  # fmt: skip


def _decomposed(experiment: dict[str, Any], metrics: list[str]) -> list[str]:
    """The outcomes whose differences are decomposed: the headline ones, the experiment's and the ablation's."""
    wanted = [m.key for m in REGISTRY.headline()]
    wanted += list(experiment.get("metrics") or []) + list((experiment.get("ablation") or {}).get("outcomes") or [])
    return [m for m in dict.fromkeys(wanted) if m in metrics]


RUNS_TABLE = "runs.parquet"
SUMMARY_TABLE = "summary.csv"
FAILED_TABLE = "failed_runs.csv"
FIGURES_DIR = "figures"
AGGREGATES = (RUNS_TABLE, DAILY_FILE, YEARLY_FILE, SUMMARY_TABLE, CONTRIBUTIONS_FILE, FAILED_TABLE, "report.md")
"""The files the aggregation writes into a sweep folder (with the ``figures`` folder and ``aggregate.json``)."""


def write_tables(result: SweepResult, out: Path | None = None) -> dict[str, Path]:
    """Write runs.parquet, daily.parquet, yearly.parquet, summary.csv and failed_runs.csv (those that have rows).

    Args:
        result: the aggregation.
        out: the folder to write into (default: the sweep folder). A table with no rows is not written.
    """
    out = Path(out) if out is not None else result.sweep_dir
    paths = {}
    if not result.runs.empty:
        paths["runs"] = out / RUNS_TABLE
        every_run = pd.concat([result.runs, result.ablation], ignore_index=True)
        every_run.drop(columns=["_overrides"]).to_parquet(paths["runs"], index=False)
    if not result.contributions.empty:
        paths["contributions"] = out / CONTRIBUTIONS_FILE
        result.contributions.to_csv(paths["contributions"], index=False)
    if not result.daily.empty:
        paths["daily"] = out / DAILY_FILE
        result.daily.to_parquet(paths["daily"], index=False)
    if not result.yearly.empty:
        paths["yearly"] = out / YEARLY_FILE
        result.yearly.to_parquet(paths["yearly"], index=False)
    if not result.summary.empty:
        paths["summary"] = out / SUMMARY_TABLE
        result.summary.to_csv(paths["summary"], index=False)
    if result.failed:
        paths["failed"] = out / FAILED_TABLE
        pd.DataFrame(
            [{"run": f["run"], "overrides": " ".join(f["overrides"]), "error": f["error"]} for f in result.failed]
        ).to_csv(paths["failed"], index=False)
    return paths


def publish(stage: Path, sweep_dir: Path, manifest: dict[str, Any]) -> None:
    """Replace a sweep folder's aggregates with those in ``stage``, together.

    ``aggregate.json`` goes first (so that a reader never takes a mix for a finished set) and comes back last,
    listing the runs the new aggregates describe. An aggregate that ``stage`` lacks (no finished runs, no failures)
    is removed, so that no file is left from an earlier set of runs.
    """
    (sweep_dir / AGGREGATE_FILE).unlink(missing_ok=True)
    figures, old_figures = sweep_dir / FIGURES_DIR, stage / f"old-{FIGURES_DIR}"
    if figures.exists():
        os.replace(figures, old_figures)
    if (stage / FIGURES_DIR).exists():
        os.replace(stage / FIGURES_DIR, figures)
    for name in AGGREGATES:
        if (stage / name).exists():
            os.replace(stage / name, sweep_dir / name)
        else:
            (sweep_dir / name).unlink(missing_ok=True)
    write_json_atomic(sweep_dir / AGGREGATE_FILE, manifest)


def aggregate_and_report(
    sweep_dir: Path, baseline: str | None = None, plots: bool = True, every_run: bool = False
) -> SweepResult:
    """Aggregate, write the tables, the figures and report.md together, and print what failed or is missing.

    The caller holds the sweep folder's lock (:class:`sim.analysis.folders.SweepLock`).
    """
    sweep_dir = Path(sweep_dir)
    result = aggregate(sweep_dir, baseline, every_run=every_run)
    stage = sweep_dir / f".aggregate-{os.getpid()}.tmp"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        write_tables(result, stage)
        figures: dict[str, Path] = {}
        if plots and not result.runs.empty:
            from sim.analysis.plots import make_plots

            staged = make_plots(result, stage / FIGURES_DIR)
            figures = {name: sweep_dir / FIGURES_DIR / path.name for name, path in staged.items()}
        from sim.analysis.report import write_report

        write_report(result, figures, stage)
        manifest = {
            "runs": sorted(result.runs["run"]) if not result.runs.empty else [],
            "failed": sorted(f["run"] for f in result.failed),
            "missing": [" ".join(job) for job in result.missing],
            "left_out": result.excluded,
            "files": sorted(p.name for p in stage.iterdir()),
        }
        publish(stage, sweep_dir, manifest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    report = sweep_dir / "report.md"
    n_ok = len(result.runs)
    print(f"Aggregated {n_ok} finished run(s) in {result.sweep_dir}")
    print(f"  report: {report}")
    if result.excluded:
        print(
            f"  {len(result.excluded)} run folder(s) here are not part of this sweep's plan (sweep.json) and were "
            "left out (python -m sim.analyze --all-runs reads them all)"
        )
    if result.failed:
        print(f"  {len(result.failed)} run(s) FAILED (see failed_runs.csv):")
        for f in result.failed:
            print(f"    {' '.join(f['overrides']) or f['run']}: {f['error']}")
    if result.missing:
        print(f"  {len(result.missing)} run(s) missing (not run yet or interrupted): re-run the sweep to resume")
    return result
