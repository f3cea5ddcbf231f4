"""The optimised paths give exactly what the straightforward code they replace would (docs/performance.md)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simhelpers import small_config

from sim.core.agents import Officer, fixed_per_student
from sim.core.incidents import Location
from sim.core.model import BoroughModel
from sim.core.population import cumulative_weights, sample_within_schools


def test_incident_draws_are_the_keyed_uniforms():
    # A day's incidents draw their decisions together (DayDraws); each must be the incident's own keyed draw.
    model = BoroughModel(small_config("hackney_pilot", 30, 4))
    streams, pop, catalogue = model.streams, model.population, model.catalogue
    seen = 0
    for day in range(30):
        pop.evolve(day, streams)
        risk, need = pop.risk(), pop.need()
        for location, multiplier in ((Location.SCHOOL, None), (Location.STREET, model.borough.route_risk[pop.route])):
            incidents = catalogue.draw_day(model, day, location, risk, need, multiplier)
            for incident in incidents:
                for purpose in ("staff_notice", "record", "a_purpose_of_an_analysts_rule"):
                    expected = streams.uniform(purpose, day, incident.student, int(location))
                    assert incident.draw(purpose) == expected
                truth = streams.uniform("cj_appropriate", day, incident.student, int(location))
                assert incident.cj_appropriate == (truth < incident.type.cj_appropriate_probability)
                assert incident.school == pop.school[incident.student]
                assert incident.over_policed == pop.over_policed[incident.student]
            seen += len(incidents)
    assert seen > 50
    found = catalogue.make_incidents(model, 3, np.array([5, 9, 9]), catalogue.types[:3], Location.STOP)
    for incident in found:
        truth = streams.uniform("cj_appropriate", 3, incident.student, 2)
        assert incident.cj_appropriate == (truth < incident.type.cj_appropriate_probability)
        assert incident.draw("record") == streams.uniform("record", 3, incident.student, 2)


def test_route_true_rate_is_the_bincount_of_the_students_rates():
    model = BoroughModel(small_config("hackney_pilot", 5, 2))
    model.run_for(5)
    pop = model.population
    expected = np.bincount(
        pop.route, weights=model.street_base_rate * model.risk_today, minlength=model.borough.n_routes
    )
    np.testing.assert_array_equal(model.route_true_rate(), expected)


def test_presence_sampling_with_fixed_weights_equals_sampling_from_the_weights():
    model = BoroughModel(small_config("embedded_officer", 5, 1))
    pop = model.population
    presence = model.policing.get("embedded_presence")
    weights = np.ones(pop.n)
    for officer in presence.officers:
        for s in officer.schools:
            students = pop.students_of_school(s)
            weights[students] = officer.approach_weights(students)
    schools, k = np.array([0, 3, 1]), np.array([4, 0, 7])
    a = sample_within_schools(pop, weights, schools, k, np.random.default_rng(8))
    b = sample_within_schools(pop, None, schools, k, np.random.default_rng(8), cumulative=cumulative_weights(weights))
    np.testing.assert_array_equal(a, b)
    assert np.all(pop.school[a] == np.repeat(schools, k))
    # each officer's weights for their own schools, worked out once (the default rule is marked fixed)
    np.testing.assert_array_equal(presence._cumulative(), cumulative_weights(weights))
    assert presence._cumulative() is presence._cumulative()


class StateDependentOfficer(Officer):
    """Stops follow today's risk: weights that change from day to day must not be kept."""

    def stop_weights(self, students):
        return self.model.risk_today[students]


class SchoolLoyalOfficer(Officer):
    """A fixed rule that reads the officer's own schools: each officer's weights must be their own."""

    @fixed_per_student
    def approach_weights(self, students):
        own = np.isin(self.model.population.school[students], self.schools)
        return np.where(own, 1.0 + self.schools[0], 0.5)


def test_overridden_stop_weights_are_asked_every_day():
    model = BoroughModel(small_config("hackney_pilot", 3, 1, "agents.officer=test_fast_paths.StateDependentOfficer"))
    model.run_for(3)
    officer = model.policing.get("linked_advisors").officers[0]
    assert not officer.rule_is_fixed("stop_weights")
    route = int(np.flatnonzero(model.borough.route_school == officer.schools[0])[0])
    students = model.population.students_on_route(route)
    np.testing.assert_array_equal(officer.weights_for(("route", route), students), model.risk_today[students])


def test_fixed_stop_weights_are_kept_per_officer_not_shared():
    model = BoroughModel(small_config("embedded_officer", 3, 1, "agents.officer=test_fast_paths.SchoolLoyalOfficer"))
    model.run_for(3)
    presence = model.policing.get("embedded_presence")
    pop = model.population
    cumulative = presence._cumulative()
    for officer in presence.officers:
        assert officer.rule_is_fixed("approach_weights")
        for s in officer.schools:
            first, last = pop.school_bounds(np.array([s]))
            total = cumulative[last[0]] - cumulative[first[0]]
            assert total == pytest.approx((1.0 + officer.schools[0]) * (last[0] - first[0]))


def test_read_only_state_cannot_be_written_directly():
    model = BoroughModel(small_config("embedded_officer", 3, 3))
    pop = model.population
    for name in ("base_log_propensity", "log_propensity", "log_need", "engagement"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(pop, name)[0] = 1.0


def test_raise_propensity_moves_baseline_and_today_up_to_the_ceiling():
    model = BoroughModel(small_config("embedded_officer", 3, 3))
    pop = model.population
    before = pop.base_log_propensity[4], pop.log_propensity[4]
    pop.raise_propensity(4, 0.25)
    assert pop.base_log_propensity[4] == before[0] + 0.25 and pop.log_propensity[4] == before[1] + 0.25
    pop.raise_propensity(4, 1e3)
    assert pop.base_log_propensity[4] == pop.log_propensity[4] == pop.log_max_propensity


def test_need_is_exp_of_log_need_after_support_changes_it():
    # need() keeps exp(log_need); evolve() refreshes it where mental-health support lowers log_need.
    model = BoroughModel(small_config("embedded_officer", 40, 3, "borough.mental_health_slots_per_1000_pupils=40"))
    pop = model.population
    start = pop.log_need.copy()
    model.run_for(40)
    assert (pop.log_need != start).any()  # support changed someone's need
    np.testing.assert_array_equal(pop.need(), np.exp(pop.log_need))
    assert not pop.need().flags.writeable  # a shared array: callers cannot change it by mistake


def test_ledger_counts_and_hours_are_written_through_to_the_arrays():
    import copy
    import pickle

    from sim.core import outcomes as out
    from sim.core.outcomes import Hours, Ledger

    ledger = Ledger(days=3, n_schools=4, n_students=10)
    ledger.add(2, 3, out.EXCLUSIONS, 1, 5)
    ledger.add(0, 0, out.INCIDENTS, 0)
    ledger.add_hours(1, 2, Hours.OFFICER, 0.25)
    ledger.add_hours(1, 2, Hours.OFFICER, 0.5)
    expected = np.zeros_like(ledger.counts)
    expected[2, 3, out.EXCLUSIONS, 1] = 5
    expected[0, 0, out.INCIDENTS, 0] = 1
    np.testing.assert_array_equal(ledger.counts, expected)
    assert ledger.hours[1, 2, Hours.OFFICER] == 0.75 and ledger.hours.sum() == 0.75
    for other in (copy.deepcopy(ledger), pickle.loads(pickle.dumps(ledger))):  # copies write to their own arrays
        other.add(0, 0, out.INCIDENTS, 0)
        assert other.counts[0, 0, out.INCIDENTS, 0] == 2
    assert ledger.counts[0, 0, out.INCIDENTS, 0] == 1


def _full_scan_day(pop, day):
    """The daily update as it was written before the tracked student sets: scanning every student."""
    cfg = pop.cfg
    in_youth_work = np.flatnonzero(pop.youth_work_until > day)
    in_mental_health = np.flatnonzero(pop.mental_health_until > day)
    risk = np.exp(pop.log_propensity)
    disengaged = np.flatnonzero(pop.engagement != 1.0)
    risk[disengaged] *= 1.0 + cfg.disengagement_risk * (1.0 - pop.engagement[disengaged])
    return in_youth_work, in_mental_health, risk


@settings(max_examples=25, deadline=None)
@given(
    changes=st.lists(
        st.tuples(
            st.sampled_from(["engagement", "youth_work", "mental_health"]),
            st.lists(st.integers(0, 199), min_size=1, max_size=5),
            st.integers(0, 12),
        ),
        max_size=30,
    )
)
def test_tracked_support_and_engagement_equal_a_scan_of_everyone(changes):
    # The population keeps short lists of the students in support and with lowered engagement; the daily update
    # over them must equal the same update over a scan of every student, whatever the rules change and when.
    model = BoroughModel(small_config("no_police", 12, 1))
    pop = model.population
    assert pop.cfg.youth_work_effect > 0 and pop.cfg.mental_health_effect > 0
    by_day: dict[int, list] = {}
    for kind, students, day in changes:
        by_day.setdefault(day, []).append((kind, np.array(students), day))
    for day in range(12):
        for kind, students, when in by_day.get(day, []):
            if kind == "engagement":
                pop.set_engagement(students, 1.0 if when % 5 == 0 else 0.5)  # also back to 1 sometimes
            elif kind == "youth_work":
                pop.start_youth_work(students, when + 3)
            else:
                pop.start_mental_health(students if len(students) > 1 else int(students[0]), when + 2)
        base, need = pop.base_log_propensity.copy(), pop.log_need.copy()
        in_youth_work, in_mental_health, _ = _full_scan_day(pop, day)
        pop.evolve(day, model.streams)
        expected_base, expected_need = base.copy(), need.copy()
        expected_base[in_youth_work] += np.log1p(-pop.cfg.youth_work_effect) / pop.youth_work_case_days
        expected_need[in_mental_health] += np.log1p(-pop.cfg.mental_health_effect) / pop.mental_health_case_days
        np.testing.assert_array_equal(pop.base_log_propensity, expected_base)
        np.testing.assert_array_equal(pop.log_need, expected_need)
        np.testing.assert_array_equal(pop.risk(), _full_scan_day(pop, day)[2])


def test_tracked_state_is_read_only_and_survives_copies():
    import copy
    import pickle

    import pytest

    model = BoroughModel(small_config("no_police", 5, 1))
    pop = model.population
    for name in ("engagement", "youth_work_until", "mental_health_until"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(pop, name)[3] = 0
    pop.set_engagement(3, 0.25)
    pop.start_youth_work(np.array([4, 5]), 9)
    assert pop.engagement[3] == 0.25 and list(pop.youth_work_until[4:6]) == [9, 9]
    for other in (copy.deepcopy(pop), pickle.loads(pickle.dumps(pop))):
        other.set_engagement(7, 0.5)  # a copy writes to its own arrays, seen through its own views
        assert other.engagement[7] == 0.5 and pop.engagement[7] == 1.0 and other.engagement[3] == 0.25
        assert not other.engagement.flags.writeable
        np.testing.assert_array_equal(np.sort(other._disengaged.array()), [3, 7])


def test_patrol_distance_from_true_and_baseline_risk_equals_the_day_by_day_sums():
    # Runs of up to a school year sum the students' risk instead of each day's route rates (docs/performance.md);
    # longer runs keep each day's. Either way the distances are those of the day-by-day route rates. The baseline
    # is the route rates of the risk at the start of the run, before any policing (patrol-independent).
    import pytest

    from sim.mechanisms.corridors import total_variation

    for days in (45, 200):
        model = BoroughModel(small_config("hackney_pilot", days, 5))
        corridors = model.policing.get("safer_corridors")
        assert corridors._daily_true_rates == (days > 190)
        baseline = model.route_true_rate()  # before the first day: nobody's risk has been changed by policing
        np.testing.assert_array_equal(corridors.baseline_rate, baseline)
        rates = []
        for _ in range(days):
            model.step()
            rates.append(model.route_true_rate())  # today's risk is still the day's after the step
        patrols = corridors.patrol_history
        metrics = corridors.metrics()
        for key, window in (("", days), ("_last_20_days", 20), ("_last_school_year", 190)):
            expected = total_variation(np.sum(patrols[-window:], axis=0), np.sum(rates[-window:], axis=0))
            assert metrics[f"corridor_patrol_risk_tv_distance{key}"] == pytest.approx(expected, rel=1e-12, abs=1e-15)
            expected = total_variation(np.sum(patrols[-window:], axis=0), baseline)
            assert metrics[f"corridor_patrol_baseline_tv_distance{key}"] == pytest.approx(expected, rel=1e-12)


def test_stops_and_approaches_have_their_own_rules_and_weights():
    model = BoroughModel(
        small_config(
            "embedded_officer", 3, 1, "police.over_policed_stop_weight=12", "police.over_policed_approach_weight=2"
        )
    )
    officer = model.policing.get("embedded_presence").officers[0]
    students = model.population.students_of_school(int(officer.schools[0]))
    over = model.population.over_policed[students]
    assert over.any() and (~over).any()
    np.testing.assert_array_equal(
        officer.weights_for(("school", 0), students, "approach_weights"), np.where(over, 2.0, 1.0)
    )
    np.testing.assert_array_equal(officer.weights_for(("school", 0), students), np.where(over, 12.0, 1.0))
