"""Gather a sweep directory into tidy tables: runs, borough-level days, and a summary with paired differences.

Works on any sweep directory, finished, partial or with failed runs: it reads what the jobs left on disk
(``metrics.json``, ``daily.parquet``, ``yearly.parquet``, ``run.json``, ``config.json``, ``error.json``) and reports
failed and missing runs rather than dropping them silently.
"""

from __future__ import annotations

import json
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
from sim.analysis.folders import DAILY_FILE, ERROR_FILE, RUN_FILE, SWEEP_FILE, YEARLY_FILE
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


def collect(
    sweep_dir: Path,
) -> tuple[list[dict[str, Any]], list[pd.DataFrame], list[dict[str, Any]], list[pd.DataFrame]]:
    """Rows of finished runs, their daily frames summed over schools, the failed runs, and their yearly frames."""
    rows, dailies, failed, yearlies = [], [], [], []
    for d in _run_dirs(sweep_dir):
        run_info = json.loads((d / RUN_FILE).read_text()) if (d / RUN_FILE).exists() else {}
        overrides = run_info.get("overrides", [])
        if (d / "metrics.json").exists():
            metrics = json.loads((d / "metrics.json").read_text())
            config = json.loads((d / "config.json").read_text()) if (d / "config.json").exists() else {}
            row: dict[str, Any] = {"run": d.name}
            row |= _flatten(config)
            row |= metrics
            row |= dict(parse_override(o) for o in overrides)
            row.pop("scenario.without", None)  # given once, as the column "without"
            row[WITHOUT_COLUMN] = SEPARATOR.join(names_left_out((config.get("scenario") or {}).get("without")))
            row[MECHANISMS_COLUMN] = SEPARATOR.join(mechanisms_ran(config))
            row["_overrides"] = json.dumps(overrides)
            rows.append(row)
            if (d / DAILY_FILE).exists():
                daily = pd.read_parquet(d / DAILY_FILE)
                numeric = daily.drop(columns=["scenario", "seed", "school", "phase"], errors="ignore")
                borough_day = numeric.groupby("day", as_index=False).sum()
                borough_day.insert(0, "run", d.name)
                dailies.append(borough_day)
            if (d / YEARLY_FILE).exists():
                yearly = pd.read_parquet(d / YEARLY_FILE).drop(columns=["scenario", "seed"], errors="ignore")
                yearly.insert(0, "run", d.name)
                yearlies.append(yearly)
        elif (d / ERROR_FILE).exists():
            error = json.loads((d / ERROR_FILE).read_text())
            failed.append({"run": d.name, "overrides": error.get("overrides", overrides), "error": error.get("error")})
    return rows, dailies, failed, yearlies


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


def aggregate(sweep_dir: Path, baseline: str | None = None) -> SweepResult:
    """Aggregate a sweep directory into :class:`SweepResult` (nothing is written)."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"no sweep directory at {sweep_dir}")
    meta = json.loads((sweep_dir / SWEEP_FILE).read_text()) if (sweep_dir / SWEEP_FILE).exists() else {}
    rows, dailies, failed, yearlies = collect(sweep_dir)
    all_runs = pd.DataFrame(rows)
    ablation = pd.DataFrame()
    runs = all_runs
    if not all_runs.empty:  # leave-one-out runs are kept apart: the tables and figures are of full runs
        left_out = all_runs[WITHOUT_COLUMN] != ""
        runs, ablation = all_runs[~left_out].reset_index(drop=True), all_runs[left_out].reset_index(drop=True)
    metrics_keys: list[str] = []
    for d in _run_dirs(sweep_dir):
        if (d / "metrics.json").exists():
            for k in json.loads((d / "metrics.json").read_text()):
                if k not in metrics_keys:
                    metrics_keys.append(k)
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
    jobs = meta.get("jobs") or []
    if jobs:
        done = set(all_runs["_overrides"].map(lambda s: tuple(sorted(json.loads(s))))) if not all_runs.empty else set()
        done |= {tuple(sorted(f["overrides"])) for f in failed}
        missing = [job for job in jobs if tuple(sorted(job)) not in done]
    return SweepResult(
        sweep_dir, meta, runs, daily, summary, factors, metrics, baseline, failed, missing, yearly, ablation,
        contribution_table,
    )  # fmt: skip


def _decomposed(experiment: dict[str, Any], metrics: list[str]) -> list[str]:
    """The outcomes whose differences are decomposed: the headline ones, the experiment's and the ablation's."""
    wanted = [m.key for m in REGISTRY.headline()]
    wanted += list(experiment.get("metrics") or []) + list((experiment.get("ablation") or {}).get("outcomes") or [])
    return [m for m in dict.fromkeys(wanted) if m in metrics]


def write_tables(result: SweepResult) -> dict[str, Path]:
    """Write runs.parquet, daily.parquet, yearly.parquet, summary.csv and failed_runs.csv into the sweep directory."""
    out = result.sweep_dir
    paths = {}
    if not result.runs.empty:
        paths["runs"] = out / "runs.parquet"
        every_run = pd.concat([result.runs, result.ablation], ignore_index=True)
        every_run.drop(columns=["_overrides"]).to_parquet(paths["runs"], index=False)
    contributions_path = out / CONTRIBUTIONS_FILE
    if not result.contributions.empty:
        result.contributions.to_csv(contributions_path, index=False)
        paths["contributions"] = contributions_path
    else:
        contributions_path.unlink(missing_ok=True)
    if not result.daily.empty:
        paths["daily"] = out / DAILY_FILE
        result.daily.to_parquet(paths["daily"], index=False)
    if not result.yearly.empty:
        paths["yearly"] = out / YEARLY_FILE
        result.yearly.to_parquet(paths["yearly"], index=False)
    if not result.summary.empty:
        paths["summary"] = out / "summary.csv"
        result.summary.to_csv(paths["summary"], index=False)
    failed_path = out / "failed_runs.csv"
    if result.failed:
        pd.DataFrame(
            [{"run": f["run"], "overrides": " ".join(f["overrides"]), "error": f["error"]} for f in result.failed]
        ).to_csv(failed_path, index=False)
        paths["failed"] = failed_path
    else:
        failed_path.unlink(missing_ok=True)
    return paths


def aggregate_and_report(sweep_dir: Path, baseline: str | None = None, plots: bool = True) -> SweepResult:
    """Aggregate, write the tables, the figures and report.md, and print what failed or is missing."""
    result = aggregate(sweep_dir, baseline)
    write_tables(result)
    figures: dict[str, Path] = {}
    if plots and not result.runs.empty:
        from sim.analysis.plots import make_plots

        figures = make_plots(result)
    from sim.analysis.report import write_report

    report = write_report(result, figures)
    n_ok = len(result.runs)
    print(f"Aggregated {n_ok} finished run(s) in {result.sweep_dir}")
    print(f"  report: {report}")
    if result.failed:
        print(f"  {len(result.failed)} run(s) FAILED (see failed_runs.csv):")
        for f in result.failed:
            print(f"    {' '.join(f['overrides'])}: {f['error']}")
    if result.missing:
        print(f"  {len(result.missing)} run(s) missing (not run yet or interrupted): re-run the sweep to resume")
    return result
