"""Unit tests of the agents' rules on a small borough (sim.core.agents, sim.mechanisms)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from simhelpers import small_config

from sim.core import outcomes as out
from sim.core.agents import Response
from sim.core.incidents import Incident, Location
from sim.core.model import BoroughModel
from sim.core.outcomes import Hours


def make(scenario: str, *overrides: str, days: int = 10, seed: int = 0) -> BoroughModel:
    return BoroughModel(small_config(scenario, days, seed, *overrides))


def incident(model: BoroughModel, student: int, type_name: str, location=Location.SCHOOL, day=0, cj=False):
    return Incident(model, day, int(student), model.catalogue.by_name[type_name], location, cj)


def contacts_total(model: BoroughModel) -> int:
    return int(sum(model.ledger.counts[:, :, t].sum() for t in out.REGISTRY.contact_types))


def secondary_student(model: BoroughModel) -> int:
    return int(np.flatnonzero(model.population.phase == 1)[0])


# --- teachers --------------------------------------------------------------------------------------------------
def test_officer_on_site_lowers_the_referral_threshold_by_the_proximity_shift():
    model = make("embedded_officer", "staff.proximity_shift=1.5")
    for teacher in model.teachers[:10]:
        assert teacher.referral_threshold(True) == pytest.approx(teacher.referral_threshold(False) - 1.5)
        assert teacher.referral_threshold(False) == teacher.referral_tolerance
    no_shift = make("embedded_officer", "staff.proximity_shift=0")
    t = no_shift.teachers[0]
    assert t.referral_threshold(True) == t.referral_threshold(False)


def test_proximity_effect_turns_a_minor_incident_into_a_police_referral():
    model = make("embedded_officer", "staff.proximity_shift=1.5")
    teacher = model.teachers[0]
    teacher.referral_tolerance = 3.0
    student = model.population.students_of_class(teacher.class_id)[0]
    fight = incident(model, student, "fight_no_injury")  # severity 2, not serious
    assert teacher.choose_response(fight, officer_on_site=True) is Response.POLICE
    assert teacher.choose_response(fight, officer_on_site=False) is not Response.POLICE


def test_serious_incidents_always_go_to_police_and_crises_to_mental_health():
    for scenario in ("no_police", "hackney_pilot"):
        model = make(scenario, "staff.referral_tolerance_mean=6", "staff.referral_tolerance_sd=0")
        teacher = model.teachers[0]
        student = model.population.students_of_class(teacher.class_id)[0]
        assert teacher.choose_response(incident(model, student, "weapon_possession"), False) is Response.POLICE
        assert teacher.choose_response(incident(model, student, "wellbeing_crisis"), True) is Response.MENTAL_HEALTH


# --- officers: recording -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("location", [Location.SCHOOL, Location.STREET, Location.STOP])
def test_non_recordable_incidents_are_never_recorded(location):
    model = make("embedded_officer", "police.recording_by_severity=[1,1,1,1,1]", "police.schools_protocol_use=0")
    officer = model.response_officer
    students = np.arange(0, model.population.n, 7)
    for day in range(3):
        for s in students:
            for name in ("low_level_disruption", "wellbeing_crisis"):
                assert officer.decides_to_record(incident(model, s, name, location, day)) is False
            # Control: a recordable type under the same settings is always recorded.
            assert officer.decides_to_record(incident(model, s, "verbal_conflict", location, day)) is True


def _record_decisions(model, students, type_name="verbal_conflict", location=Location.STREET, days=4):
    officer = model.response_officer
    return np.array(
        [[officer.decides_to_record(incident(model, s, type_name, location, d)) for s in students] for d in range(days)]
    )


def test_over_policed_recording_odds_raise_the_chance_of_a_record():
    fair = make("no_police", "police.over_policed_recording_odds=1.0")
    biased = make("no_police", "police.over_policed_recording_odds=4.0")
    op = np.flatnonzero(fair.population.over_policed)
    other = np.flatnonzero(~fair.population.over_policed)[: len(op)]
    assert len(op) > 100
    fair_op, biased_op = _record_decisions(fair, op), _record_decisions(biased, op)
    # Severity 1: p = 0.3, odds 3/7; odds x4 = 12/7 gives p = 12/19 = 0.632.
    assert fair_op.mean() == pytest.approx(0.3, abs=0.05)
    assert biased_op.mean() == pytest.approx(12 / 19, abs=0.05)
    # Paired draws: the bias only ever adds records, and only for over-policed students.
    assert np.all(biased_op >= fair_op)
    np.testing.assert_array_equal(_record_decisions(fair, other), _record_decisions(biased, other))


def test_schools_protocol_keeps_non_indictable_in_school_incidents_off_the_record():
    model = make("embedded_officer", "police.recording_by_severity=[1,1,1,1,1]", "police.schools_protocol_use=1")
    officer = model.response_officer
    for s in range(0, model.population.n, 50):
        assert not officer.decides_to_record(incident(model, s, "fight_no_injury", Location.SCHOOL))
        assert officer.decides_to_record(incident(model, s, "fight_no_injury", Location.STREET))
        assert officer.decides_to_record(incident(model, s, "weapon_possession", Location.SCHOOL))  # indictable


def test_supportive_policing_uses_its_own_schools_protocol_setting():
    model = make(
        "supportive_policing",
        "police.recording_by_severity=[1,1,1,1,1]",
        "police.schools_protocol_use=0",
        "scenario.mechanisms.schools_protocol.use=1",
    )
    assert model.policing.schools_protocol_use == 1.0
    for s in range(0, model.population.n, 50):
        assert not model.response_officer.decides_to_record(incident(model, s, "theft_or_damage", Location.SCHOOL))


# --- students: labelling -----------------------------------------------------------------------------------------
def test_crime_record_raises_propensity_and_lowers_engagement():
    model = make("no_police", "students.labelling_effect=0.3", "students.labelling_engagement_loss=0.1")
    pop = model.population
    s = secondary_student(model)
    base, logp, risk = pop.base_log_propensity[s], pop.log_propensity[s], pop.risk_of(s)
    others_base = np.delete(pop.base_log_propensity, s).copy()
    model.record_crime(incident(model, s, "fight_no_injury", Location.STREET, cj=False), model.response_officer)
    assert pop.base_log_propensity[s] == pytest.approx(base + math.log(1.3))
    assert pop.log_propensity[s] == pytest.approx(logp + math.log(1.3))
    assert pop.engagement[s] == pytest.approx(0.9)
    assert pop.risk_of(s) > risk * 1.3  # higher propensity and lower engagement
    np.testing.assert_array_equal(np.delete(pop.base_log_propensity, s), others_base)  # no one else is touched
    # Bookkeeping: one record, unnecessary by its ground truth, credited to this student.
    assert model.ledger.student_records[s] == 1
    assert model.ledger.counts[0, pop.school[s], out.CRIME_RECORDS].sum() == 1
    assert model.ledger.counts[0, pop.school[s], out.UNNECESSARY_CRIME_RECORDS].sum() == 1
    assert model.student(s).crime_records == 1


def test_necessary_record_is_not_counted_as_unnecessary():
    model = make("no_police")
    s = secondary_student(model)
    model.record_crime(incident(model, s, "serious_violence", Location.STREET, cj=True), model.response_officer)
    school = model.population.school[s]
    assert model.ledger.counts[0, school, out.CRIME_RECORDS].sum() == 1
    assert model.ledger.counts[0, school, out.UNNECESSARY_CRIME_RECORDS].sum() == 0


def test_engagement_never_falls_below_zero():
    model = make("no_police", "students.labelling_engagement_loss=0.3")
    s = secondary_student(model)
    for _ in range(5):
        model.student(s).on_crime_record(incident(model, s, "fight_no_injury"))
    assert model.population.engagement[s] == 0.0


def test_no_labelling_effect_leaves_propensity_alone():
    model = make("no_police", "students.labelling_effect=0", "students.labelling_engagement_loss=0")
    s = secondary_student(model)
    before = model.population.base_log_propensity[s]
    model.student(s).on_crime_record(incident(model, s, "fight_no_injury"))
    assert model.population.base_log_propensity[s] == before
    assert model.population.engagement[s] == 1.0


def test_street_records_feed_route_intelligence_and_school_records_do_not():
    model = make("hackney_pilot")
    s = secondary_student(model)
    route = model.population.route[s]
    before = model.policing.get("safer_corridors").intelligence.records.copy()
    model.record_crime(incident(model, s, "fight_no_injury", Location.SCHOOL), model.response_officer)
    np.testing.assert_array_equal(model.policing.get("safer_corridors").intelligence.records, before)
    model.record_crime(incident(model, s, "fight_no_injury", Location.STREET), model.response_officer, by_patrol=True)
    assert model.policing.get("safer_corridors").intelligence.records[route] == before[route] + 1
    assert model.policing.get("safer_corridors").intelligence.patrol_finds[route] == 1


# --- youth work ----------------------------------------------------------------------------------------------------
def test_youth_worker_at_full_caseload_refuses_until_a_case_ends():
    model = make("no_police", "borough.youth_work_caseload=3", "borough.youth_workers_per_1000_pupils=0.1")
    assert len(model.youth_workers) == 1
    worker = model.youth_workers[0]
    school = worker.schools[0]
    students = model.population.students_of_school(school)[:5]
    assert [model.refer_to_youth_work(int(s), school) for s in students[:3]] == [True, True, True]
    assert worker.open_cases(0) == 3
    assert not worker.accepts(int(students[3]), 0)
    assert model.refer_to_youth_work(int(students[3]), school) is False
    assert model.ledger.counts[0, school, out.UNMET_YOUTH_WORK_REFERRALS].sum() == 1
    assert model.ledger.counts[0, school, out.YOUTH_WORK_REFERRALS].sum() == 4
    # A student who already has a case is not a new case (and not refused).
    assert model.refer_to_youth_work(int(students[0]), school) is True
    assert worker.cases_taken == 3
    end = model.config.borough.youth_work_case_days
    assert model.population.youth_work_until[students[0]] == end
    assert not worker.accepts(int(students[4]), end - 1)
    assert worker.accepts(int(students[4]), end)


def test_zero_caseload_always_refuses():
    model = make("no_police", "borough.youth_work_caseload=0")
    school = model.youth_workers[0].schools[0]
    assert model.refer_to_youth_work(int(model.population.students_of_school(school)[0]), school) is False


def _evolve(model, days):
    for day in range(days):
        model.population.evolve(day, model.streams)


def test_youth_work_support_lowers_propensity_over_time():
    supported, control = make("no_police", days=60), make("no_police", days=60)
    cohort = np.arange(100)
    supported.population.start_youth_work(cohort, 60)
    _evolve(supported, 30)
    _evolve(control, 30)
    sp, cp = supported.population, control.population
    assert np.all(sp.log_propensity[cohort] < cp.log_propensity[cohort])
    expected_base_shift = 30 * math.log(1 - 0.14) / 60  # half of the -14% of a full case
    np.testing.assert_allclose(sp.base_log_propensity[cohort] - cp.base_log_propensity[cohort], expected_base_shift)
    np.testing.assert_array_equal(sp.log_propensity[100:], cp.log_propensity[100:])  # the rest are untouched


def test_finished_youth_work_case_has_no_further_effect():
    model, control = make("no_police"), make("no_police")
    model.population.start_youth_work(np.arange(10), 5)
    _evolve(model, 5)
    shift = model.population.base_log_propensity[:10] - control.population.base_log_propensity[:10]
    for day in range(5, 15):
        model.population.evolve(day, model.streams)
    np.testing.assert_allclose(
        model.population.base_log_propensity[:10] - control.population.base_log_propensity[:10], shift
    )


# --- no police -------------------------------------------------------------------------------------------------------
NO_SUPPORT = (
    "staff.referral_tolerance_mean=0",
    "staff.referral_tolerance_sd=0",
    "staff.escalate_when_no_capacity=1",
    "borough.youth_workers_per_1000_pupils=0",
    "borough.mental_health_slots_per_1000_pupils=0",
)


NO_CALLS = "~scenario.mechanisms.ordinary_calls"  # no_police without calls through 101/999: emergencies only


def test_without_a_calls_mechanism_a_teacher_never_chooses_police_for_a_non_emergency():
    model = make("no_police", *NO_SUPPORT, NO_CALLS)
    assert model.policing.mechanisms == []
    assert model.policing.takes_non_emergency_calls is False
    teacher = model.teachers[0]
    student = model.population.students_of_class(teacher.class_id)[0]
    for name in ("verbal_conflict", "fight_no_injury", "theft_or_damage", "youth_produced_sexual_imagery"):
        inc = incident(model, student, name)
        assert teacher.choose_response(inc, officer_on_site=False) is not Response.POLICE
        assert teacher.escalates_when_support_full(inc) is False


def _attended(scenario, *overrides, days=40):
    model = make(scenario, *NO_SUPPORT, *overrides, days=days, seed=2)
    seen = []
    original = model.police_attend

    def spy(officer, inc, *args, **kwargs):
        seen.append(inc)
        return original(officer, inc, *args, **kwargs)

    model.police_attend = spy
    model.run_for(days)
    return model, seen


def test_without_a_calls_mechanism_police_attend_no_non_emergency_in_school():
    model, seen = _attended("no_police", NO_CALLS)
    in_school = [i for i in seen if i.location == Location.SCHOOL]
    assert in_school, "some serious incidents should reach police"
    assert all(i.type.serious for i in in_school)
    assert model.ledger.counts[:, :, out.CONTACTS_DUE_TO_CAPACITY_SHORTFALL].sum() == 0
    # Control: with the same teachers and no screening, a model that takes referrals does attend minor ones.
    _, seen_control = _attended(
        "supportive_policing",
        "scenario.mechanisms.linked_advisors.advise_police_when_needed=1",
        "scenario.mechanisms.linked_advisors.advise_police_when_not_needed=1",
    )
    assert any(not i.type.serious for i in seen_control if i.location == Location.SCHOOL)


# --- Hackney advisors ----------------------------------------------------------------------------------------------
def _hackney_referral(advise_police: int):
    """A teacher refers a fight to the school's Hackney advisor, who always (1) or never (0) advises police."""
    model = make(
        "hackney_pilot",
        f"scenario.mechanisms.linked_advisors.advise_police_when_needed={advise_police}",
        f"scenario.mechanisms.linked_advisors.advise_police_when_not_needed={advise_police}",
    )
    school = model.schools[0]
    teacher = school.teachers[0]
    student = model.population.students_of_class(teacher.class_id)[0]
    inc = incident(model, student, "fight_no_injury")
    school.refer_to_police(inc, teacher)
    return model, school, student, inc


def test_hackney_advisor_consultation_makes_no_contact_with_the_child():
    model, school, _, inc = _hackney_referral(advise_police=0)
    assert model.ledger.counts[0, school.index, out.ADVISOR_CONSULTATIONS].sum() == 1
    assert school.link_officer.hours.get("consultation") == model.config.police.hours_consultation
    assert contacts_total(model) == 0
    assert model.ledger.student_contacts.sum() == 0
    assert not inc.known_to_police and not inc.recorded
    assert model.ledger.hours[0, school.index, Hours.TEACHER_POLICE_WORK] > 0  # the school dealt with it


def test_hackney_advice_to_call_police_does_lead_to_a_contact():
    model, school, student, inc = _hackney_referral(advise_police=1)
    assert model.ledger.counts[0, school.index, out.ADVISOR_CONSULTATIONS].sum() == 1
    assert contacts_total(model) == 1
    assert model.ledger.student_contacts[student] == 1
    assert inc.known_to_police


def test_emergencies_bypass_the_advisor():
    model = make(
        "hackney_pilot",
        "scenario.mechanisms.linked_advisors.advise_police_when_needed=0",
        "scenario.mechanisms.linked_advisors.advise_police_when_not_needed=0",
    )
    school = model.schools[0]
    teacher = school.teachers[0]
    student = model.population.students_of_class(teacher.class_id)[0]
    inc = incident(model, student, "serious_violence", cj=True)
    school.refer_to_police(inc, teacher)
    assert model.ledger.counts[0, school.index, out.ADVISOR_CONSULTATIONS].sum() == 0
    assert inc.known_to_police
    assert model.ledger.student_contacts[student] == 1


def test_hackney_advisors_who_never_advise_police_keep_minor_school_incidents_from_police():
    model, seen = _attended(
        "hackney_pilot",
        "scenario.mechanisms.linked_advisors.advise_police_when_needed=0",
        "scenario.mechanisms.linked_advisors.advise_police_when_not_needed=0",
        "scenario.mechanisms.points_budget.budget=0",
    )
    assert model.metrics()["advisor_consultations"] > 0
    assert all(i.type.serious for i in seen if i.location == Location.SCHOOL)
    # Control: advisors who always advise police let minor incidents through.
    _, seen_control = _attended(
        "hackney_pilot",
        "scenario.mechanisms.linked_advisors.advise_police_when_needed=1",
        "scenario.mechanisms.linked_advisors.advise_police_when_not_needed=1",
        "scenario.mechanisms.points_budget.budget=0",
    )
    assert any(not i.type.serious for i in seen_control if i.location == Location.SCHOOL)


# --- points ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("budget", [0, 5, 7.5, 20, 41])
@pytest.mark.parametrize("days", [20, 200])
def test_points_activities_never_exceed_the_budget(budget, days):
    model = make("hackney_pilot", f"scenario.mechanisms.points_budget.budget={budget}", days=days)
    menu = model.policing.get("points_budget").params.menu
    cheapest = min(item.cost for item in menu.values() if item.weight > 0)
    spent: dict[tuple[int, int], float] = {}
    for day, items in model.policing.get("points_budget").plan.items():
        assert 0 <= day < days
        for school, name in items:
            key = (school, day // 190)
            spent[key] = spent.get(key, 0.0) + menu[name].cost
    years = math.ceil(days / 190)
    for school in range(model.borough.n_schools):
        for year in range(years):
            # a year cut short by the end of the run gets its budget pro rata
            year_budget = budget * (min(days, (year + 1) * 190) - year * 190) / 190
            total = spent.get((school, year), 0.0)
            assert total <= year_budget + 1e-9
            assert year_budget - total < cheapest  # the school spends while it can afford something
    model.run_for(days)
    assert model.metrics()["points_spent"] == pytest.approx(sum(spent.values()))
    assert model.metrics()["points_spent"] <= budget * model.borough.n_schools * years + 1e-9


def test_points_activities_are_contacts_with_the_students_reached():
    model = make("hackney_pilot", days=40)
    model.run_for(40)
    m = model.metrics()
    assert m["points_spent"] > 0
    assert m["police_contacts_points_activity"] > 0
    assert model.metrics()["officer_hours_points_activity"] > 0
    none = make("hackney_pilot", "scenario.mechanisms.points_budget.budget=0", days=40)
    none.run_for(40)
    assert none.metrics()["points_spent"] == 0
    assert none.metrics()["police_contacts_points_activity"] == 0


# --- exclusions ------------------------------------------------------------------------------------------------------
def test_police_involvement_raises_the_chance_of_exclusion():
    model = make(
        "no_police", "staff.exclusion_by_severity=[0.5,0.5,0.5,0.5,0.5]", "staff.police_exclusion_multiplier=2"
    )
    school = model.schools[0]
    students = model.population.students_of_school(0)[:200]
    with_police = [school.decides_exclusion(incident(model, s, "fight_no_injury"), True) for s in students]
    without = [school.decides_exclusion(incident(model, s, "fight_no_injury"), False) for s in students]
    assert all(with_police)
    assert 0.35 < np.mean(without) < 0.65
