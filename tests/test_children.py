"""Children under 10, calls through ordinary routes, and police in non-policing roles (issue 10: findings 2, 5, 6)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from simhelpers import BEHAVIOUR_NEUTRAL, run_small, small_config

from sim.core import outcomes as out
from sim.core.agents import AGE_OF_CRIMINAL_RESPONSIBILITY, Response
from sim.core.borough import PRIMARY, SECONDARY
from sim.core.incidents import SCHOOL_YEAR_DAYS, Incident, Location
from sim.core.model import SCHOOL_YEAR_SHARE_OF_CALENDAR_YEAR, BoroughModel

ALWAYS_RECORD = ("police.recording_by_severity=[1,1,1,1,1]", "police.schools_protocol_use=0")


def make(scenario: str, *overrides: str, days: int = 10, seed: int = 0) -> BoroughModel:
    return BoroughModel(small_config(scenario, days, seed, *overrides))


def students_in(model: BoroughModel, phase: int, year: int) -> np.ndarray:
    pop = model.population
    return np.flatnonzero((pop.phase == phase) & (pop.year_group == year))


def fight(model: BoroughModel, student: int, day: int = 0) -> Incident:
    return Incident(model, day, int(student), model.catalogue.by_name["fight_no_injury"], Location.SCHOOL, False)


def count(model: BoroughModel, what: int) -> int:
    return int(model.ledger.counts[:, :, what].sum())


# --- finding 2: ages and the age of criminal responsibility ---------------------------------------------------------
def test_ages_follow_the_english_school_year():
    model = make("no_police")
    pop = model.population
    for day in (0, 95, 189):
        for year in range(5):  # Reception to Year 4: always under 10
            ages = [model.age_on(int(s), day) for s in students_in(model, PRIMARY, year)]
            assert all(year + 4 <= a < year + 6 for a in ages)
            assert max(ages) < AGE_OF_CRIMINAL_RESPONSIBILITY
        year6 = [model.age_on(int(s), day) for s in students_in(model, PRIMARY, 6)]
        assert min(year6) >= AGE_OF_CRIMINAL_RESPONSIBILITY
        year7 = [model.age_on(int(s), day) for s in students_in(model, SECONDARY, 0)]
        assert all(11 <= a < 13 for a in year7)
    # everyone ages during the year, by the share of the calendar year the school days span
    s = int(np.flatnonzero(pop.phase == PRIMARY)[0])
    assert model.age_on(s, SCHOOL_YEAR_DAYS - 1) - model.age_on(s, 0) == pytest.approx(
        (SCHOOL_YEAR_DAYS - 1) / SCHOOL_YEAR_DAYS * SCHOOL_YEAR_SHARE_OF_CALENDAR_YEAR
    )


def test_a_year_5_child_is_under_10_until_their_birthday():
    model = make("no_police")
    year5 = students_in(model, PRIMARY, 5)
    assert len(year5) > 50
    first = np.array([model.age_on(int(s), 0) < 10 for s in year5])
    last = np.array([model.age_on(int(s), SCHOOL_YEAR_DAYS - 1) < 10 for s in year5])
    assert first.mean() > 0.9 and 0.05 < last.mean() < 0.3  # birthdays spread over the year
    assert not (last & ~first).any()  # nobody gets younger
    # over the year, on average 1 - (mean share of the year elapsed on a school day) of Year 5 is under 10
    days = range(0, SCHOOL_YEAR_DAYS, 10)
    share = np.mean([[model.age_on(int(s), d) < 10 for s in year5] for d in days])
    assert share == pytest.approx(1 - SCHOOL_YEAR_SHARE_OF_CALENDAR_YEAR / 2, abs=0.08)


def test_age_follows_the_year_group():
    model = make("no_police")
    pop = model.population
    s = int(students_in(model, PRIMARY, 3)[0])
    before = model.age_on(s, 40)
    year_group = pop.year_group.copy()
    year_group[s] += 1  # as a year boundary moves a child up
    pop.year_group = year_group
    assert model.age_on(s, 40) == pytest.approx(before + 1)


def test_a_child_in_year_2_is_never_recorded_but_referred_for_safeguarding():
    model = make("embedded_officer", *ALWAYS_RECORD)
    pop = model.population
    officer = model.response_officer
    for day in range(3):
        for s in students_in(model, PRIMARY, 2)[:40]:
            inc = fight(model, s, day)
            assert officer.decides_to_record(inc)  # the officer would have recorded it ...
            assert not officer.criminally_responsible(inc)  # ... but the child is under 10
            propensity = pop.log_propensity[s]
            model.police_attend(officer, inc, out.INCIDENT_RESPONSE)
            assert not inc.recorded
            assert pop.log_propensity[s] == propensity  # no labelling
    assert count(model, out.CRIME_RECORDS) == 0
    assert count(model, out.CRIME_RECORDS_UNDER_10) == 0
    assert count(model, out.SAFEGUARDING_REFERRALS_UNDER_10) == 120
    assert model.ledger.student_records.sum() == 0
    assert officer.hours["safeguarding_referral"] == pytest.approx(120 * model.config.police.hours_crime_record)
    # Control: a Year 6 child is recorded under the same settings.
    older = int(students_in(model, PRIMARY, 6)[0])
    model.police_attend(officer, fight(model, older), out.INCIDENT_RESPONSE)
    assert count(model, out.CRIME_RECORDS) == 1


def test_a_run_makes_no_record_against_a_child_under_10_and_counts_the_referrals():
    model = run_small("hackney_pilot", 60, 1, *ALWAYS_RECORD)
    m = model.metrics()
    assert m["crime_records_under_10"] == 0
    assert m["safeguarding_referrals_under_10"] > 0
    assert m["safeguarding_referrals_under_10_per_1000"] == pytest.approx(
        m["safeguarding_referrals_under_10"] / model.population.n * 1000 * SCHOOL_YEAR_DAYS / 60
    )
    pop = model.population
    young = (pop.phase == PRIMARY) & (pop.year_group <= 4)
    assert model.ledger.student_records[young].sum() == 0


def test_a_rule_that_bypasses_the_check_shows_in_crime_records_under_10():
    model = make("no_police")
    s = int(students_in(model, PRIMARY, 1)[0])
    model.record_crime(fight(model, s), model.response_officer)
    assert count(model, out.CRIME_RECORDS_UNDER_10) == 1


# --- finding 5: no schools policing removes the officer, not the phone ----------------------------------------------
def test_no_police_schools_call_through_ordinary_routes_at_a_higher_threshold():
    model = make("no_police", "staff.referral_tolerance_sd=0", "staff.referral_tolerance_mean=2.0")
    assert [type(m).name for m in model.policing.mechanisms] == ["ordinary_calls"]
    shift = model.config.scenario.mechanisms["ordinary_calls"]["threshold_shift"]
    assert shift == 0.5
    assert model.policing.takes_non_emergency_calls
    teacher = model.teachers[0]
    assert teacher.referral_threshold(False) == pytest.approx(2.0 + shift)
    student = int(model.population.students_of_class(teacher.class_id)[0])
    inc = Incident(model, 0, student, model.catalogue.by_name["youth_produced_sexual_imagery"], Location.SCHOOL, False)
    assert teacher.choose_response(inc, False) is Response.POLICE  # severity 3 >= 2.5
    assert teacher.choose_response(fight(model, student), False) is not Response.POLICE  # severity 2 < 2.5
    # with a police link (non_emergency_calls) the same teacher calls about the fight: 2 >= 2.0
    linked = make("supportive_policing", "staff.referral_tolerance_sd=0", "staff.referral_tolerance_mean=2.0")
    assert linked.policing.call_threshold_shift == 0
    assert linked.teachers[0].choose_response(fight(linked, student), False) is Response.POLICE


def test_the_ordinary_calls_threshold_is_an_override():
    model = make("no_police", "scenario.mechanisms.ordinary_calls.threshold_shift=1.5")
    assert model.teachers[0].referral_threshold(False) == pytest.approx(model.teachers[0].referral_tolerance + 1.5)


def test_no_police_attends_non_emergencies_that_staff_call_about():
    model = run_small("no_police", 60, 2, "staff.referral_tolerance_sd=0", "staff.referral_tolerance_mean=1.0")
    known = model.ledger.counts[:, :, out.INCIDENTS_KNOWN_TO_POLICE].sum()
    serious = model.ledger.counts[:, :, out.SERIOUS_INCIDENTS].sum()
    assert known > serious  # police hear of more than the emergencies (and the public's reports)
    # a threshold above every severity: no call below an emergency
    never = run_small("no_police", 60, 2, "scenario.mechanisms.ordinary_calls.threshold_shift=1.5",
                      "staff.referral_tolerance_sd=0", "staff.referral_tolerance_mean=4.0")  # fmt: skip
    assert never.ledger.counts[:, :, out.INCIDENTS_KNOWN_TO_POLICE].sum() < known


# --- finding 6: police in non-policing roles -------------------------------------------------------------------------
NEUTRAL_FUNDING = (
    *BEHAVIOUR_NEUTRAL,
    "borough.mental_health_crises_per_1000_secondary=30",
    "borough.mental_health_crises_per_1000_primary=5",
)


def _welfare(funding: float, days: int = 190, seed: int = 4) -> BoroughModel:
    return run_small("no_police", days, seed, f"borough.support_funding_multiplier={funding}", *NEUTRAL_FUNDING)


def test_welfare_demand_on_police_rises_as_support_funding_falls():
    runs = {f: _welfare(f) for f in (0.5, 1.0, 2.0)}
    episodes = {f: count(m, out.CRISES_OUTSIDE_SCHOOL) + count(m, out.MISSING_REPORTS) for f, m in runs.items()}
    assert len(set(episodes.values())) == 1  # the same episodes: support cannot change need here
    welfare = {f: count(m, out.WELFARE) for f, m in runs.items()}
    hours = {f: m.officer_hours_by_activity()["welfare"] for f, m in runs.items()}
    assert welfare[0.5] > welfare[1.0] > welfare[2.0]
    assert hours[0.5] > hours[1.0] > hours[2.0]
    # paired draws: every crisis police attend with more funding, they attend with less
    answered = {f: count(m, out.CRISES_ANSWERED_BY_SERVICES) for f, m in runs.items()}
    assert answered[0.5] < answered[1.0] < answered[2.0]


def test_services_answer_crises_in_proportion_to_funding_up_to_the_floor():
    cfg = small_config("no_police", 1, 0).borough
    for funding, want in ((0.5, 0.11), (1.0, 0.22), (2.0, 0.44), (10.0, 0.9)):
        m = run_small("no_police", 570, 5, f"borough.support_funding_multiplier={funding}",
                      "borough.mental_health_crises_per_1000_secondary=30",
                      "borough.mental_health_crises_per_1000_primary=5")  # fmt: skip
        share = m.metrics()["mental_health_crises_services_share"]
        n = count(m, out.CRISES_OUTSIDE_SCHOOL)
        assert n > 100
        expected = min(1 - cfg.police_attend_crisis_floor, cfg.services_answer_crisis_share * funding)
        assert expected == pytest.approx(want)
        assert share == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / n) + 1e-9)


def test_missing_reports_and_crises_occur_at_their_declared_rates():
    days = 190
    model = run_small("no_police", days, 6, *BEHAVIOUR_NEUTRAL)
    pop, b = model.population, model.config.borough
    need = model.population.need()  # unchanged: no mental-health effect
    secondary = pop.phase == SECONDARY
    per_student_year = np.where(secondary, b.missing_reports_per_1000_secondary, b.missing_reports_per_1000_primary)
    expected = float((per_student_year / 1000 * need).sum()) * days / SCHOOL_YEAR_DAYS
    got = count(model, out.MISSING_REPORTS)
    assert got == pytest.approx(expected, abs=4 * math.sqrt(expected))
    # every missing report and every crisis no service answered is a welfare contact with the child
    police_crises = count(model, out.CRISES_OUTSIDE_SCHOOL) - count(model, out.CRISES_ANSWERED_BY_SERVICES)
    in_school = count(model, out.WELFARE) - got - police_crises
    assert in_school >= 0
    h = model.config.police
    assert model.officer_hours_by_activity()["welfare"] == pytest.approx(
        got * h.hours_missing_report + (police_crises + in_school) * h.hours_welfare_attendance
    )


def test_a_wellbeing_crisis_police_attend_in_school_is_a_welfare_contact():
    model = make("embedded_officer")
    school = model.schools[0]
    teacher = school.teachers[0]
    student = int(model.population.students_of_class(teacher.class_id)[0])
    crisis = Incident(model, 0, student, model.catalogue.by_name["wellbeing_crisis"], Location.SCHOOL, False)
    school.refer_to_police(crisis, teacher, capacity_shortfall=True)
    assert count(model, out.WELFARE) == 1 and count(model, out.INCIDENT_RESPONSE) == 0
    assert model.response_officer.hours.get("welfare") == model.config.police.hours_welfare_attendance


def test_all_ages_at_once_equal_each_age_and_records_per_1000_aged_10_plus_use_them():
    model = make("no_police", days=20)
    model.run_for(20)
    ages = model.ages_on(10)  # the middle day of the run
    for s in (0, 7, 123, model.population.n - 1):
        assert ages[s] == pytest.approx(model.age_on(s, 10))
    aged = int((ages >= AGE_OF_CRIMINAL_RESPONSIBILITY).sum())
    m = model.metrics()
    assert 0 < aged < model.population.n
    assert m["crime_records_per_1000_aged_10_plus"] == pytest.approx(
        m["crime_records"] * 1000 * SCHOOL_YEAR_DAYS / (aged * 20)
    )
