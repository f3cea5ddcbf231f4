"""Configuration: every shipped config composes; bad input is refused with the setting named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.errors import HydraException, MissingConfigException
from simhelpers import SCENARIOS

from sim.core.compose import CONF_DIR, compose_config
from sim.core.config import SCHEMA_GROUPS, ConfigError, SimConfig
from sim.core.configure import mechanisms, validate_config
from sim.core.mechanism import Mechanism

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_FILES = sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))
# The borough options: the schema defaults (hackney) and the variant files.
BOROUGH_FILES = sorted({p.stem for p in (CONF_DIR / "borough").glob("*.yaml")} | {SCHEMA_GROUPS["borough"][0]})


def test_the_four_design_scenarios_ship_as_yaml():
    assert set(SCENARIOS) <= set(SCENARIO_FILES)
    assert {"hackney", "small", "london"} <= set(BOROUGH_FILES)


@pytest.mark.parametrize("scenario", SCENARIO_FILES)
def test_every_scenario_yaml_composes_and_validates(scenario):
    cfg = compose_config([f"scenario={scenario}"])
    assert isinstance(cfg, SimConfig)
    assert cfg.scenario.name == scenario
    for spec in mechanisms(cfg):
        assert issubclass(spec.cls, Mechanism)
        assert isinstance(spec.params, spec.cls.Params)


@pytest.mark.parametrize("borough", BOROUGH_FILES)
def test_every_borough_yaml_composes_and_validates(borough):
    cfg = compose_config([f"borough={borough}"])
    assert cfg.borough.name == borough


def test_defaults_match_the_design_brief():
    cfg = compose_config([])
    assert cfg.days == 190  # School Day and School Year Regulations
    assert cfg.scenario.name == "hackney_pilot"
    assert (cfg.borough.primary_schools, cfg.borough.secondary_schools) == (58, 15)  # Hackney JSNA
    assert cfg.scenario.mechanisms["points_budget"]["budget"] == 20  # Liberty 2025
    assert cfg.borough.class_size_primary == 26.6 and cfg.borough.class_size_secondary == 22.4
    embedded = compose_config(["scenario=embedded_officer"]).scenario.mechanisms
    assert embedded["police_lessons"]["effect_per_lesson"] == 0.0  # West & O'Neal 2004: about zero
    assert embedded["embedded_presence"]["secondary_schools_per_officer"] == 1.7  # Mayor of London 2019/6043


def test_validated_config_round_trips_through_validate_config():
    cfg = compose_config(["scenario=embedded_officer", "borough=small"])
    again = validate_config(cfg.model_dump())
    assert again == cfg


def _error(overrides: list[str]) -> str:
    with pytest.raises(ConfigError) as info:
        compose_config(overrides)
    return str(info.value)


@pytest.mark.parametrize(
    ("override", "setting", "allowed"),
    [
        (
            "staff.escalate_when_no_capacity=1.5",
            "staff.escalate_when_no_capacity",
            "outside the plausible range [0, 1]",
        ),
        ("police.schools_protocol_use=-0.1", "police.schools_protocol_use", "outside the plausible range [0, 1]"),
        ("borough.youth_work_caseload=-1", "borough.youth_work_caseload", "outside the plausible range [0, 40]"),
        ("days=abc", "days", "integer"),
        ("days=0", "days", "outside the plausible range [1, 3650]"),
        ("seed=-3", "seed", "outside the plausible range [0, "),
        ("output.daily=maybe", "output.daily", "boolean"),
        ("incidents.staff_notice_by_severity=[0.1,0.2]", "incidents.staff_notice_by_severity", "5"),
        ("incidents.types.weapon_possession.severity=7", "incidents.types.weapon_possession.severity", "5"),
    ],
)
def test_bad_value_names_the_setting_and_what_is_allowed(override, setting, allowed):
    message = _error([override])
    assert f"{setting}:" in message
    assert allowed in message


def test_every_bad_setting_is_reported_at_once():
    message = _error(["staff.escalate_when_no_capacity=1.5", "borough.youth_work_caseload=-1"])
    assert "staff.escalate_when_no_capacity" in message
    assert "borough.youth_work_caseload" in message


def test_unknown_key_is_an_unknown_setting():
    message = _error(["+students.foo=1"])
    assert "students.foo" in message
    assert "unknown setting" in message


def test_unknown_top_level_key_is_refused():
    message = _error(["+colour=blue"])
    assert "colour" in message and "unknown setting" in message


def test_unknown_scenario_lists_the_available_ones():
    with pytest.raises((MissingConfigException, HydraException)) as info:
        compose_config(["scenario=bogus"])
    message = str(info.value)
    assert "bogus" in message
    for name in SCENARIOS:
        assert name in message


@pytest.mark.parametrize("scenario", SCENARIO_FILES)
def test_unknown_scenario_param_is_refused_for_every_scenario(scenario):
    cfg = compose_config([f"scenario={scenario}"])
    for name in cfg.scenario.mechanisms:
        message = _error([f"scenario={scenario}", f"+scenario.mechanisms.{name}.bogus=1"])
        assert f"scenario.mechanisms.{name}.bogus" in message
        assert "unknown setting" in message


def test_unknown_mechanism_is_refused_with_the_built_in_list():
    message = _error(["+scenario.mechanisms.psychic_policing={}"])
    assert "scenario.mechanisms.psychic_policing" in message
    assert "safer_corridors" in message and "class" in message


def test_mechanism_that_needs_another_is_refused_without_it():
    message = _error(["scenario=embedded_officer", "~scenario.mechanisms.embedded_presence"])
    assert "scenario.mechanisms.officer_first_response" in message
    assert "embedded_presence" in message


def test_a_mechanism_can_be_dropped_by_override():
    cfg = compose_config(["scenario=hackney_pilot", "~scenario.mechanisms.points_budget"])
    assert list(cfg.scenario.mechanisms) == ["non_emergency_calls", "linked_advisors", "safer_corridors"]


def test_bad_scenario_param_value_names_it():
    message = _error(["scenario=hackney_pilot", "scenario.mechanisms.safer_corridors.patrol_share_of_routes=2"])
    assert "scenario.mechanisms.safer_corridors.patrol_share_of_routes" in message


def test_bad_route_selection_rule_names_the_allowed_rules():
    message = _error(["scenario=hackney_pilot", "scenario.mechanisms.safer_corridors.route_selection=psychic"])
    assert "scenario.mechanisms.safer_corridors.route_selection" in message
    assert "exposure_corrected" in message


def test_points_menu_with_unknown_incident_type_is_refused():
    message = _error(
        ["scenario=hackney_pilot", "scenario.mechanisms.points_budget.menu.weapon_sweep.detects=knife_crime"]
    )
    assert "scenario.mechanisms.points_budget.menu.weapon_sweep.detects" in message
    assert "knife_crime" in message
    assert "weapon_possession" in message  # the allowed types are listed


def test_points_menu_item_with_bad_cost_is_refused():
    message = _error(["scenario=hackney_pilot", "scenario.mechanisms.points_budget.menu.assembly.cost=0"])
    assert "scenario.mechanisms.points_budget.menu.assembly.cost" in message


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        ("sim.core.agents.NoSuchTeacher", "NoSuchTeacher"),
        ("no_such_module.Teacher", "no_such_module"),
        ("Teacher", "cannot import"),
    ],
)
def test_agent_class_that_cannot_be_imported_is_refused(path, hint):
    message = _error([f"agents.teacher={path}"])
    assert "agents.teacher" in message
    assert hint in message


def test_mechanism_class_that_is_not_a_mechanism_is_refused():
    message = _error(["+scenario.mechanisms.teacher_policing={class: sim.core.agents.Teacher}"])
    assert "scenario.mechanisms.teacher_policing" in message
    assert "Mechanism" in message


def test_wellbeing_incident_cannot_be_recordable():
    message = _error(["incidents.types.wellbeing_crisis.recordable=true"])
    assert "incidents.types.wellbeing_crisis" in message


def test_inconsistent_borough_is_refused():
    message = _error(["borough=small", "borough.catchment_wards=10"])
    assert "catchment_wards" in message
    message = _error(["borough=small", "borough.primary_schools=0", "borough.secondary_schools=0"])
    assert "at least one school" in message


def test_validate_config_refuses_a_missing_section():
    raw = compose_config(["borough=small"]).model_dump()
    del raw["police"]
    with pytest.raises(ConfigError, match=r"police: required setting is missing"):
        validate_config(raw)


def test_config_is_checked_on_assignment():
    cfg = compose_config(["borough=small"])
    with pytest.raises(ValueError):
        cfg.staff.escalate_when_no_capacity = 1.5


def test_cli_with_bad_value_exits_2_names_the_setting_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "scenario=no_police",
            "borough=small",
            "days=5",
            "staff.escalate_when_no_capacity=1.5",
            f"hydra.run.dir={out}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "staff.escalate_when_no_capacity" in proc.stderr
    assert "1.5" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (out / "metrics.json").exists()
    assert not (out / "daily.parquet").exists()
    assert not list(out.glob("*.tmp"))


def test_json_dump_of_config_is_possible():
    # Configs are saved next to results; every value must be JSON-serialisable.
    json.dumps(compose_config(["scenario=hackney_pilot", "borough=small"]).model_dump(), allow_nan=False)
