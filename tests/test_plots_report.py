"""Figures and report.md from a real (tiny) sweep; edge cases: one seed, one scenario, failures, heatmap."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import zlib
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sim.analysis.aggregate import SweepResult, aggregate
from sim.analysis.plots import (
    make_plots,
    plot_heatmap,
    scenario_colour,
    scenario_order,
)
from sim.analysis.report import fmt_ci, fmt_value, write_report
from sim.analysis.specs import FALLBACK_COLOURS, scenario_files
from sim.analysis.stats import summarise

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("no_police", "hackney_pilot")
MAIN_FIGURES = {"outcomes", "contacts_by_type", "paired_differences", "school_year", "disproportionality"}


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    """Run a real sweep: 2 scenarios x 2 seeds x 15 days, small borough; the end-of-sweep callback reports."""
    out = tmp_path_factory.mktemp("sweep") / "tiny"
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "-m",
        "+experiment=compare_scenarios",
        "experiment.ablation.seeds=0",  # no leave-one-out runs here (tests/test_drivers.py has them)
        "borough=small",
        "days=15",
        f"scenario={','.join(SCENARIOS)}",
        "seed=0,1",
        "hydra.launcher.n_jobs=2",
        "hydra.callbacks.sweep.progress=false",
        f"hydra.sweep.dir={out}",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def result(sweep_dir) -> SweepResult:
    return aggregate(sweep_dir)


def _assert_image(path: Path) -> None:
    assert path.exists() and path.suffix == ".png", path
    assert path.stat().st_size > 15_000, f"{path.name} is suspiciously small"
    img = mpimg.imread(path)
    h, w = img.shape[:2]
    assert w >= 600 and h >= 300, (path.name, w, h)
    assert float(np.asarray(img[..., :3]).std()) > 0.02, f"{path.name} looks blank"


def _variant(result: SweepResult, runs_mask: pd.Series, out: Path, **changes) -> SweepResult:
    """The same sweep restricted to some runs (summary recomputed), written to another directory."""
    out.mkdir(parents=True, exist_ok=True)
    runs = result.runs[runs_mask].reset_index(drop=True)
    baseline = changes.pop("baseline", result.baseline)
    if baseline is not None and baseline not in set(runs["scenario"]):
        baseline = None
    factors = changes.pop("factors", result.factors)
    runs = changes.pop("runs", runs)
    daily = result.daily[result.daily["run"].isin(set(runs["run"]))].reset_index(drop=True)
    daily = changes.pop("daily", daily)
    metrics = [m for m in result.metrics if m in runs]
    summary = summarise(runs, factors, metrics, baseline)
    return dataclasses.replace(
        result,
        sweep_dir=out,
        runs=runs,
        daily=daily,
        summary=summary,
        factors=factors,
        metrics=metrics,
        baseline=baseline,
        **changes,
    )


def test_sweep_writes_figures_and_report(sweep_dir, result):
    figures = {p.stem for p in (sweep_dir / "figures").glob("*.png")}
    assert figures >= MAIN_FIGURES
    assert "heatmap" not in figures  # no settings swept besides scenario and seed
    for name in figures:
        _assert_image(sweep_dir / "figures" / f"{name}.png")
    report = (sweep_dir / "report.md").read_text()
    assert report.startswith("# Sweep report: compare_scenarios")
    assert "**Question.**" in report
    for s in SCENARIOS:
        assert f"`{s}`" in report
    for name in MAIN_FIGURES:
        assert f"](figures/{name}.png)" in report
    assert "2 seeds" in report and "4 finished, 0 failed, 0 missing (of 4 planned)" in report
    assert "## What drives each difference" not in report  # no leave-one-out runs asked for
    assert "git commit" in report and "python -m sim -m +experiment=compare_scenarios" in report
    assert "seeds for ±10%" in report
    assert "Failed runs: none." in report and "Missing runs: none." in report


def test_single_seed(result, tmp_path):
    one = _variant(result, result.runs["seed"] == 0, tmp_path / "one_seed")
    figures = make_plots(one)
    assert set(figures) >= MAIN_FIGURES
    report = write_report(one, figures).read_text()
    assert "Only one seed" in report
    assert "n/a (needs ≥ 2 seeds)" in report
    for s in SCENARIOS:
        assert f"`{s}`" in report


def test_single_scenario_has_no_differences(result, tmp_path):
    one = _variant(result, result.runs["scenario"] == "hackney_pilot", tmp_path / "one_scenario")
    assert one.baseline is None
    figures = make_plots(one)
    assert "outcomes" in figures and "paired_differences" not in figures
    report = write_report(one, figures).read_text()
    assert "No baseline scenario" in report and "`hackney_pilot`" in report


def test_missing_metric_and_no_daily(result, tmp_path):
    runs = result.runs.drop(columns=["police_contacts_corridor_stop_per_1000", "rri_crime_records"])
    variant = _variant(result, result.runs["run"].notna(), tmp_path / "partial", runs=runs, daily=pd.DataFrame())
    figures = make_plots(variant)
    assert "school_year" not in figures and {"outcomes", "disproportionality", "contacts_by_type"} <= set(figures)
    write_report(variant, figures)


def test_heatmap_for_two_swept_settings(result, tmp_path):
    copies = []
    for a in (0.25, 1.0):
        for b in (0.1, 0.6):
            c = result.runs.copy()
            c["borough.youth_workers_per_1000_pupils"] = a
            c["staff.escalate_when_no_capacity"] = b
            c["run"] = c["run"] + f",a={a},b={b}"
            copies.append(c)
    runs = pd.concat(copies, ignore_index=True)
    factors = ["scenario", "borough.youth_workers_per_1000_pupils", "staff.escalate_when_no_capacity"]
    variant = _variant(result, result.runs["run"].notna(), tmp_path / "heat", runs=runs, factors=factors)
    assert plot_heatmap(_variant(result, result.runs["run"].notna(), tmp_path / "no_heat")) is None
    fig = plot_heatmap(variant)
    assert fig is not None
    path = tmp_path / "heat" / "figures" / "heatmap.png"
    path.parent.mkdir()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    _assert_image(path)
    report = write_report(variant, {"heatmap": path}).read_text()
    assert "](figures/heatmap.png)" in report and "`staff.escalate_when_no_capacity`" in report


def test_failed_missing_and_no_finished_runs(result, tmp_path):
    failed = [
        {
            "run": "scenario=no_police,seed=7",
            "overrides": ["scenario=no_police", "seed=7"],
            "error": "Boom: x",
        }
    ]
    missing = [["scenario=hackney_pilot", "seed=8"]]
    variant = _variant(result, result.runs["run"].notna(), tmp_path / "failed", failed=failed, missing=missing)
    figures = make_plots(variant)
    assert set(figures) >= MAIN_FIGURES
    for name, path in figures.items():
        assert path == tmp_path / "failed" / "figures" / f"{name}.png"
    report = write_report(variant, figures).read_text()
    assert "1 run(s) failed" in report and "Boom: x" in report
    assert "1 planned run(s) are missing" in report and "`scenario=hackney_pilot seed=8`" in report

    empty = dataclasses.replace(
        variant,
        sweep_dir=tmp_path / "empty",
        runs=pd.DataFrame(),
        daily=pd.DataFrame(),
        summary=pd.DataFrame(),
        baseline=None,
    )
    (tmp_path / "empty").mkdir()
    assert make_plots(empty) == {}
    report = write_report(empty, {}).read_text()
    assert "No run finished" in report and "Boom: x" in report


def test_scenario_colours_are_fixed_and_deterministic():
    files = scenario_files()
    assert scenario_colour("no_police") == files["no_police"]["colour"] == "#000000"
    colours = [scenario_colour(s) for s in files]
    assert len(set(colours)) == len(colours), "two scenarios in conf/scenario/ share a colour"
    assert scenario_colour("my_new_model") == scenario_colour("my_new_model")
    # a stable hash of the name (not Python's per-process randomised hash()), so the same in every sweep
    assert scenario_colour("my_new_model") == FALLBACK_COLOURS[zlib.crc32(b"my_new_model") % len(FALLBACK_COLOURS)]
    assert scenario_order(["zeta", "hackney_pilot", "no_police"], "hackney_pilot") == [
        "hackney_pilot",
        "no_police",
        "zeta",
    ]


def test_number_formatting():
    assert fmt_value(3204.8) == "3,205"
    assert fmt_value(17.61) == "17.6"
    assert fmt_value(0.7237, "share") == "72.4%"
    assert fmt_ci(17.61, 15.32, 19.9) == "17.6 [15.3, 19.9]"
    assert fmt_ci(9.6, 8.7, 10.6, signed=True) == "+9.6 [+8.7, +10.6]"
    assert fmt_ci(-0.078, -0.706, 0.55, "ratio", signed=True) == "-0.08 [-0.71, +0.55]"
    assert fmt_ci(0.84, 0.676, 1.004, "share", clip=True) == "84.0% [67.6, 100.0]"
    assert fmt_ci(5.0, np.nan, np.nan) == "5.00"
    assert fmt_value(None) == "\N{EN DASH}"


def test_report_sweep_json_missing(result, tmp_path):
    variant = _variant(result, result.runs["run"].notna(), tmp_path / "nometa", meta={})
    report = write_report(variant, {}).read_text()
    assert "reconstructed from the runs' overrides" in report
    assert json.dumps(SCENARIOS[0])[1:-1] in report
