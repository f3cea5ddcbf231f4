"""The worked examples of docs/extending.md, run for real.

An analyst's own Officer subclass (examples/cautious_officer.py), policing mechanism (examples/curfew_patrols.py)
and scenarios (examples/conf/scenario/), kept outside the ``sim`` package, selected from the command line, from a
config file and from Python.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.core.agents import Officer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CAUTIOUS_CLASS = "cautious_officer.CautiousOfficer"
CAUTIOUS = f"agents.officer={CAUTIOUS_CLASS}"
SMALL = ["borough=small", "days=40"]


def run_cli(args: list[str], out: Path) -> dict:
    """``python -m sim ARGS`` from the repo root with examples/ on PYTHONPATH; returns metrics.json."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(EXAMPLES), env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "sim", *args, f"hydra.run.dir={out}"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    assert "Crime records per 1,000 students" in proc.stdout
    return json.loads((out / "metrics.json").read_text())


def composed(out: Path) -> dict:
    """The configuration Hydra composed for a run (saved in the run directory)."""
    return yaml.safe_load((out / ".hydra" / "config.yaml").read_text())


def test_cli_cautious_officer_records_no_more_than_the_default_officer(tmp_path):
    fewer = []
    for seed in (0, 1, 2):
        default = run_cli([*SMALL, f"seed={seed}"], tmp_path / f"default-{seed}")
        cautious = run_cli([*SMALL, f"seed={seed}", CAUTIOUS], tmp_path / f"cautious-{seed}")
        assert composed(tmp_path / f"cautious-{seed}")["agents"]["officer"] == CAUTIOUS_CLASS
        assert (tmp_path / f"cautious-{seed}" / "daily.parquet").exists()
        assert cautious["scenario"] == default["scenario"] == "hackney_pilot"
        assert cautious["students"] == default["students"]  # same seed: same borough, same children
        assert cautious["crime_records"] <= default["crime_records"], seed
        fewer.append(cautious["crime_records"] < default["crime_records"])
    assert any(fewer), "the cautious officer's rule never changed a recording decision"


def test_cautious_officer_selected_from_a_config_file(tmp_path):
    out = tmp_path / "run"
    metrics = run_cli(
        [
            "--config-dir",
            "examples/conf",
            "--config-name",
            "cautious_officer",
            "scenario=embedded_officer",
            *SMALL,
        ],
        out,
    )
    assert composed(out)["agents"]["officer"] == CAUTIOUS_CLASS
    assert metrics["scenario"] == "embedded_officer"


@pytest.mark.skipif(
    Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(), reason="scripts/sim uses the repo's .venv"
)
def test_documented_command_through_scripts_main(tmp_path):
    """The documented ``PYTHONPATH=examples scripts/sim agents.officer=...`` (docs/extending.md)."""
    env = dict(os.environ, PYTHONPATH="examples")
    out = tmp_path / "run"
    proc = subprocess.run(
        ["bash", "scripts/sim", CAUTIOUS, *SMALL, f"hydra.run.dir={out}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert composed(out)["agents"]["officer"] == CAUTIOUS_CLASS
    assert (out / "metrics.json").exists()


def test_unknown_agent_class_is_a_clear_error(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            *SMALL,
            "agents.officer=no_such_module.Officer",
            f"hydra.run.dir={tmp_path}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "agents.officer" in proc.stderr and "no_such_module" in proc.stderr


def test_borough_model_in_process_with_the_subclass(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    from cautious_officer import CautiousOfficer

    from sim import BoroughModel

    # Check every decision against the standard officer's on the same incident: the draws are keyed, so asking
    # both rules about one incident has no side effects and cannot shift any other random number.
    checked = {"decisions": 0, "let_go": 0, "first_low_recorded": 0}
    cautious_rule = CautiousOfficer.decides_to_record

    def checked_rule(self, incident):
        first = self.model.student(incident.student).crime_records == 0
        cautious = cautious_rule(self, incident)
        standard = Officer.decides_to_record(self, incident)
        assert standard or not cautious, f"recorded what the standard officer would not: {incident}"
        checked["decisions"] += 1
        checked["let_go"] += standard and not cautious
        checked["first_low_recorded"] += cautious and first and incident.severity <= self.LOW_SEVERITY
        return cautious

    monkeypatch.setattr(CautiousOfficer, "decides_to_record", checked_rule)
    model = BoroughModel(policing="embedded_officer", borough="small", days=100, rng=1, agents__officer=CAUTIOUS_CLASS)
    assert model.officers and all(type(o) is CautiousOfficer for o in model.officers)
    assert model.response_officer in model.officers
    model.run_for(100)
    assert not model.running and model.day == 100
    assert checked["decisions"] > 0
    assert checked["let_go"] > 0, "the rule never let an incident go"
    assert checked["first_low_recorded"] == 0, "a first low-severity offence was recorded"
    metrics = model.metrics()
    assert metrics["scenario"] == "embedded_officer" and metrics["days"] == 100


def test_new_policing_model_outside_the_package(tmp_path):
    out = tmp_path / "run"
    metrics = run_cli(["--config-dir", "examples/conf", "scenario=advice_only", *SMALL], out)
    assert metrics["scenario"] == "advice_only"
    assert metrics["police_contacts_lesson"] == metrics["police_contacts_corridor_stop"] == 0
    assert metrics["advisor_consultations"] > 0


def test_own_mechanism_plugged_in_by_its_class(tmp_path):
    """examples/curfew_patrols.py in examples/conf/scenario/curfew_patrols.yaml (``class:``), as docs/extending.md."""
    searchpath = "hydra.searchpath=[file://examples/conf]"
    scenario = ["scenario=curfew_patrols", "borough=small", "days=20"]
    metrics = run_cli([searchpath, *scenario], tmp_path / "run")
    mechanisms = composed(tmp_path / "run")["scenario"]["mechanisms"]
    assert mechanisms["curfew_patrols"]["class"] == "curfew_patrols.CurfewPatrols"
    assert metrics["scenario"] == "curfew_patrols"
    assert metrics["police_contacts_curfew_stop"] > 0  # the outcome it declared is in metrics.json
    assert metrics["officer_hours_curfew_patrol"] > 0
    assert metrics["police_contacts_corridor_stop"] == 0  # no Safer Corridors in this scenario
    # its parameter, overridden like any other; its draws are its own stream, so nothing else moves
    off = run_cli([searchpath, *scenario, "scenario.mechanisms.curfew_patrols.wards_per_day=0"], tmp_path / "off")
    assert off["police_contacts_curfew_stop"] == 0
    for key in ("police_contacts_points_activity", "crime_records", "advisor_consultations"):
        assert off[key] == metrics[key], key
