"""What drives each difference: leave-one-out runs (scenario.without), their planning, the arithmetic, the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.drivers import TERM_BASELINE, TERM_DIFFERENCE, TERM_MECHANISM, TERM_REST, contributions
from sim.analysis.stats import mean_ci
from sim.core.compose import compose_config
from sim.core.config import ConfigError
from sim.core.configure import mechanisms, removal_units
from sim.runner.sweep import ablation_jobs, check_ablation

ROOT = Path(__file__).resolve().parent.parent
OUTCOME = "unnecessary_crime_records_per_1000"


# ------------------------------------------------------------------------------------------------ scenario.without


def test_without_leaves_the_named_mechanisms_out():
    config = compose_config(["scenario=embedded_officer", "++scenario.without=[police_lessons]"])
    assert config.scenario.without == ["police_lessons"]
    assert "police_lessons" in config.scenario.mechanisms  # the scenario is kept whole in the configuration
    assert [spec.name for spec in mechanisms(config)] == [
        "non_emergency_calls",
        "embedded_presence",
        "officer_first_response",
    ]


def test_without_an_unknown_mechanism_is_an_error_naming_the_setting():
    with pytest.raises(ConfigError) as err:
        compose_config(["scenario=hackney_pilot", "++scenario.without=[police_lessons,points_budget]"])
    text = str(err.value)
    assert "scenario.without: 'police_lessons' is not a mechanism of the scenario 'hackney_pilot'" in text
    assert "its mechanisms: non_emergency_calls, linked_advisors, safer_corridors, points_budget" in text


def test_without_a_mechanism_others_need_says_to_leave_them_out_too():
    with pytest.raises(ConfigError, match=r"leave out 'officer_first_response' too"):
        compose_config(["scenario=embedded_officer", "++scenario.without=[embedded_presence,police_lessons]"])


def test_every_mechanism_can_be_left_out_even_the_last():
    config = compose_config(["scenario=no_police", "++scenario.without=[ordinary_calls]", "borough=small"])
    assert mechanisms(config) == []


def test_removal_units_take_the_mechanisms_that_need_one_with_it():
    assert removal_units(compose_config(["scenario=embedded_officer"])) == [
        ["non_emergency_calls"],
        ["embedded_presence", "officer_first_response", "police_lessons"],
        ["officer_first_response"],
        ["police_lessons"],
    ]
    assert removal_units(compose_config(["scenario=no_police"])) == [["ordinary_calls"]]


# ------------------------------------------------------------------------------------------------ planning


def test_ablation_jobs_follow_each_job_on_the_first_seeds():
    jobs = [[f"scenario={s}", f"seed={k}", "days=5"] for s in ("a", "b") for k in (3, 1, 2)]
    units = {"a": [["x"], ["y", "z"]], "b": []}
    asked: list[list[str]] = []

    def units_of(overrides: list[str]) -> list[list[str]]:
        asked.append(overrides)
        return units[overrides[0].split("=")[1]]

    out = ablation_jobs(jobs, {"seeds": 2}, units_of)
    assert out == [
        ["scenario=a", "seed=1", "days=5", "++scenario.without=[x]", "output.daily=false"],
        ["scenario=a", "seed=1", "days=5", "++scenario.without=[y,z]", "output.daily=false"],
        ["scenario=a", "seed=2", "days=5", "++scenario.without=[x]", "output.daily=false"],
        ["scenario=a", "seed=2", "days=5", "++scenario.without=[y,z]", "output.daily=false"],
    ]
    assert asked == [["scenario=a", "days=5"], ["scenario=b", "days=5"]]  # each scenario composed once
    assert ablation_jobs(jobs, None, units_of) == [] and ablation_jobs(jobs, {"seeds": 0}, units_of) == []
    already = [["scenario=a", "seed=1", "++scenario.without=[x]"]]
    assert ablation_jobs(already, {"seeds": 5}, units_of) == []


# ------------------------------------------------------------------------------------------------ arithmetic


def _row(scenario: str, seed: int, value: float, without: str = "", mechanisms: str = "m") -> dict:
    return {"run": f"{scenario}-{without}-{seed}", "scenario": scenario, "seed": seed, "without": without,
            "mechanisms": mechanisms, OUTCOME: value}  # fmt: skip


def test_contributions_arithmetic_on_a_tiny_runs_table():
    """S = {a, b} with b needing a; baseline B = {o}. Hand-computed lines, difference and rest, seed by seed."""
    seeds = [0, 1, 2]
    y_b, y_b_no_o = [1.0, 2.0, 3.0], [0.5, 1.5, 2.0]
    y_s, y_s_no_b, y_s_no_ab = [10.0, 12.0, 11.0], [8.0, 9.0, 9.0], [3.0, 4.0, 4.0]
    runs = pd.DataFrame([_row("B", k, y_b[k]) for k in seeds] + [_row("S", k, y_s[k]) for k in seeds])
    ablation = pd.DataFrame(
        [_row("B", k, y_b_no_o[k], "o") for k in seeds]
        + [_row("S", k, y_s_no_b[k], "b") for k in seeds]
        + [_row("S", k, y_s_no_ab[k], "a, b") for k in seeds]
    )
    table = contributions(runs, ablation, ["scenario"], [OUTCOME], "B")
    assert set(table["scenario"]) == {"S"}  # the baseline's lines appear, signed, in S's rows

    def term(kind: str, mechanism: str = "") -> pd.Series:
        rows = table[(table["term"] == kind) & (table["mechanism"] == mechanism)]
        assert len(rows) == 1
        return rows.iloc[0]

    c_b = np.array([2.0, 3.0, 2.0])  # Y(S) - Y(S without b)
    c_a = np.array([7.0, 8.0, 7.0]) - c_b  # Y(S) - Y(S without a and b), less b's own line: 5 in every seed
    c_o = np.array([0.5, 0.5, 1.0])  # the baseline's line
    diff = np.array(y_s) - np.array(y_b)
    rest = diff - c_a - c_b + c_o
    np.testing.assert_allclose(rest, [2.5, 2.5, 2.0])
    for row, values in (
        (term(TERM_DIFFERENCE), diff),
        (term(TERM_MECHANISM, "a"), c_a),
        (term(TERM_MECHANISM, "b"), c_b),
        (term(TERM_BASELINE, "o"), -c_o),
        (term(TERM_REST), rest),
    ):
        n, mean, _sd, lo, hi = mean_ci(values)
        assert row["n"] == n == 3
        assert row["mean"] == pytest.approx(mean)
        assert row["ci_low"] == pytest.approx(lo, nan_ok=True) and row["ci_high"] == pytest.approx(hi, nan_ok=True)
    assert term(TERM_MECHANISM, "a")["removed"] == "a, b"
    assert term(TERM_MECHANISM, "a")[["ci_low", "ci_high"]].tolist() == [5.0, 5.0]  # no spread, no width
    # the terms add up to the difference: lines - baseline's lines + rest
    parts = table[table["term"] != TERM_DIFFERENCE]["mean"].sum()
    assert parts == pytest.approx(term(TERM_DIFFERENCE)["mean"])
    assert json.loads(term(TERM_REST)["seeds"]) == seeds


def test_contributions_use_only_seeds_with_every_term():
    runs = pd.DataFrame([_row("B", k, 1.0) for k in range(4)] + [_row("S", k, 2.0 + k) for k in range(4)])
    ablation = pd.DataFrame([_row("B", k, 1.0, "o") for k in range(2)] + [_row("S", k, 1.0, "x") for k in range(3)])
    table = contributions(runs, ablation, ["scenario"], [OUTCOME], "B")
    assert set(table["n"]) == {2}
    assert json.loads(table["seeds"].iloc[0]) == [0, 1]
    # a baseline with no mechanism has no lines of its own, and needs no leave-one-out run
    runs_bare = runs.assign(mechanisms=np.where(runs["scenario"] == "B", "", "m"))
    bare = contributions(runs_bare, ablation[ablation["scenario"] == "S"], ["scenario"], [OUTCOME], "B")
    assert TERM_BASELINE not in set(bare["term"]) and set(bare["n"]) == {3}


# ------------------------------------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """compare_scenarios on the small borough, 2 scenarios x 2 seeds x 15 days, with its leave-one-out runs."""
    out = tmp_path_factory.mktemp("drivers") / "s"
    cmd = [sys.executable, "-m", "sim", "-m", "+experiment=compare_scenarios", "borough=small", "days=15",
           "scenario=no_police,embedded_officer", "seed=0,1", "hydra.launcher.n_jobs=2",
           "hydra.callbacks.sweep.progress=false", f"hydra.sweep.dir={out}"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_a_sweep_runs_the_leave_one_out_jobs_and_keeps_them_apart(sweep: Path):
    runs = pd.read_parquet(sweep / "runs.parquet")
    # 2 scenarios x 2 seeds, then (1 + 4 units) x 2 seeds leave-one-out runs, each in a folder of its own
    assert len(runs) == 4 + 10 and runs["run"].is_unique
    full = runs[runs["without"] == ""]
    assert len(full) == 4 and set(full["mechanisms"]) == {
        "ordinary_calls",
        "non_emergency_calls, embedded_presence, officer_first_response, police_lessons",
    }
    left_out = runs[runs["without"] != ""]
    assert set(left_out["without"]) == {
        "ordinary_calls",
        "non_emergency_calls",
        "embedded_presence, officer_first_response, police_lessons",
        "officer_first_response",
        "police_lessons",
    }
    assert (left_out[left_out["without"] == "ordinary_calls"]["mechanisms"] == "").all()
    summary = pd.read_csv(sweep / "summary.csv")
    assert summary.groupby("scenario")["n"].max().tolist() == [2, 2]  # the full runs only
    assert "without" not in summary and "scenario.without" not in summary


def test_a_sweep_writes_contributions_and_the_report_section(sweep: Path):
    table = pd.read_csv(sweep / "contributions.csv").fillna({"mechanism": "", "removed": ""})
    for column in ("scenario", "term", "mechanism", "removed", "outcome", "mean", "ci_low", "ci_high", "n"):
        assert column in table
    rows = table[(table["scenario"] == "embedded_officer") & (table["outcome"] == "police_contacts_per_1000")]
    assert set(rows["term"]) == {TERM_DIFFERENCE, TERM_MECHANISM, TERM_BASELINE, TERM_REST}
    assert set(rows[rows["term"] == TERM_MECHANISM]["mechanism"]) == {
        "non_emergency_calls",
        "embedded_presence",
        "officer_first_response",
        "police_lessons",
    }
    parts = rows[rows["term"] != TERM_DIFFERENCE]["mean"].sum()
    assert parts == pytest.approx(rows[rows["term"] == TERM_DIFFERENCE]["mean"].iloc[0])
    summary = pd.read_csv(sweep / "summary.csv")
    contacts = summary[(summary.scenario == "embedded_officer") & (summary.metric == "police_contacts_per_1000")]
    # on the same two seeds, the decomposed difference is the summary's paired difference
    assert rows[rows["term"] == TERM_DIFFERENCE]["mean"].iloc[0] == pytest.approx(contacts["diff_mean"].iloc[0])
    report = (sweep / "report.md").read_text()
    section = report.split("## What drives each difference", 1)[1].split("## Figures", 1)[0]
    assert "### `embedded_officer`" in section and "### `no_police`" not in section
    assert "`embedded_presence` is left out together with `officer_first_response` and `police_lessons`" in section
    assert "Leaving each mechanism out in turn" in section or "changes nothing in any seed" in section
    assert "interactions between mechanisms" in section
    assert section.count("\n- ") == 4  # one sentence per outcome the experiment names (experiment.ablation)
    assert "(and 10 leave-one-out runs)" in report


def test_the_command_line_names_the_setting_of_an_unknown_mechanism(tmp_path: Path):
    cmd = [sys.executable, "-m", "sim", "scenario=no_police", "++scenario.without=[police_lessons]", "borough=small",
           "days=1", f"hydra.run.dir={tmp_path}"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "scenario.without: 'police_lessons' is not a mechanism of the scenario 'no_police'" in proc.stderr


def test_experiment_ablation_is_checked():
    assert check_ablation(None) is None and check_ablation({"seeds": 10, "outcomes": [OUTCOME]}) is None
    assert "seeds must be a whole number" in str(check_ablation({"seeds": -1}))
    assert "not declared: ['no_such_outcome']" in str(check_ablation({"seeds": 2, "outcomes": ["no_such_outcome"]}))
    assert "allowed here: seeds, outcomes" in str(check_ablation({"seed": 2}))
