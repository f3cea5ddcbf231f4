"""End to end: ``python -m sim`` on the small borough for every scenario writes the outputs the brief asks for."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from clihelpers import run_cli_parallel
from simhelpers import SCENARIOS

from sim.core.configure import load_built_in_mechanisms
from sim.core.metrics import RUN_LABELS
from sim.core.outcomes import GROUPS, REGISTRY

load_built_in_mechanisms()

DAYS = 20

# every declared outcome (the model's and the built-in mechanisms'), after what was run
REQUIRED_KEYS = [*RUN_LABELS, *(m.key for m in REGISTRY)]


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    jobs = {s: (base / s, [f"scenario={s}", "borough=small", f"days={DAYS}", "seed=4"]) for s in SCENARIOS}
    results = run_cli_parallel(jobs)
    return {s: (results[s], base / s) for s in SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_cli_run_succeeds_and_prints_the_summary(cli_runs, scenario):
    proc, _ = cli_runs[scenario]
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    title = proc.stdout.splitlines()[0]
    assert scenario in title and "small" in title and f"{DAYS} days" in title and "seed 4" in title
    for label in ("Police contacts per 1,000 students", "Crime records per 1,000 students", "Officer hours"):
        assert label in proc.stdout


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_metrics_json_has_every_key_with_a_number_or_null(cli_runs, scenario):
    _, run_dir = cli_runs[scenario]
    text = (run_dir / "metrics.json").read_text()
    metrics = json.loads(text)
    assert "NaN" not in text and "Infinity" not in text
    missing = [k for k in REQUIRED_KEYS if k not in metrics]
    assert not missing, missing
    assert metrics["scenario"] == scenario
    assert metrics["seed"] == 4
    assert metrics["days"] == DAYS
    for key in REQUIRED_KEYS:
        if key in ("scenario", "borough"):
            continue
        value = metrics[key]
        assert value is None or (isinstance(value, int | float) and not isinstance(value, bool)), (key, value)
        if value is not None:
            assert math.isfinite(value) and value >= 0, (key, value)
    assert metrics["students"] > 0 and metrics["incidents"] > 0
    if scenario == "hackney_pilot":
        assert metrics["points_spent"] > 0
    else:
        assert metrics["points_spent"] is None


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_daily_parquet_has_a_row_per_day_per_school_and_group_columns(cli_runs, scenario):
    _, run_dir = cli_runs[scenario]
    daily = pd.read_parquet(run_dir / "daily.parquet")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    schools = metrics["schools"]
    assert len(daily) == DAYS * schools
    assert sorted(daily["day"].unique()) == list(range(DAYS))
    assert sorted(daily["school"].unique()) == list(range(schools))
    assert not daily.duplicated(["day", "school"]).any()
    assert set(daily["scenario"].astype(str)) == {scenario}
    assert set(daily["phase"].astype(str)) <= {"primary", "secondary"}
    for what in REGISTRY.counters:
        name = what.name
        assert name in daily.columns
        for group in GROUPS:
            assert f"{name}_{group}" in daily.columns
        assert (daily[name] == sum(daily[f"{name}_{g}"] for g in GROUPS)).all()
    assert daily["incidents"].sum() == metrics["incidents"]
    assert daily["crime_records"].sum() == metrics["crime_records"]
    assert daily["officer_hours"].sum() == pytest.approx(metrics["officer_hours"])


def test_scenarios_differ_in_the_way_the_brief_says(cli_runs):
    m = {s: json.loads((cli_runs[s][1] / "metrics.json").read_text()) for s in SCENARIOS}
    assert m["embedded_officer"]["police_contacts_presence"] > 0
    assert m["embedded_officer"]["police_contacts_lesson"] > 0
    assert m["hackney_pilot"]["police_contacts_corridor_stop"] > 0
    assert m["hackney_pilot"]["police_contacts_points_activity"] > 0
    for s in ("no_police", "supportive_policing"):
        for kind in ("presence", "lesson", "points_activity", "corridor_stop"):
            assert m[s][f"police_contacts_{kind}"] == 0, (s, kind)
    # Same seed, same borough and children in every scenario.
    assert len({m[s]["students"] for s in SCENARIOS}) == 1
    assert m["embedded_officer"]["police_contacts"] > m["no_police"]["police_contacts"]
