"""Properties every run must have, whatever the seed, scenario and parameters (hypothesis)."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simhelpers import SCENARIOS, small_config

from sim.core import outcomes as out
from sim.core.configure import validate_config
from sim.core.incidents import SCHOOL_YEAR_DAYS
from sim.core.model import BoroughModel
from sim.core.outcomes import Hours

PROBS = st.sampled_from([0.0, 0.1, 0.3, 0.6, 0.9, 1.0])
_BASE: dict[str, dict] = {}


def config_with(scenario: str, days: int, seed: int, settings_: dict[str, object]):
    """Small-borough config with dotted settings applied (Hydra composes each scenario once; pydantic validates)."""
    if scenario not in _BASE:
        _BASE[scenario] = small_config(scenario, 5, 0).model_dump()
    raw = copy.deepcopy(_BASE[scenario])
    raw["days"], raw["seed"] = days, seed
    for dotted, value in settings_.items():
        *path, last = dotted.split(".")
        node = raw
        for key in path:
            node = node[key]
        node[last] = value
    return validate_config(raw)


@st.composite
def runs(draw):
    """A scenario, a seed and a few parameters on the small borough, for 5-40 days."""
    scenario = draw(st.sampled_from(SCENARIOS))
    seed = draw(st.integers(0, 2**32))
    days = draw(st.integers(5, 40))
    settings_ = {
        "police.recording_by_severity": draw(st.lists(PROBS, min_size=5, max_size=5)),
        "police.over_policed_recording_odds": draw(st.sampled_from([0.5, 1.0, 1.5, 4.0])),
        "police.schools_protocol_use": draw(PROBS),
        "students.labelling_effect": draw(st.sampled_from([0.0, 0.2, 1.0, 3.0])),
        "staff.referral_tolerance_mean": draw(st.sampled_from([1.0, 3.6, 6.0])),
        "staff.escalate_when_no_capacity": draw(PROBS),
    }
    if scenario == "hackney_pilot":
        settings_ |= {
            "scenario.mechanisms.points_budget.budget": draw(st.sampled_from([0, 3, 20, 45.5])),
            "scenario.mechanisms.safer_corridors.route_selection": draw(
                st.sampled_from(["proportional", "top_k", "exposure_corrected"])
            ),
            "scenario.mechanisms.safer_corridors.stops_per_patrol": draw(st.sampled_from([0.0, 0.13, 1.0])),
            "scenario.mechanisms.safer_corridors.carry_days_per_possession_incident": draw(
                st.sampled_from([1.0, 80.0, 500.0])
            ),
            "scenario.mechanisms.safer_corridors.patrol_deterrence": draw(st.sampled_from([0.0, 0.1, 0.3])),
        }
    return config_with(scenario, days, seed, settings_)


def run(config) -> BoroughModel:
    model = BoroughModel(config)
    model.run_for(config.days)
    return model


# --- the invariants --------------------------------------------------------------------------------------------------
def check_records_within_what_police_know(model):
    c = model.ledger.counts  # (day, school, Count, group)
    assert np.all(c[:, :, out.CRIME_RECORDS] <= c[:, :, out.INCIDENTS_KNOWN_TO_POLICE]), "records > known"
    assert np.all(c[:, :, out.UNNECESSARY_CRIME_RECORDS] <= c[:, :, out.CRIME_RECORDS]), "unnecessary > records"
    m = model.metrics()
    assert m["crime_records"] <= m["incidents_known_to_police"]
    assert m["unnecessary_crime_records"] <= m["crime_records"]


def check_every_record_follows_a_contact(model):
    # Records come from police attendance, a contact -- or a stop/sweep find, whose contact was already counted.
    ledger = model.ledger
    assert np.all(ledger.student_records <= ledger.student_contacts)


def check_outcome_counts_are_nested(model):
    c = model.ledger.counts
    assert np.all(c[:, :, out.SERIOUS_INCIDENTS] <= c[:, :, out.INCIDENTS])
    assert np.all(c[:, :, out.STREET_INCIDENTS] <= c[:, :, out.INCIDENTS])
    assert np.all(c[:, :, out.SERIOUS_APPROPRIATE_RESPONSE] <= c[:, :, out.SERIOUS_INCIDENTS])
    assert np.all(c[:, :, out.UNMET_YOUTH_WORK_REFERRALS] <= c[:, :, out.YOUTH_WORK_REFERRALS])
    assert np.all(c[:, :, out.UNMET_MENTAL_HEALTH_REFERRALS] <= c[:, :, out.MENTAL_HEALTH_REFERRALS])
    assert np.all(c >= 0)
    assert np.all(model.ledger.hours >= 0)


def check_contact_types_belong_to_their_scenario(model):
    # every kind of contact but incident response is made by its own mechanism: none without it
    c = model.ledger.counts
    for kind in out.REGISTRY.contact_types:
        if kind.owner != out.CORE and kind.owner not in model.policing.names:
            assert c[:, :, kind].sum() == 0, f"{kind.name} without the {kind.owner} mechanism"
    if not model.policing.mechanisms:
        assert c[:, :, out.ADVISOR_CONSULTATIONS].sum() == 0
        assert c[:, :, out.CONTACTS_DUE_TO_CAPACITY_SHORTFALL].sum() == 0


def check_points_within_budget(model):
    spent = model.metrics()["points_spent"]
    if model.config.scenario.name != "hackney_pilot":
        assert spent is None
        return
    budget = model.policing.get("points_budget").params.budget
    years_started = math.ceil(model.config.days / SCHOOL_YEAR_DAYS)
    assert 0 <= spent <= budget * model.borough.n_schools * years_started + 1e-9


def check_corridor_finds_within_what_is_carried(model):
    # A stop finds only what a pupil carries; only secondary pupils are stopped; a removed weapon is a find.
    m = model.metrics()
    if "safer_corridors" not in model.policing.names:
        assert m["corridor_stops"] is None
        return
    assert m["corridor_stops_of_primary_pupils"] == 0
    assert m["corridor_stops_with_find"] <= min(m["corridor_stops"], m["corridor_items_carried_on_patrolled_routes"])
    assert m["corridor_weapons_removed"] <= m["corridor_stops_with_find"]
    assert m["corridor_stops_with_find"] <= m["incidents_found_by_police_search"]


def check_metrics_are_clean_json(model):
    m = model.metrics()
    text = json.dumps(m, allow_nan=False)  # raises on NaN or infinity
    assert json.loads(text) == m
    for key, value in m.items():
        assert value is None or isinstance(value, str | int | float | bool), key
        if isinstance(value, float):
            assert math.isfinite(value), key


def check_shares_are_proportions(model):
    m = model.metrics()
    shares = {k: v for k, v in m.items() if k.endswith("_share") or "tv_distance" in k}
    assert "unnecessary_share" in shares and "serious_incidents_appropriate_response_share" in shares
    for key, value in shares.items():
        assert value is None or 0.0 <= value <= 1.0, (key, value)


def check_metrics_agree_with_the_ledger(model):
    m, ledger = model.metrics(), model.ledger
    assert m["police_contacts"] == ledger.student_contacts.sum()
    assert m["crime_records"] == ledger.student_records.sum()
    assert m["police_contacts"] == sum(m[t.name] for t in out.REGISTRY.contact_types)
    assert m["officer_hours"] == pytest.approx(ledger.hours[:, :, Hours.OFFICER].sum())
    assert m["days"] == model.config.days
    daily = model.daily()
    assert len(daily) == model.config.days * model.borough.n_schools
    assert daily["incidents"].sum() == m["incidents"]
    assert daily["crime_records"].sum() == m["crime_records"]
    assert (daily["crime_records_over_policed"] + daily["crime_records_not_over_policed"]).sum() == m["crime_records"]
    # Mesa's DataCollector sees the same running totals.
    last = model.datacollector.get_model_vars_dataframe().iloc[-1]
    assert last["crime_records"] == m["crime_records"]
    assert last["police_contacts"] == m["police_contacts"]


CHECKS = [
    check_records_within_what_police_know,
    check_every_record_follows_a_contact,
    check_outcome_counts_are_nested,
    check_contact_types_belong_to_their_scenario,
    check_points_within_budget,
    check_corridor_finds_within_what_is_carried,
    check_metrics_are_clean_json,
    check_shares_are_proportions,
    check_metrics_agree_with_the_ledger,
]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=runs())
def test_invariants_hold_for_any_seed_scenario_and_parameters(config):
    model = run(config)
    for check in CHECKS:
        check(model)


# The same checks, one test each, on the shared default runs (clear failure names).
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_invariant_on_default_run(small_runs, scenario, check):
    check(small_runs[scenario])


def test_default_runs_are_not_trivial(small_runs):
    # The invariants above would hold vacuously for a run where nothing happens.
    for scenario, model in small_runs.items():
        m = model.metrics()
        assert m["incidents"] > 50, scenario
        assert m["crime_records"] > 0, scenario
        assert m["police_contacts"] > 0, scenario
    assert small_runs["embedded_officer"].metrics()["police_contacts_presence"] > 0
    assert small_runs["embedded_officer"].metrics()["police_contacts_lesson"] > 0
    assert small_runs["hackney_pilot"].metrics()["police_contacts_corridor_stop"] > 0
    assert small_runs["hackney_pilot"].metrics()["police_contacts_points_activity"] > 0
    assert small_runs["hackney_pilot"].metrics()["advisor_consultations"] > 0


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), days=st.integers(5, 40))
def test_short_runs_with_every_rate_extreme_stay_clean(seed, days):
    # Corner cases for the metrics: nobody over-policed, so group rates and RRIs have no denominator.
    config = config_with(
        "hackney_pilot",
        days,
        seed,
        {
            "borough.over_policed_student_share_in_over_policed_wards": 0.0,
            "borough.over_policed_student_share_elsewhere": 0.0,
        },
    )
    model = run(config)
    m = model.metrics()
    assert m["students_over_policed"] == 0
    assert m["rri_police_contacts"] is None and m["rri_crime_records"] is None
    check_metrics_are_clean_json(model)
    check_shares_are_proportions(model)
