"""The optimised paths give exactly what the straightforward code they replace would (docs/performance.md)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from simhelpers import small_config

from sim.core.agents import Officer
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
        one = catalogue.make_incident(model, 3, incident.student, incident.type, Location.STOP)
        assert incident.cj_appropriate == one.cj_appropriate
        assert incident.draw("record") == one.draw("record") == streams.uniform("record", 3, incident.student, 2)


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
    weights = model.policing.officers[0].stop_weights(np.arange(pop.n))
    schools, k = np.array([0, 3, 1]), np.array([4, 0, 7])
    a = sample_within_schools(pop, weights, schools, k, np.random.default_rng(8))
    b = sample_within_schools(pop, None, schools, k, np.random.default_rng(8), cumulative=cumulative_weights(weights))
    np.testing.assert_array_equal(a, b)
    assert np.all(pop.school[a] == np.repeat(schools, k))
    # the policing model works the default rule's weights out once
    np.testing.assert_array_equal(model.policing._approach_weights(), cumulative_weights(weights))


class StateDependentOfficer(Officer):
    """Stops follow today's risk: weights that change from day to day must not be cached."""

    def stop_weights(self, students):
        return self.model.risk_today[students]


def test_overridden_stop_weights_are_asked_every_day():
    model = BoroughModel(small_config("hackney_pilot", 3, 1, "agents.officer=test_fast_paths.StateDependentOfficer"))
    model.run_for(3)
    officer = model.policing.officers[0]
    route = int(np.flatnonzero(model.borough.route_school == officer.schools[0])[0])
    students = model.population.students_on_route(route)
    np.testing.assert_array_equal(model.policing._stop_weights(officer, route), model.risk_today[students])


def test_type_pick_for_a_handful_of_incidents_equals_the_vectorised_one(monkeypatch):
    import sim.core.incidents

    def incidents_of(few: int):
        monkeypatch.setattr(sim.core.incidents, "_FEW", few)
        model = BoroughModel(small_config("no_police", 5, 6))
        pop = model.population
        out = []
        for day in range(20):
            pop.evolve(day, model.streams)
            risk, need = pop.risk(), pop.need()
            for location, multiplier in (
                (Location.SCHOOL, None),
                (Location.STREET, 3.0 * model.borough.route_risk[pop.route]),
            ):
                drawn = model.catalogue.draw_day(model, day, location, risk, need, multiplier)
                out += [(i.day, i.student, i.location, i.type.name, i.cj_appropriate) for i in drawn]
        return out

    python, vectorised = incidents_of(10**9), incidents_of(0)
    assert len(python) > 100
    assert python == vectorised


def test_need_is_exp_of_log_need_after_any_change():
    # need() keeps exp(log_need) and refreshes only where log_need changed: by the model or by anyone else.
    model = BoroughModel(small_config("embedded_officer", 40, 3))
    pop = model.population
    model.run_for(40)
    np.testing.assert_array_equal(pop.need(), np.exp(pop.log_need))
    pop.log_need[[0, 7, 7, pop.n - 1]] += 0.3  # an analyst's rule writing the state directly
    pop.log_need[5:9] = -1.0
    np.testing.assert_array_equal(pop.need(), np.exp(pop.log_need))
    assert not pop.need().flags.writeable  # a shared array: callers cannot change it by mistake


def test_ledger_counts_and_hours_are_written_through_to_the_arrays():
    import copy
    import pickle

    from sim.core.outcomes import Count, Hours, Ledger

    ledger = Ledger(days=3, n_schools=4, n_students=10)
    ledger.add(2, 3, Count.EXCLUSIONS, 1, 5)
    ledger.add(0, 0, Count.INCIDENTS, 0)
    ledger.add_hours(1, 2, Hours.OFFICER, 0.25)
    ledger.add_hours(1, 2, Hours.OFFICER, 0.5)
    expected = np.zeros_like(ledger.counts)
    expected[2, 3, Count.EXCLUSIONS, 1] = 5
    expected[0, 0, Count.INCIDENTS, 0] = 1
    np.testing.assert_array_equal(ledger.counts, expected)
    assert ledger.hours[1, 2, Hours.OFFICER] == 0.75 and ledger.hours.sum() == 0.75
    for other in (copy.deepcopy(ledger), pickle.loads(pickle.dumps(ledger))):  # copies write to their own arrays
        other.add(0, 0, Count.INCIDENTS, 0)
        assert other.counts[0, 0, Count.INCIDENTS, 0] == 2
    assert ledger.counts[0, 0, Count.INCIDENTS, 0] == 1


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


def test_patrol_distance_from_true_risk_equals_the_day_by_day_sums():
    # Runs of up to a school year sum the students' risk instead of each day's route rates (docs/performance.md);
    # longer runs keep each day's. Either way the distances are those of the day-by-day route rates.
    import pytest

    from sim.mechanisms.corridors import total_variation

    for days in (45, 200):
        model = BoroughModel(small_config("hackney_pilot", days, 5))
        assert model.policing._daily_true_rates == (days > 190)
        rates = []
        for _ in range(days):
            model.step()
            rates.append(model.route_true_rate())  # today's risk is still the day's after the step
        patrols = model.policing.patrol_history
        metrics = model.policing.extra_metrics()
        for key, window in (("", days), ("_last_20_days", 20), ("_last_school_year", 190)):
            expected = total_variation(np.sum(patrols[-window:], axis=0), np.sum(rates[-window:], axis=0))
            assert metrics[f"corridor_patrol_risk_tv_distance{key}"] == pytest.approx(expected, rel=1e-12, abs=1e-15)
