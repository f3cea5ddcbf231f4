"""Policing's possible benefits and the victim side (issue 10, findings 3, 4 and 8).

Serious harm to victims and the harm an immediate response averts; in-school deterrence by an officer on site;
the embedded officers' density; the lessons' effects (police-delivered and teacher-delivered).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError
from simhelpers import behaviour_neutral, small_config

from sim.core import outcomes as out
from sim.core.compose import compose_config
from sim.core.config import DEFAULT_INCIDENT_TYPES, IncidentTypeConfig
from sim.core.incidents import SCHOOL_YEAR_DAYS, Incident, Location
from sim.core.model import BoroughModel
from sim.mechanisms.lessons import TeacherLedPSHE
from sim.mechanisms.presence import EmbeddedPresence, OfficerFirstResponse

DETER = "scenario.mechanisms.embedded_presence.in_school_deterrence"
AVERT = "scenario.mechanisms.officer_first_response.harm_averted_share"


def make(scenario: str, *overrides: str, days: int = 10, seed: int = 0) -> BoroughModel:
    return BoroughModel(small_config(scenario, days, seed, *overrides))


def run(scenario: str, *overrides: str, days: int = 60, seed: int = 3) -> BoroughModel:
    model = make(scenario, *overrides, days=days, seed=seed)
    model.run_for(days)
    return model


def counts(model: BoroughModel, what: out.Counted) -> np.ndarray:
    """Per day and school, both groups."""
    return model.ledger.counts[:, :, what, :].sum(axis=2)


# --- the victim side -----------------------------------------------------------------------------------------------
def test_only_assault_with_injury_and_serious_violence_harm_a_victim_by_default():
    harming = {name for name, t in DEFAULT_INCIDENT_TYPES.items() if t.get("harms_victim")}
    assert harming == {"assault_with_injury", "serious_violence"}
    cfg = compose_config([])
    assert all(t.serious for t in cfg.incidents.types.values() if t.harms_victim)


def test_a_type_that_harms_a_victim_must_be_serious():
    row = dict(DEFAULT_INCIDENT_TYPES["fight_no_injury"], harms_victim=True)
    with pytest.raises(ValidationError, match="harms_victim needs serious"):
        IncidentTypeConfig(**row)


def _close(model: BoroughModel, type_name: str, averted: bool = False) -> Incident:
    student = int(np.flatnonzero(model.population.phase == 1)[0])
    incident = Incident(model, 0, student, model.catalogue.by_name[type_name], Location.SCHOOL, True)
    incident.harm_averted = averted
    model._close_incident(incident)
    return incident


def test_a_victim_harming_incident_counts_as_serious_harm_unless_averted():
    model = make("no_police")
    _close(model, "assault_with_injury")
    _close(model, "serious_violence")
    _close(model, "assault_with_injury", averted=True)
    _close(model, "weapon_possession")  # serious, but no victim
    _close(model, "drug_supply")
    _close(model, "fight_no_injury")
    assert counts(model, out.SERIOUS_HARM_INCIDENTS).sum() == 2
    assert counts(model, out.SERIOUS_HARM_AVERTED).sum() == 1
    assert counts(model, out.SERIOUS_INCIDENTS).sum() == 5


def test_serious_harm_rate_is_per_1000_students_per_school_year():
    model = run("embedded_officer", days=40)
    m = model.metrics()
    n = int(counts(model, out.SERIOUS_HARM_INCIDENTS).sum())
    assert m["serious_harm_incidents"] == n > 0
    assert m["serious_harm_incidents_per_1000"] == pytest.approx(n / model.population.n * 1000 * SCHOOL_YEAR_DAYS / 40)
    assert m["serious_harm_averted"] == int(counts(model, out.SERIOUS_HARM_AVERTED).sum())
    assert m["serious_harm_incidents"] < m["serious_incidents"]
    headline = [metric.key for metric in out.REGISTRY.headline()]
    assert headline[-1] == "serious_harm_incidents_per_1000"


def test_without_an_officer_no_harm_is_averted():
    for scenario in ("no_police", "hackney_pilot", "supportive_policing"):
        assert run(scenario, days=30).metrics()["serious_harm_averted"] == 0


# --- faster response: harm averted by the officer on site -----------------------------------------------------------
def _on_site(model: BoroughModel) -> tuple[OfficerFirstResponse, int, int]:
    """The first-response mechanism, and a secondary school with an officer on site today, and one of its pupils."""
    model.policing.start_of_day(0)
    response = model.policing.get("officer_first_response")
    assert isinstance(response, OfficerFirstResponse)
    school = next(s for s in response.presence.on_site if model.borough.school_phase[s] == 1)
    student = int(model.population.students_of_school(school)[0])
    return response, school, student


def test_only_the_officer_on_site_attending_an_in_school_harm_can_avert_it():
    model = make("embedded_officer", f"{AVERT}=0.3")
    response, school, student = _on_site(model)
    officer = response.presence.on_site[school]
    averted = []
    for day in range(200):  # many keyed draws: about 30% averted
        incident = Incident(model, day, student, model.catalogue.by_name["assault_with_injury"], Location.SCHOOL, True)
        response.after_police_contact(officer, incident)
        averted.append(incident.harm_averted)
        assert incident.harm_averted == (incident.draw("harm_averted") < 0.3)
    assert 0.15 < np.mean(averted) < 0.45
    for location, type_name, who in (
        (Location.STREET, "assault_with_injury", officer),  # on the school run: no officer on site
        (Location.SCHOOL, "weapon_possession", officer),  # no victim
        (Location.SCHOOL, "assault_with_injury", model.response_officer),  # the response team, not the officer
    ):
        for day in range(50):
            incident = Incident(model, day, student, model.catalogue.by_name[type_name], location, True)
            response.after_police_contact(who, incident)
            assert not incident.harm_averted


def test_averted_harm_moves_incidents_from_serious_harm_and_changes_nothing_else():
    # Paired draws, behaviour held fixed: the same incidents; a share of the harms is averted instead.
    neutral = behaviour_neutral("embedded_officer")
    none = run("embedded_officer", *neutral, f"{AVERT}=0")
    some = run("embedded_officer", *neutral, f"{AVERT}=0.3")
    np.testing.assert_array_equal(counts(some, out.INCIDENTS), counts(none, out.INCIDENTS))
    harm_and_averted = counts(some, out.SERIOUS_HARM_INCIDENTS) + counts(some, out.SERIOUS_HARM_AVERTED)
    np.testing.assert_array_equal(harm_and_averted, counts(none, out.SERIOUS_HARM_INCIDENTS))
    assert counts(none, out.SERIOUS_HARM_AVERTED).sum() == 0
    assert counts(some, out.SERIOUS_HARM_AVERTED).sum() > 0
    np.testing.assert_array_equal(counts(some, out.CRIME_RECORDS), counts(none, out.CRIME_RECORDS))


# --- in-school deterrence --------------------------------------------------------------------------------------------
def test_school_risk_multiplier_lowers_risk_only_where_the_officer_is_on_site():
    model = make("embedded_officer", f"{DETER}=0.2")
    model.policing.start_of_day(0)
    presence = model.policing.get("embedded_presence")
    assert isinstance(presence, EmbeddedPresence)
    multiplier = model.policing.school_risk_multiplier()
    assert multiplier is not None and multiplier.shape == (model.borough.n_schools,)
    on_site = np.zeros(model.borough.n_schools, dtype=bool)
    on_site[list(presence.on_site)] = True
    assert on_site.any()
    np.testing.assert_allclose(multiplier[on_site], 0.8)
    np.testing.assert_allclose(multiplier[~on_site], 1.0)
    off = make("embedded_officer", f"{DETER}=0")
    off.policing.start_of_day(0)
    assert off.policing.school_risk_multiplier() is None
    assert make("no_police").policing.school_risk_multiplier() is None


def test_deterrence_only_removes_in_school_incidents():
    # Paired draws: a lower in-school rate with the same uniform can only remove incidents, never add one.
    neutral = behaviour_neutral("embedded_officer")
    base = run("embedded_officer", *neutral, f"{DETER}=0")
    deterred = run("embedded_officer", *neutral, f"{DETER}=0.3")
    a, b = counts(base, out.INCIDENTS), counts(deterred, out.INCIDENTS)
    assert np.all(b <= a)
    assert b.sum() < a.sum()
    np.testing.assert_array_equal(counts(deterred, out.STREET_INCIDENTS), counts(base, out.STREET_INCIDENTS))
    # the fall is of the order of the deterrence times the share of school-days with an officer on site
    school_a = a.sum() - counts(base, out.STREET_INCIDENTS).sum()
    school_b = b.sum() - counts(deterred, out.STREET_INCIDENTS).sum()
    assert 0.0 < 1 - school_b / school_a < 0.3


def test_deterrence_range_is_enforced():
    with pytest.raises(Exception, match="plausible range"):
        small_config("embedded_officer", 5, 0, f"{DETER}=0.5")


# --- embedded officer density ----------------------------------------------------------------------------------------
def _officers(*overrides: str) -> tuple[list[list[int]], np.ndarray]:
    model = BoroughModel(compose_config(["scenario=embedded_officer", "days=1", *overrides]))
    presence = model.policing.get("embedded_presence")
    assert isinstance(presence, EmbeddedPresence)
    return [o.schools for o in presence.officers], model.borough.school_phase


def test_default_density_is_londons_about_ten_officers_for_the_default_borough():
    officers, phase = _officers()
    secondary = [o for o in officers if phase[o[0]] == 1]
    primary = [o for o in officers if phase[o[0]] == 0]
    assert len(secondary) == math.ceil(15 / 1.7) == 9  # 15 secondaries, 1.7 each
    assert len(primary) == 1  # 58 primaries, 112 each
    assert sorted(s for o in officers for s in o) == list(range(73))  # every school has one named officer
    assert {len(o) for o in secondary} == {1, 2}
    assert all(len({phase[s] for s in o}) == 1 for o in officers)  # an officer covers one phase


def test_one_officer_per_secondary_and_none_for_primaries():
    officers, phase = _officers(
        "scenario.mechanisms.embedded_presence.secondary_schools_per_officer=1",
        "scenario.mechanisms.embedded_presence.primary_schools_per_officer=0",
    )
    assert len(officers) == 15 and all(len(o) == 1 and phase[o[0]] == 1 for o in officers)


def test_an_officer_covering_two_schools_is_in_one_of_them_a_day():
    model = make("embedded_officer", "scenario.mechanisms.embedded_presence.presence_days_share=1")
    presence = model.policing.get("embedded_presence")
    assert isinstance(presence, EmbeddedPresence)
    for day in range(4):
        model.policing.start_of_day(day)
        for officer in presence.officers:
            here = [s for s in officer.schools if presence.on_site.get(s) is officer]
            assert here == [officer.schools[day % len(officer.schools)]]


# --- lessons ----------------------------------------------------------------------------------------------------------
def test_police_lesson_effect_lives_in_the_mechanism_and_shifts_the_taught_students():
    model = make("embedded_officer", "scenario.mechanisms.police_lessons.effect_per_lesson=0.1")
    pop = model.population
    students = np.array([0, 1, 1])  # student 1 taught twice
    before = pop.base_log_propensity.copy()
    model.deliver_police_lesson(students, 0.1)
    shift = pop.base_log_propensity - before
    assert shift[0] == pytest.approx(math.log1p(0.1))
    assert shift[1] == pytest.approx(2 * math.log1p(0.1))
    assert np.all(shift[2:] == 0)
    assert model.ledger.student_contacts[:2].tolist() == [1, 2]
    with pytest.raises(Exception, match="plausible range"):
        small_config("embedded_officer", 5, 0, "scenario.mechanisms.police_lessons.effect_per_lesson=0.5")


def test_harmful_police_lessons_raise_the_propensity_of_those_taught():
    neutral = behaviour_neutral("embedded_officer")
    null = run("embedded_officer", *neutral, days=30)
    overrides = [o for o in neutral if "police_lessons" not in o]
    harmful = run("embedded_officer", *overrides, "scenario.mechanisms.police_lessons.effect_per_lesson=0.1", days=30)
    taught = harmful.ledger.student_contacts_by_type[:, out.LESSON.contact_index]
    assert taught.sum() > 0
    diff = harmful.population.base_log_propensity - null.population.base_log_propensity
    np.testing.assert_allclose(diff, taught * math.log1p(0.1), atol=1e-9)


def _pshe_lessons_by_class(model: BoroughModel, days: int, per_year: float) -> np.ndarray:
    """Each class's teacher-led lessons, re-drawn from the mechanism's own stream."""
    n = model.population.n_classes
    lessons = np.zeros(n, dtype=int)
    for day in range(days):
        lessons += model.streams.generator("teacher_led_pshe", day).random(n) < per_year / SCHOOL_YEAR_DAYS
    return lessons


def test_teacher_led_pshe_lowers_each_taught_students_baseline_by_its_share_of_the_programme():
    days = 60
    neutral = behaviour_neutral("supportive_policing")
    without = run("supportive_policing", *neutral, days=days)
    overrides = [o for o in neutral if "teacher_led_pshe" not in o]
    model = run(
        "supportive_policing", *overrides, "scenario.mechanisms.teacher_led_pshe.programme_effect=0.19", days=days
    )
    mechanism = model.policing.get("teacher_led_pshe")
    assert isinstance(mechanism, TeacherLedPSHE)
    per_class = _pshe_lessons_by_class(model, days, 6.0)
    assert model.metrics()["teacher_led_pshe_lessons"] == per_class.sum() > 0
    expected = per_class[model.population.class_id] * math.log(1 - 0.19) / 6.0
    diff = model.population.base_log_propensity - without.population.base_log_propensity
    np.testing.assert_allclose(diff, expected, atol=1e-9)
    # no police contact: the lessons are the teachers'
    assert model.metrics()["police_contacts_lesson"] == 0
    assert model.metrics()["police_contacts"] == without.metrics()["police_contacts"]


def test_a_full_year_of_teacher_led_lessons_gives_the_programme_effect():
    # (1 - e) ** (1 / n) per lesson: n lessons give exactly 1 - e
    model = make("supportive_policing", "scenario.mechanisms.teacher_led_pshe.programme_effect=0.1")
    mechanism = model.policing.get("teacher_led_pshe")
    assert isinstance(mechanism, TeacherLedPSHE)
    assert math.exp(6 * mechanism.log_shift_per_lesson) == pytest.approx(0.9)
    assert run("no_police", days=1).metrics()["teacher_led_pshe_lessons"] is None
