"""Provenance: every default in conf/ says where it comes from; docs/parameters.md is generated from conf/."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from sim.evidence.parameters import (
    CONF_DIR,
    DOC_PATH,
    EVIDENCE,
    collect,
    missing_sources,
    problems,
    render,
    validation_targets,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sections():
    return collect()


@pytest.fixture
def conf_copy(tmp_path):
    """A private copy of conf/ to damage (the experiment symlink is copied as a link and skipped)."""
    target = tmp_path / "conf"
    shutil.copytree(CONF_DIR, target, symlinks=True)
    return target


def _strip_comment(path: Path, line_start: str) -> None:
    """Remove the end-of-line comment of the (single) line that starts with ``line_start``."""
    lines = path.read_text().splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.lstrip().startswith(line_start)]
    assert len(hits) == 1, hits
    i = hits[0]
    lines[i] = lines[i].split(" #")[0].rstrip() + "\n"
    path.write_text("".join(lines))


def _raw_config(overrides: list[str]) -> dict:
    """The composed configuration as plain data, before validation fills in schema defaults."""
    if GlobalHydra.instance().is_initialized():
        cfg = compose(config_name="config", overrides=overrides)
    else:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=overrides)
    raw = OmegaConf.to_container(cfg, resolve=True)
    for key in ("hydra", "agents"):
        raw.pop(key, None)
    return raw


def _leaves(data: dict, prefix: str = "") -> dict[str, object]:
    out = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= _leaves(value, f"{name}.")
        else:
            out[name] = value
    return out


def _documented(sections, *files: str) -> dict[str, object]:
    """Parameter name -> value as written, later files overriding earlier ones."""
    by_file = {s.file: s for s in sections}
    out = {}
    for f in files:
        out |= {p.name: yaml.safe_load(p.default) for p in by_file[f].parameters}
    return out


LABELS = {"borough.name", "scenario.name", "scenario.policing_model"}


# --- the shipped configs ----------------------------------------------------------------------------------
def test_every_parameter_has_a_documented_source(sections):
    missing = [f"conf/{p.file}:{p.line}: {p.name}" for p in missing_sources(sections)]
    assert not missing, "parameters without a source (add '# <source>' or '# assumption'):\n" + "\n".join(missing)


def test_docs_parameters_md_is_not_stale(sections):
    assert DOC_PATH.read_text() == render(sections), "docs/parameters.md is stale: run `python -m sim.parameters`"


def test_check_command_passes_on_the_repository():
    result = subprocess.run(
        [sys.executable, "-m", "sim.parameters", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("scenario", sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml")))
def test_every_setting_of_the_composed_config_is_documented_with_its_value(sections, scenario):
    """The generator pairs the right value with each name: the table equals what Hydra composes."""
    raw = _leaves(_raw_config([f"scenario={scenario}"]))
    documented = _documented(sections, "config.yaml", "borough/hackney.yaml", f"scenario/{scenario}.yaml")
    for group in ("incidents", "students", "staff", "police"):
        documented |= _documented(sections, f"{group}/default.yaml")
    expected = {k: v for k, v in raw.items() if k not in LABELS}
    assert documented == expected


@pytest.mark.parametrize("borough", ["small", "london"])
def test_an_inherited_borough_lists_only_what_it_changes(sections, borough):
    raw = {k: v for k, v in _leaves(_raw_config([f"borough={borough}"])).items() if k.startswith("borough.")}
    own = _documented(sections, f"borough/{borough}.yaml")
    assert own and set(own) < set(raw)
    assert _documented(sections, "borough/hackney.yaml", f"borough/{borough}.yaml") == {
        k: v for k, v in raw.items() if k not in LABELS
    }


def test_parameters_carry_meaning_and_unit_from_the_schemas(sections):
    params = {p.name: p for s in sections for p in s.parameters if s.file == "incidents/default.yaml"}
    rate = params["incidents.types.fight_no_injury.rate_secondary"]
    assert rate.unit == "per 1,000 pupils per school year"
    assert "secondary pupils" in rate.meaning
    assert rate.comment.startswith("assumption")  # the entry's comment, after its closing brace
    hackney = next(s for s in sections if s.file == "scenario/hackney_pilot.yaml")
    budget = next(p for p in hackney.parameters if p.name == "scenario.params.points_budget")
    assert budget.default == "20" and "Liberty 2025" in budget.comment and budget.meaning
    every = [p for s in sections for p in s.parameters]
    assert not [p.name for p in every if not p.meaning], "a setting without a Field description"
    assert not [p.name for p in every if not p.unit], "a setting without a unit (sim/parameters.py UNITS)"


def test_every_evidence_figure_informs_a_parameter_or_a_validation_target(sections):
    params = [p for s in sections for p in s.parameters]
    targets = validation_targets()
    for e in EVIDENCE:
        cited = any(re.search(e.cited_as, p.comment) for p in params)
        tested = any(re.search(e.cited_as, str(t.get("source", ""))) for t in targets)
        assert cited or tested, e.quantity


# --- the check catches what it should ----------------------------------------------------------------------
def test_check_reports_a_scalar_without_a_source(conf_copy):
    _strip_comment(conf_copy / "students" / "default.yaml", "labelling_effect:")
    found = problems(conf_copy, DOC_PATH)
    assert any("students.labelling_effect" in line and "has no source" in line for line in found), found
    assert any("conf/students/default.yaml:" in line for line in found)


def test_check_reports_every_setting_of_an_incident_type_without_a_source(conf_copy):
    path = conf_copy / "incidents" / "default.yaml"
    text = path.read_text()
    entry = "street_rate_primary: 2, street_rate_secondary: 12} # assumption\n"
    assert text.count(entry) == 1
    path.write_text(text.replace(entry, "street_rate_primary: 2, street_rate_secondary: 12}\n"))
    missing = {p.name for p in missing_sources(collect(conf_copy))}
    assert "incidents.types.fight_no_injury.rate_secondary" in missing
    assert "incidents.types.fight_no_injury.severity" in missing
    assert not any(name.startswith("incidents.types.verbal_conflict.") for name in missing)


def test_check_reports_a_scenario_parameter_and_a_list_without_a_source(conf_copy):
    _strip_comment(conf_copy / "scenario" / "embedded_officer.yaml", "lessons_per_week:")
    _strip_comment(conf_copy / "police" / "default.yaml", "recording_by_severity:")
    missing = {p.name for p in missing_sources(collect(conf_copy))}
    assert {"scenario.params.lessons_per_week", "police.recording_by_severity"} <= missing


def test_check_reports_a_stale_or_missing_generated_file(tmp_path):
    stale = tmp_path / "parameters.md"
    stale.write_text(
        DOC_PATH.read_text().replace("| `students.labelling_effect` | `0.2`", "| `students.labelling_effect` | `0.9`")
    )
    assert stale.read_text() != DOC_PATH.read_text()
    assert any("stale" in line for line in problems(CONF_DIR, stale))
    assert any("missing" in line for line in problems(CONF_DIR, tmp_path / "absent.md"))
    assert problems(CONF_DIR, DOC_PATH) == []


def test_check_command_exits_1_and_names_the_parameter(conf_copy, tmp_path):
    _strip_comment(conf_copy / "borough" / "hackney.yaml", "school_size_cv:")
    out = tmp_path / "parameters.md"
    subprocess.run(
        [sys.executable, "-m", "sim.parameters", "--conf-dir", str(conf_copy), "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "**missing**" in out.read_text()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.parameters",
            "--check",
            "--conf-dir",
            str(conf_copy),
            "--output",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "borough.school_size_cv" in result.stderr and "has no source" in result.stderr
