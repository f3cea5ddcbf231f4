"""Real tiny sweeps end to end: joblib launcher, aggregation, failed runs, resume."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException

from sim.analyze import main as analyze
from sim.runner.sweep import expand_sweep

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ["borough=small", "days=12", "scenario=no_police,hackney_pilot", "seed=0,1"]


def run_sweep(out: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "sim", "-m", *SWEEP, *extra, f"hydra.sweep.dir={out}", "hydra.launcher.n_jobs=2"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sweep") / "s"
    proc = run_sweep(out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_sweep_runs_every_job_with_joblib_and_aggregates(finished_sweep: Path):
    multirun = (finished_sweep / "multirun.yaml").read_text()
    assert "hydra_joblib_launcher" in multirun
    runs = pd.read_parquet(finished_sweep / "runs.parquet")
    assert len(runs) == 4
    assert set(runs["scenario"]) == {"no_police", "hackney_pilot"}
    assert sorted(runs["seed"].tolist()) == [0, 0, 1, 1]
    # every configured parameter and every metric is a column
    for column in ("students.labelling_effect", "borough.name", "unnecessary_crime_records_per_1000", "points_spent"):
        assert column in runs
    daily = pd.read_parquet(finished_sweep / "daily.parquet")
    assert len(daily) == 4 * 12
    summary = pd.read_csv(finished_sweep / "summary.csv")
    row = summary[(summary.scenario == "hackney_pilot") & (summary.metric == "police_contacts_per_1000")].iloc[0]
    assert row["baseline"] == "no_police"
    assert row["n"] == 2 and row["diff_n"] == 2
    assert row["ci_low"] <= row["mean"] <= row["ci_high"]
    assert row["diff_ci_low"] <= row["diff_mean"] <= row["diff_ci_high"]
    assert row["diff_mean"] > 0  # patrols and points activities add contacts
    baseline_row = summary[(summary.scenario == "no_police") & (summary.metric == "police_contacts_per_1000")].iloc[0]
    assert baseline_row["diff_mean"] == 0
    assert (finished_sweep / "report.md").exists()


def test_each_run_is_keyed_by_its_swept_settings(finished_sweep: Path):
    names = sorted(p.name for p in finished_sweep.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert "borough=small,days=12,scenario=hackney_pilot,seed=1" in names
    run = json.loads((finished_sweep / "borough=small,days=12,scenario=hackney_pilot,seed=1" / "run.json").read_text())
    assert run["status"] == "ok"
    assert "seed=1" in run["overrides"]


def test_resume_runs_only_what_is_missing_or_corrupt_and_matches(finished_sweep: Path, tmp_path: Path, capsys):
    out = tmp_path / "resumed"
    shutil.copytree(finished_sweep, out)
    for f in ("runs.parquet", "daily.parquet", "summary.csv", "report.md"):
        (out / f).unlink(missing_ok=True)
    # An interrupted sweep: one run never started, one was killed half way (no metrics.json yet), and one left a
    # truncated file (issue 11, item 4: it is not trusted).
    shutil.rmtree(out / "borough=small,days=12,scenario=no_police,seed=1")
    (out / "borough=small,days=12,scenario=hackney_pilot,seed=0" / "metrics.json").unlink()
    corrupt = out / "borough=small,days=12,scenario=hackney_pilot,seed=1" / "daily.parquet"
    corrupt.write_bytes(corrupt.read_bytes()[:100])
    assert analyze([str(out), "--no-plots"]) == 1  # listed as failed, naming the file
    assert f"{corrupt}: " in capsys.readouterr().out
    untouched = out / "borough=small,days=12,scenario=no_police,seed=0" / "metrics.json"
    before = untouched.stat().st_mtime_ns
    proc = run_sweep(out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert str(corrupt) in proc.stderr  # says why it runs that job again
    assert untouched.stat().st_mtime_ns == before  # a finished run is not run again
    progress = (out / ".progress").read_text().split()
    assert sorted(progress) == ["ok", "ok", "ok", "skipped"]
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "runs.parquet").drop(columns=["run"]),
        pd.read_parquet(finished_sweep / "runs.parquet").drop(columns=["run"]),
    )


def test_a_changed_configuration_is_not_taken_for_done(finished_sweep: Path, tmp_path: Path):
    out = tmp_path / "changed"
    shutil.copytree(finished_sweep, out)
    run_dir = out / "borough=small,days=12,scenario=no_police,seed=0"
    record = json.loads((run_dir / "run.json").read_text())
    record["config_hash"] = "something-else"
    (run_dir / "run.json").write_text(json.dumps(record))
    proc = run_sweep(out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted((out / ".progress").read_text().split()) == ["ok", "skipped", "skipped", "skipped"]


FLAKY = """
from sim.core.agents import Officer


class FlakyOfficer(Officer):
    def decides_to_record(self, incident):
        if self.model.config.seed == 1:
            raise RuntimeError("deliberate failure for seed 1")
        return super().decides_to_record(incident)
"""


def test_failed_runs_are_listed_not_dropped(tmp_path: Path):
    module_dir = tmp_path / "mods"
    module_dir.mkdir()
    (module_dir / "flaky_officer.py").write_text(FLAKY)
    # the module on the import path beside the project (a configuration imports nothing from the current folder)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(module_dir), os.environ.get("PYTHONPATH")) if p))
    out = tmp_path / "failing"
    proc = run_sweep(out, "agents.officer=flaky_officer.FlakyOfficer", env=env)
    assert proc.returncode == 1
    assert "deliberate failure for seed 1" in proc.stdout + proc.stderr
    runs = pd.read_parquet(out / "runs.parquet")
    assert sorted(runs["seed"].tolist()) == [0, 0]  # the finished runs are kept
    failed = pd.read_csv(out / "failed_runs.csv")
    assert len(failed) == 2
    assert failed["overrides"].str.contains("seed=1").all()
    assert failed["error"].str.contains("deliberate failure").all()
    assert "deliberate failure" in (out / "report.md").read_text()
    # The same aggregation as a command, e.g. after Hydra gave up on a sweep.
    (out / "runs.parquet").unlink()
    proc = subprocess.run(
        [sys.executable, "-m", "sim.analyze", str(out), "--no-plots"], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 1
    assert "2 run(s) FAILED" in proc.stdout
    assert len(pd.read_parquet(out / "runs.parquet")) == 2


def test_bad_setting_stops_the_sweep_before_any_run(tmp_path: Path):
    out = tmp_path / "bad"
    proc = run_sweep(out, "staff.escalate_when_no_capacity=0.2,1.5")
    assert proc.returncode == 2
    assert "staff.escalate_when_no_capacity" in proc.stderr
    assert not any(p.is_dir() for p in out.iterdir()) if out.exists() else True


def test_analyze_reports_missing_runs_of_a_partial_sweep(finished_sweep: Path, tmp_path: Path):
    out = tmp_path / "partial"
    shutil.copytree(finished_sweep, out)
    shutil.rmtree(out / "borough=small,days=12,scenario=hackney_pilot,seed=1")
    proc = subprocess.run(
        [sys.executable, "-m", "sim.analyze", str(out), "--no-plots"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 run(s) missing" in proc.stdout
    assert len(pd.read_parquet(out / "runs.parquet")) == 3


EXPANSIONS = [
    (["a=1,2", "b=x"], [["a=1", "b=x"], ["a=2", "b=x"]]),
    (["seed=range(0,3)"], [["seed=0"], ["seed=1"], ["seed=2"]]),
    (
        ["scenario=choice(no_police,hackney_pilot)", "seed=0,1"],
        [
            ["scenario=no_police", "seed=0"],
            ["scenario=no_police", "seed=1"],
            ["scenario=hackney_pilot", "seed=0"],
            ["scenario=hackney_pilot", "seed=1"],
        ],
    ),
    (
        ["+experiment=compare_scenarios", "borough=small", "days=30"],
        [["+experiment=compare_scenarios", "borough=small", "days=30"]],
    ),
    (["x=[0,0,1]", "name='a b'"], [["x=[0,0,1]", "name='a b'"]]),
    # a key given twice keeps its first place and its last values (sweeper params, then the command line)
    (["seed=range(0,20)", "days=5", "seed=range(0,2)"], [["seed=0", "days=5"], ["seed=1", "days=5"]]),
    (["a=range(1,3)", "b=10,20"], [["a=1", "b=10"], ["a=1", "b=20"], ["a=2", "b=10"], ["a=2", "b=20"]]),
]


@pytest.mark.parametrize(("arguments", "jobs"), EXPANSIONS)
def test_sweep_expansion_lists_the_jobs_in_launch_order(arguments: list[str], jobs: list[list[str]]):
    assert expand_sweep(arguments) == jobs


@pytest.mark.parametrize(("arguments", "jobs"), EXPANSIONS)
def test_sweep_expansion_matches_hydras_basic_sweeper(arguments: list[str], jobs: list[list[str]]):
    # Cross-check against the sweeper that launches the jobs (a private Hydra module, used only in this test).
    basic_sweeper = pytest.importorskip("hydra._internal.core_plugins.basic_sweeper")
    overrides = OverridesParser.create().parse_overrides(arguments)
    batches = basic_sweeper.BasicSweeper.split_arguments(overrides, None)
    assert [list(job) for batch in batches for job in batch] == expand_sweep(arguments)


def test_sweep_expansion_refuses_an_interval():
    with pytest.raises(HydraException, match="interval"):
        expand_sweep(["a=interval(0,1)"])
