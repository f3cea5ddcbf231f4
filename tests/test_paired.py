"""Common random numbers: the same seed gives the same borough, children and behaviour in every scenario."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from simhelpers import SCENARIOS, behaviour_neutral, run_small, small_config

from sim.core import outcomes as out
from sim.core.incidents import Location
from sim.core.model import BoroughModel

STUDENT_ATTRIBUTES = ("school", "year_group", "class_id", "home_ward", "route", "over_policed", "phase")


@pytest.fixture(scope="module")
def fresh(configs):
    """Unrun models of every scenario with seed 0."""
    return {s: BoroughModel(cfg) for s, cfg in configs.items()}


def _assert_same_borough(a: BoroughModel, b: BoroughModel):
    for field in dataclasses.fields(a.borough):
        x, y = getattr(a.borough, field.name), getattr(b.borough, field.name)
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=field.name)
        else:
            assert x == y, field.name


@pytest.mark.parametrize("scenario", SCENARIOS[1:])
def test_same_seed_same_borough_in_every_scenario(fresh, scenario):
    _assert_same_borough(fresh["no_police"], fresh[scenario])


@pytest.mark.parametrize("scenario", SCENARIOS[1:])
def test_same_seed_same_children_in_every_scenario(fresh, scenario):
    a, b = fresh["no_police"].population, fresh[scenario].population
    assert a.n == b.n
    for name in (*STUDENT_ATTRIBUTES, "base_log_propensity", "log_propensity", "log_need", "engagement"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize("scenario", SCENARIOS[1:])
def test_same_seed_same_teachers_and_support_in_every_scenario(fresh, scenario):
    a, b = fresh["no_police"], fresh[scenario]
    assert [t.referral_tolerance for t in a.teachers] == [t.referral_tolerance for t in b.teachers]
    assert [t.class_id for t in a.teachers] == [t.class_id for t in b.teachers]
    assert [w.schools for w in a.youth_workers] == [w.schools for w in b.youth_workers]
    assert [s.mental_health_slots for s in a.schools] == [s.mental_health_slots for s in b.schools]


def _incidents(model: BoroughModel, day: int, location: Location):
    pop = model.population
    risk = pop.risk()
    mult = model.borough.route_risk[pop.route] if location == Location.STREET else None
    return [
        (i.student, i.type.name, i.cj_appropriate)
        for i in model.catalogue.draw_day(model, day, location, risk, pop.need(), mult)
    ]


@pytest.mark.parametrize("location", [Location.SCHOOL, Location.STREET])
def test_incidents_before_any_policy_effect_are_identical_across_scenarios(configs, location):
    # Fresh models (the policing models have set up, nothing has been handled): days 0-9 of incidents.
    drawn = {}
    for scenario, cfg in configs.items():
        model = BoroughModel(cfg)
        drawn[scenario] = []
        for day in range(10):
            model.population.evolve(day, model.streams)
            drawn[scenario].append(_incidents(model, day, location))
    assert drawn["no_police"][0] or location == Location.STREET, "day 0 should have some school incidents"
    assert sum(map(len, drawn["no_police"])) > 0
    for scenario in SCENARIOS[1:]:
        assert drawn[scenario] == drawn["no_police"], scenario


def test_day_zero_ledger_incidents_are_identical_after_one_step(configs):
    counts = {}
    for scenario, cfg in configs.items():
        model = BoroughModel(cfg)
        model.step()
        counts[scenario] = model.ledger.counts[0, :, out.INCIDENTS].copy()
    assert counts["no_police"].sum() > 0
    for scenario in SCENARIOS[1:]:
        np.testing.assert_array_equal(counts[scenario], counts["no_police"], err_msg=scenario)


@pytest.fixture(scope="module")
def neutral_runs():
    """Every scenario for 60 days, seed 3, with every behavioural effect of policy switched off."""
    return {s: run_small(s, 60, 3, *behaviour_neutral(s)) for s in SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS[1:])
def test_when_policy_cannot_change_behaviour_every_scenario_sees_the_same_incidents(neutral_runs, scenario):
    base = neutral_runs["no_police"].ledger.counts
    other = neutral_runs[scenario].ledger.counts
    assert base[:, :, out.INCIDENTS].sum() > 100
    for what in (out.INCIDENTS, out.STREET_INCIDENTS, out.SERIOUS_INCIDENTS):
        np.testing.assert_array_equal(other[:, :, what], base[:, :, what], err_msg=f"{scenario} {what.name}")
    # ... while the policing itself differs.
    assert not np.array_equal(other[:, :, out.INCIDENTS_KNOWN_TO_POLICE], base[:, :, out.INCIDENTS_KNOWN_TO_POLICE])


def test_no_police_and_supportive_policing_handle_serious_incidents_identically(neutral_runs):
    # Both: staff call the response team for every emergency they notice; neither patrols nor sits in school.
    a = neutral_runs["no_police"].ledger.counts[:, :, out.SERIOUS_APPROPRIATE_RESPONSE]
    b = neutral_runs["supportive_policing"].ledger.counts[:, :, out.SERIOUS_APPROPRIATE_RESPONSE]
    assert neutral_runs["no_police"].ledger.counts[:, :, out.SERIOUS_INCIDENTS].sum() > 0
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("scenario", ["embedded_officer", "hackney_pilot"])
def test_more_police_never_means_fewer_serious_incidents_handled(neutral_runs, scenario):
    # Paired draws: an officer on site or a patrol can only add police knowledge of a serious incident.
    base = neutral_runs["no_police"].ledger.counts[:, :, out.SERIOUS_APPROPRIATE_RESPONSE]
    more = neutral_runs[scenario].ledger.counts[:, :, out.SERIOUS_APPROPRIATE_RESPONSE]
    assert np.all(more >= base)


def test_labelling_is_what_makes_scenarios_diverge(small_runs):
    # With the default labelling effect, records change later behaviour, so the scenarios' children diverge --
    # but a child's baseline can differ between scenarios only if policy touched them: a record or youth work
    # (police lessons have zero effect by default; the officer's deterrence changes incidents, not propensity).
    a, b = small_runs["no_police"], small_runs["embedded_officer"]
    changed = a.population.base_log_propensity != b.population.base_log_propensity
    touched = (a.ledger.student_records > 0) | (b.ledger.student_records > 0)
    touched |= (a.population.youth_work_until >= 0) | (b.population.youth_work_until >= 0)
    assert changed.any()
    assert not np.any(changed & ~touched)


def test_different_seeds_give_different_boroughs():
    a = BoroughModel(small_config("no_police", 5, 0))
    b = BoroughModel(small_config("no_police", 5, 1))
    assert not np.array_equal(a.borough.school_pupils, b.borough.school_pupils)
    assert not np.array_equal(a.borough.route_risk, b.borough.route_risk)
    n = min(a.population.n, b.population.n)
    assert not np.array_equal(a.population.base_log_propensity[:n], b.population.base_log_propensity[:n])


def test_rng_argument_sets_the_seed_like_the_config():
    a = BoroughModel(policing="hackney_pilot", borough="small", days=5, rng=7)
    b = BoroughModel(small_config("no_police", 5, 7))
    assert a.config.seed == 7
    _assert_same_borough(a, b)
    np.testing.assert_array_equal(a.population.base_log_propensity, b.population.base_log_propensity)
