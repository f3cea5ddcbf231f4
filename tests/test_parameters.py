"""Provenance: every parameter declares its value, unit, meaning, source and plausible range in one place.

The declarations are the schemas' ``param()`` fields (sim/core/config.py); variant files in conf/ name the source of
each value they set in ``sources:``; values outside their plausible range are refused; docs/parameters.md is
generated from all of this.
"""

from __future__ import annotations

import math
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
from pydantic import BaseModel, ValidationError

from sim.core.compose import compose_config
from sim.core.config import ConfigError, SimConfig, StudentsConfig
from sim.core.configure import validate_config
from sim.core.parameters import Parameter, label, param, parameters
from sim.evidence.parameters import (
    CONF_DIR,
    DOC_PATH,
    EVIDENCE,
    Section,
    collect,
    declaration_problems,
    problems,
    render,
    validation_targets,
)

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))


@pytest.fixture(scope="module")
def sections():
    return collect()


@pytest.fixture
def conf_copy(tmp_path):
    """A private copy of conf/ to damage (the experiment symlink is copied as a link)."""
    target = tmp_path / "conf"
    shutil.copytree(CONF_DIR, target, symlinks=True)
    return target


def _raw_config(overrides: list[str]) -> dict:
    """The composed configuration as plain data, before validation."""
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


def _documented(sections, *titles: str) -> dict[str, object]:
    """Parameter name -> value, later sections overriding earlier ones."""
    by_title = {s.title.removesuffix(" (default)"): s for s in sections}
    out = {}
    for title in titles:
        out |= {p.name: p.value for p in by_title[title].parameters}
    return out


DEFAULT_SECTIONS = (
    "run",
    "borough=hackney",
    "incidents=default",
    "students=default",
    "staff=default",
    "police=default",
)
NOT_PARAMETERS = re.compile(
    r"^(borough\.name|scenario\.name|scenario\.description|scenario\.colour)$|\.sources\.|\.source$|\.class$"
)


# --- the shipped declarations -------------------------------------------------------------------------------
def test_every_parameter_declares_unit_meaning_source_and_range(sections):
    errors, _ = declaration_problems(sections)
    assert not errors, "incomplete declarations:\n" + "\n".join(errors)
    for s in sections:
        if s.kind != "scenario":
            incomplete = [f"{p.name}: {p.missing()}" for p in s.parameters if p.missing()]
            assert not incomplete, f"{s.title}: {incomplete}"


def test_every_numeric_default_lies_in_its_range(sections):
    for p in (p for s in sections for p in s.parameters if p.range is not None):
        values = p.value if isinstance(p.value, list) else [p.value]
        assert all(p.range[0] <= v <= p.range[1] for v in values), p


def test_docs_parameters_md_is_not_stale(sections):
    assert DOC_PATH.read_text() == render(sections), "docs/parameters.md is stale: run `python -m sim.parameters`"


def test_check_command_passes_on_the_repository():
    result = subprocess.run(
        [sys.executable, "-m", "sim.parameters", "--check"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_setting_of_the_composed_config_is_documented_with_its_value(sections, scenario):
    """The document pairs the right value with each name: its tables equal what Hydra composes."""
    raw = {k: v for k, v in _leaves(_raw_config([f"scenario={scenario}"])).items() if not NOT_PARAMETERS.search(k)}
    mechanisms = [f"mechanism {m}" for m in compose_config([f"scenario={scenario}"]).scenario.mechanisms]
    documented = _documented(sections, *DEFAULT_SECTIONS, *mechanisms, f"scenario={scenario}")
    assert {k: documented.get(k, "<absent>") for k in raw} == raw
    assert set(documented) == set(raw)


def test_every_scenario_lists_its_mechanisms(sections):
    for s in (s for s in sections if s.kind == "scenario"):
        name = s.title.removesuffix(" (default)").removeprefix("scenario=")
        assert s.mechanisms == list(compose_config([f"scenario={name}"]).scenario.mechanisms), name
        assert not s.problems


@pytest.mark.parametrize("borough", ["small", "london"])
def test_a_variant_lists_only_what_it_changes_each_with_its_source(sections, borough):
    raw = {k: v for k, v in _leaves(_raw_config([f"borough={borough}"])).items() if k.startswith("borough.")}
    raw = {k: v for k, v in raw.items() if not NOT_PARAMETERS.search(k)}
    variant = next(s for s in sections if s.title == f"borough={borough}")
    own = {p.name: p.value for p in variant.parameters}
    assert own and set(own) < set(raw)
    assert _documented(sections, "borough=hackney", f"borough={borough}") == raw
    assert all(p.source and p.unit and p.range for p in variant.parameters)
    assert not variant.problems


def test_parameters_carry_meaning_unit_range_and_source(sections):
    params = {p.name: p for s in sections for p in s.parameters}
    rate = params["incidents.types.fight_no_injury.rate_secondary"]
    assert rate.unit == "per 1,000 pupils per school year"
    assert "secondary pupils" in rate.meaning
    assert rate.source.startswith("assumption")  # the incident type's own source
    assert rate.range == (0, 1000)
    imagery = params["incidents.types.youth_produced_sexual_imagery.severity"]
    assert "UKCIS" in imagery.source
    budget = params["scenario.mechanisms.points_budget.budget"]
    assert budget.value == 20 and "Liberty 2025" in budget.source and budget.meaning
    assert params["days"].value == 190 and "School Day and School Year" in params["days"].source


def test_every_evidence_figure_informs_a_parameter_or_a_validation_target(sections):
    params = [p for s in sections for p in s.parameters]
    targets = validation_targets()
    for e in EVIDENCE:
        cited = any(re.search(e.cited_as, p.source) for p in params)
        tested = any(re.search(e.cited_as, str(t.get("source", ""))) for t in targets)
        assert cited or tested, e.quantity


def test_the_default_groups_are_the_schema_defaults():
    cfg = compose_config([])
    assert cfg.students == StudentsConfig()
    assert cfg.incidents.types["drug_supply"].found_by_stop_weight == 0.1
    assert not (CONF_DIR / "students" / "default.yaml").exists()
    assert not (CONF_DIR / "borough" / "hackney.yaml").exists()


# --- ranges are enforced ------------------------------------------------------------------------------------
def _error(overrides: list[str]) -> str:
    with pytest.raises(ConfigError) as info:
        compose_config(overrides)
    return str(info.value)


def test_a_value_outside_its_range_is_refused_in_one_line_naming_setting_range_and_source():
    lines = _error(["students.labelling_effect=7.0"]).splitlines()
    assert lines[0] == "Invalid configuration:"
    assert len(lines) == 2
    assert lines[1].startswith("  students.labelling_effect: 7.0 is outside the plausible range [0, 3] (assumption")


@pytest.mark.parametrize(
    ("setting", "value", "allowed"),
    [
        ("students.labelling_effect", "nan", "[0, 3]"),
        ("students.drift_rate", "inf", "[0, 0.2]"),
        ("police.over_policed_recording_odds", "-inf", "[0.5, 5]"),
        ("police.over_policed_recording_odds", "0.1", "[0.5, 5]"),
        ("borough.primary_pupils_mean", "10", "[50, 1000]"),
        ("borough.support_funding_multiplier", "50", "[0, 10]"),
        ("staff.police_work_hours_by_severity", "[0,0.5,1,1.5,20]", "[0, 8]"),
        ("incidents.types.fight_no_injury.rate_secondary", "5000", "[0, 1000]"),
        ("days", "4000", "[1, 3650]"),
    ],
)
def test_out_of_range_and_non_finite_values_are_refused(setting, value, allowed):
    message = _error([f"{setting}={value}"])
    assert f"  {setting}: " in message
    assert f"is outside the plausible range {allowed}" in message


def test_values_at_the_ends_of_a_range_are_accepted():
    cfg = compose_config(["students.labelling_effect=3", "students.drift_rate=0", "borough=london"])
    assert cfg.students.labelling_effect == 3


def test_the_range_is_checked_on_assignment_and_in_validate_config():
    cfg = compose_config(["borough=small"])
    with pytest.raises(ValidationError, match="outside the plausible range"):
        cfg.students.labelling_effect = math.inf
    raw = cfg.model_dump()
    raw["police"]["hours_consultation"] = 9.0
    with pytest.raises(ConfigError, match=r"police.hours_consultation: 9.0 is outside the plausible range \[0, 2\]"):
        validate_config(raw)


# --- the helper works for any pydantic model ------------------------------------------------------------------
class _Item(BaseModel):
    source: str = label("assumption: a catalogue entry", meaning="source of the entry")
    cost: float = param(meaning="points", unit="points", range=(0, 10))


class _Params(BaseModel):
    name: str = label("x", meaning="a label")
    share: float = param(0.5, unit="probability", range=(0, 1), source="assumption", meaning="a share")
    menu: dict[str, _Item] = {"a": _Item(cost=2)}
    mode: bool = param(True, unit="true/false", source="assumption", meaning="a switch")


def test_param_declares_provenance_and_enforces_its_range_on_any_model():
    with pytest.raises(ValidationError, match=r"2.0 is outside the plausible range \[0, 1\] \(assumption\)"):
        _Params(share=2)
    with pytest.raises(ValidationError, match=r"11.0 is outside the plausible range \[0, 10\]"):
        _Params(menu={"b": {"cost": 11}})
    names = {p.name: p for p in parameters(_Params(share=0.25), "scenario.params.")}
    assert set(names) == {"scenario.params.share", "scenario.params.menu.a.cost", "scenario.params.mode"}
    assert names["scenario.params.share"] == Parameter(
        "scenario.params.share", 0.25, "probability", "a share", "assumption", (0, 1)
    )
    assert names["scenario.params.menu.a.cost"].source == "assumption: a catalogue entry"  # the entry's source
    assert names["scenario.params.mode"].choices == (True, False) and not names["scenario.params.mode"].missing()
    assert [p.name for p in parameters(_Params)] == ["share", "menu.a.cost", "mode"]  # a class: its defaults


def test_a_default_outside_its_own_range_is_refused_at_declaration():
    with pytest.raises(ValueError, match="outside its own range"):
        param(5.0, unit="u", source="s", range=(0, 1), meaning="m")


def test_the_walker_lists_the_run_settings_of_the_schema():
    names = [p.name for p in parameters(SimConfig, include=("seed", "days", "output"))]
    assert names == ["seed", "days", "output.daily"]


def test_the_check_reports_a_declaration_without_unit_source_or_range():
    bare = Section(
        title="students=default",
        where="-",
        kind="default",
        description="",
        parameters=[Parameter("students.x", 0.5, meaning="m"), Parameter("students.y", True, unit="u", meaning="m")],
    )
    errors, warnings = declaration_problems([bare])
    assert errors == [
        "students=default: students.x = 0.5 has no unit, no source, no range",
        "students=default: students.y = true has no source",
    ]
    assert not warnings


# --- variant files name their sources -------------------------------------------------------------------------
def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def test_check_reports_a_variant_value_without_a_source(conf_copy):
    _edit(conf_copy / "borough" / "small.yaml", '  wards: "assumption: test borough"\n', "")
    found = problems(conf_copy, DOC_PATH)
    assert any(line.startswith("conf/borough/small.yaml: borough.wards = 4 has no source") for line in found), found


def test_check_reports_a_source_for_a_setting_the_variant_does_not_set(conf_copy):
    _edit(conf_copy / "borough" / "london.yaml", "wards: 680\n", "")
    found = problems(conf_copy, DOC_PATH)
    assert "conf/borough/london.yaml: sources names wards, which the file does not set" in found


def test_a_variant_of_any_group_is_checked(conf_copy):
    (conf_copy / "students").mkdir(exist_ok=True)
    (conf_copy / "students" / "cautious.yaml").write_text(
        "defaults:\n  - default\n  - _self_\nlabelling_effect: 0.4\nsources:\n  drift_rate: assumption\n"
    )
    found = [line for line in problems(conf_copy, DOC_PATH) if "cautious" in line]
    assert "conf/students/cautious.yaml: students.labelling_effect = 0.4 has no source" in found[0]
    assert "conf/students/cautious.yaml: sources names drift_rate, which the file does not set" in found


def test_the_config_layer_refuses_sources_for_settings_that_do_not_exist():
    message = _error(["borough=small", "+borough.sources.colour=assumption"])
    assert "sources names 'colour', which is not a setting here" in message
    yaml_text = (CONF_DIR / "borough" / "small.yaml").read_text()
    assert set(yaml.safe_load(yaml_text)["sources"]) == {"primary_schools", "secondary_schools", "wards"}


def test_check_reports_a_stale_or_missing_generated_file(tmp_path):
    stale = tmp_path / "parameters.md"
    stale.write_text(
        DOC_PATH.read_text().replace("| `students.labelling_effect` | `0.2`", "| `students.labelling_effect` | `0.9`")
    )
    assert stale.read_text() != DOC_PATH.read_text()
    assert any("stale" in line for line in problems(CONF_DIR, stale))
    assert any("missing" in line for line in problems(CONF_DIR, tmp_path / "absent.md"))
    assert problems(CONF_DIR, DOC_PATH) == []


def test_check_command_exits_1_and_names_the_setting(conf_copy, tmp_path):
    _edit(conf_copy / "borough" / "small.yaml", '  wards: "assumption: test borough"\n', "")
    out = tmp_path / "parameters.md"
    write = [sys.executable, "-m", "sim.parameters", "--conf-dir", str(conf_copy), "--output", str(out)]
    subprocess.run(write, cwd=ROOT, capture_output=True, text=True, check=False)
    assert "**missing**" in out.read_text()
    result = subprocess.run([*write, "--check"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "borough.wards" in result.stderr and "has no source" in result.stderr
