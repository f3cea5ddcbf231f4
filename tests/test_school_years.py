"""School years: children move up, move to secondary school, leave, and a new intake arrives (docs/ODD.md §7.14)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from simhelpers import small_config

from sim.analysis.aggregate import aggregate, write_tables
from sim.analysis.folders import record_run
from sim.core.borough import PRIMARY, SECONDARY
from sim.core.compose import compose_config
from sim.core.incidents import SCHOOL_YEAR_DAYS
from sim.core.metrics import school_year_ranges, year_metrics, yearly_rows
from sim.core.model import BoroughModel
from sim.core.outcomes import REGISTRY, Ledger
from sim.core.population import place_in_secondary
from sim.runner.run import write_outputs

YEAR = SCHOOL_YEAR_DAYS


@pytest.fixture(scope="module")
def boundary():
    """A small-borough Hackney run through its first school year, some support cases opened, then the move between
    school years (``start_school_year``, which the next step would begin with; no step is taken after it)."""
    model = BoroughModel(
        small_config(
            "hackney_pilot",
            2 * YEAR,
            3,
            "borough.youth_work_caseload=40",  # room for the cases opened below
            "borough.mental_health_slots_per_1000_pupils=50",
        )
    )
    model.run_for(YEAR)
    pop = model.population
    plan = pop.plan_school_year(model.streams)
    # a mover and a leaver (whose slot no mover takes) each get a youth-work and a mental-health case on the last day
    mover = int(plan.moved_from[0])
    leaver = int(np.setdiff1d(plan.left[pop.phase[plan.left] == SECONDARY], plan.moved_to)[0])
    for student in (mover, leaver):
        assert model.refer_to_youth_work(student, int(pop.school[student]))
        assert model.schools[int(pop.school[student])].takes_mental_health_case(student, model.day)
    model.student(mover)  # agents made, as a rule acting on them would
    model.student(leaver)
    before = {
        "year_group": pop.year_group.copy(),
        "class_id": pop.class_id.copy(),
        "over_policed": pop.over_policed.copy(),
        "base": pop.base_log_propensity.copy(),
        "engagement": pop.engagement.copy(),
        "records": model.ledger.student_records.copy(),
        "contacts": model.ledger.student_contacts.copy(),
        "teachers": list(model.teachers),
        "agents": dict(model._students),
        "mh_ends": {s.index: list(s.mental_health_case_ends) for s in model.schools},
        "leaver_mh_end": int(pop.mental_health_until[leaver]),
        "mover_mh_end": int(pop.mental_health_until[mover]),
    }
    model.start_school_year()
    return model, plan, before, mover, leaver


def test_every_child_moves_up_a_year(boundary):
    model, plan, before, *_ = boundary
    stay = ~plan.last_year
    assert (model.population.year_group[stay] == before["year_group"][stay] + 1).all()
    assert (model.population.year_group[plan.last_year] == 0).all()
    assert model.population.school_year == 1
    # every year group of a school is a year of its phase
    pop, cfg = model.population, model.config.students
    assert (pop.year_group < np.where(pop.phase == PRIMARY, cfg.primary_years, cfg.secondary_years)).all()


def test_year_6_children_move_to_a_secondary_school_in_their_area_with_a_route_to_it(boundary):
    model, plan, before, *_ = boundary
    pop, borough = model.population, model.borough
    assert len(plan.moved_from) > 0
    assert (before["year_group"][plan.moved_from] == model.config.students.primary_years - 1).all()
    assert (pop.phase[plan.moved_from] == PRIMARY).all() and (pop.phase[plan.moved_to] == SECONDARY).all()
    assert (pop.year_group[plan.moved_to] == 0).all()  # Year 7
    # the child (their community, propensity, engagement, records, contacts) is now in the secondary slot
    for now, then in (
        (pop.over_policed, before["over_policed"]),
        (pop.engagement, before["engagement"]),
        (model.ledger.student_records, before["records"]),
        (model.ledger.student_contacts, before["contacts"]),
    ):
        assert (now[plan.moved_to] == then[plan.moved_from]).all()
    # the route is from their home ward to their new school, and the school's catchment includes the home ward
    route = pop.route[plan.moved_to]
    assert (borough.route_school[route] == pop.school[plan.moved_to]).all()
    assert (borough.route_ward[route] == pop.home_ward[plan.moved_to]).all()
    for slot in plan.moved_to.tolist():
        assert pop.home_ward[slot] in borough.catchment[pop.school[slot]]
        assert slot in pop.students_on_route(int(pop.route[slot])).tolist()


def test_a_leavers_slot_holds_a_new_child_and_the_leavers_records_are_gone(boundary):
    model, plan, before, *_ = boundary
    pop, ledger = model.population, model.ledger
    fresh = plan.fresh
    # every Year 6 slot now holds a new Reception child; every Year 11 slot a Year 7 child
    y6 = np.flatnonzero(plan.last_year & (pop.phase == PRIMARY))
    assert set(y6.tolist()) <= set(fresh.tolist())
    assert (pop.year_group[fresh] == 0).all()
    assert (ledger.student_records[fresh] == 0).all() and (ledger.student_contacts[fresh] == 0).all()
    assert (ledger.student_contacts_by_type[fresh] == 0).all()
    assert (pop.engagement[fresh] == 1.0).all()
    assert (pop.base_log_propensity[fresh] == pop.log_propensity[fresh]).all()
    assert (pop.youth_work_until[fresh] == -1).all() and (pop.mental_health_until[fresh] == -1).all()
    # the records still held are those of the children still in the borough: the leavers' are not counted
    staying = ~plan.last_year
    expected = before["records"][staying].sum() + before["records"][plan.moved_from].sum()
    assert ledger.student_records.sum() == expected
    assert before["records"][plan.left].sum() > 0  # the test means something: some leavers had records


def test_the_intake_is_drawn_like_the_initial_population(boundary):
    model, plan, *_ = boundary
    pop = model.population
    fresh = plan.fresh
    assert (pop.route[fresh] >= 0).all()
    assert all(pop.home_ward[s] in model.borough.catchment[pop.school[s]] for s in fresh.tolist())
    # propensity at baseline, mean near 1, like the initial draws (sigma 0.8: a loose check on a few hundred)
    assert 0.75 < np.exp(pop.base_log_propensity[fresh]).mean() < 1.3
    share = pop.over_policed[fresh].mean()
    assert abs(share - pop.students_by_group[1] / pop.n) < 0.1


def test_support_follows_a_child_who_moves_and_ends_for_one_who_leaves(boundary):
    model, plan, before, mover, leaver = boundary
    pop, day = model.population, model.day
    to = int(plan.moved_to[np.flatnonzero(plan.moved_from == mover)[0]])
    worker = model.youth_worker_of(to)
    assert worker is not None and worker.holds_case(to, day) and not worker.holds_case(mover, day)
    assert pop.youth_work_until[to] > day and pop.mental_health_until[to] > day
    # the mental-health place moved with the child: from the primary school's places to the secondary's
    old_school, new_school = int(pop.school[mover]), int(pop.school[to])
    end = before["mover_mh_end"]
    assert pop.mental_health_until[to] == end
    assert model.schools[old_school].mental_health_case_ends.count(end) < before["mh_ends"][old_school].count(end)
    assert end in model.schools[new_school].mental_health_case_ends
    # the leaver's cases are closed: no worker holds one for the slot, and the school's place is free
    assert not any(w.holds_case(leaver, day) for w in model.youth_workers)
    assert pop.youth_work_until[leaver] == -1 and pop.mental_health_until[leaver] == -1
    school, end = int(pop.school[leaver]), before["leaver_mh_end"]
    arrived = int(school == new_school and end == before["mover_mh_end"])  # the mover's case, if it came here
    assert (
        model.schools[school].mental_health_case_ends.count(end) == before["mh_ends"][school].count(end) - 1 + arrived
    )


def test_agents_follow_the_child_and_leavers_agents_are_removed(boundary):
    model, plan, before, mover, leaver = boundary
    to = int(plan.moved_to[np.flatnonzero(plan.moved_from == mover)[0]])
    agent = before["agents"][mover]
    assert model._students[to] is agent and agent.index == to
    assert mover not in model._students  # a new Reception child: a new agent when a rule acts on them
    gone = before["agents"][leaver]
    assert gone not in model.agents
    assert model.student(mover) is not agent


def test_classes_keep_their_teacher_and_split_each_year_group_evenly(boundary):
    model, _, before, *_ = boundary
    pop = model.population
    assert model.teachers[: len(before["teachers"])] == before["teachers"]
    assert len(model.teachers) == pop.n_classes
    assert (pop.class_school[pop.class_id] == pop.school).all()
    # a class is a section of one year group in one school, the same one as before
    key = pop.school.astype(np.int64) * 64 + pop.year_group
    old_key = pop.school.astype(np.int64) * 64 + before["year_group"]
    class_key = {}
    for c, k in zip(before["class_id"].tolist(), old_key.tolist(), strict=True):
        class_key[c] = k
    for c, k in zip(pop.class_id.tolist(), key.tolist(), strict=True):
        assert class_key.setdefault(c, k) == k
    for k in np.unique(key).tolist():
        sizes = np.bincount(pop.class_id[key == k])
        sizes = sizes[sizes > 0]
        assert sizes.max() - sizes.min() <= 1
    for t in model.teachers:
        students = pop.students_of_class(t.class_id)
        assert (pop.class_id[students] == t.class_id).all()
        assert model.teacher_of(int(students[0])) is t


def test_the_students_caches_follow_the_new_school_year(boundary):
    model, *_ = boundary
    pop = model.population
    assert (model.street_base_rate > 0).all()
    np.testing.assert_array_equal(model._student_route_risk, model.borough.route_risk[pop.route])
    # per-route sums agree with the routes' students
    expected = np.bincount(
        pop.route, weights=model.street_base_rate * model.risk_today, minlength=model.borough.n_routes
    )
    np.testing.assert_allclose(model.route_true_rate(), expected)
    for officer in model.officers:
        for (rule, group), weights in officer._weights.items():
            kind, index = group
            students = pop.students_on_route(index) if kind == "route" else pop.students_of_school(index)
            np.testing.assert_array_equal(weights, getattr(officer, rule)(students))
    corridors = model.policing.get("safer_corridors")
    on_route = np.bincount(pop.route[pop.phase == 1])
    assert corridors._mean_secondary_route == pytest.approx(on_route[on_route > 0].mean())


def test_presence_approach_weights_follow_the_new_students():
    model = BoroughModel(small_config("embedded_officer", YEAR + 1, 0, "police.over_policed_approach_weight=3"))
    model.run_for(YEAR + 1)
    presence = model.policing.get("embedded_presence")
    cumulative = presence._cumulative()
    weights = np.diff(cumulative)
    np.testing.assert_allclose(weights, np.where(model.population.over_policed, 3.0, 1.0))


def test_the_move_is_the_same_in_every_scenario():
    plans = {}
    intake = {}
    for scenario in ("no_police", "hackney_pilot"):
        model = BoroughModel(small_config(scenario, YEAR + 1, 5))
        model.run_for(YEAR)
        plans[scenario] = model.population.plan_school_year(model.streams)
        model.start_school_year()
        fresh = plans[scenario].fresh
        pop = model.population
        intake[scenario] = (pop.home_ward[fresh], pop.over_policed[fresh], pop.base_log_propensity[fresh])
    a, b = plans.values()
    for name in ("last_year", "moved_from", "moved_to", "fresh", "left"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for x, y in zip(*intake.values(), strict=True):
        np.testing.assert_array_equal(x, y)


def test_a_run_of_one_school_year_never_moves():
    model = BoroughModel(small_config("no_police", YEAR, 0))
    classes = model.population.class_id.copy()
    model.run_for(YEAR)
    assert model.population.school_year == 0 and len(model.school_years) == 1
    np.testing.assert_array_equal(model.population.class_id, classes)


def test_re_forming_classes_without_a_move_gives_the_same_classes():
    model = BoroughModel(small_config("no_police", 5, 0))
    pop = model.population
    classes = pop.class_id.copy()
    from sim.core.population import _sections_of

    pop._sections = _sections_of(pop._group_key(), pop.class_id)
    pop._reassign_classes()
    np.testing.assert_array_equal(pop.class_id, classes)


# --- placing Year 6 children -----------------------------------------------------------------------------------
class _Borough:
    """A toy borough: 4 wards; secondary 0 in ward 0, secondary 1 in ward 2; catchments (0, 1) and (2, 1)."""

    n_wards = 4
    school_phase = np.array([SECONDARY, SECONDARY])
    catchment = np.array([[0, 1], [2, 1]])


def test_a_child_takes_the_nearest_school_with_a_place_in_lottery_order():
    school = np.array([0, 0, 1])  # slot 0 and 1: places at school 0; slot 2: a place at school 1
    places = np.array([0, 1, 2])
    home = np.array([0, 0, 0, 2, 3])
    lottery = np.array([0.5, 0.1, 0.3, 0.9, 0.2])
    tie = np.zeros(5)
    children, taken = place_in_secondary(home, places, school, _Borough(), lottery, tie)
    # children 1 and 2 (drawn first) take school 0's two places; child 0 finds it full and has no other school in
    # its area: no place. Child 3 (ward 2) takes school 1's place. Child 4 lives in ward 3, which no school covers.
    assert children.tolist() == [1, 2, 3]
    assert school[taken].tolist() == [0, 0, 1]
    assert sorted(taken.tolist()) == [0, 1, 2]


def test_a_child_from_a_shared_ward_takes_the_nearer_school_then_the_farther():
    school = np.array([0, 1, 1])
    places = np.array([0, 1, 2])
    home = np.array([1, 1, 1, 1])  # ward 1 is in both catchments, second in each: as near to both (a tie)
    lottery = np.array([0.1, 0.2, 0.3, 0.4])
    tie = np.array([0.0, 0.99, 0.0, 0.0])
    children, taken = place_in_secondary(home, places, school, _Borough(), lottery, tie)
    assert children.tolist() == [0, 1, 2]
    assert school[taken].tolist() == [0, 1, 1]  # child 0: the first tie; child 1: the second; child 2: what is left


def test_ledger_moves_per_student_counters_and_starts_new_children_at_zero():
    ledger = Ledger(2, 1, 5)
    ledger.student_records[:] = [1, 2, 3, 4, 5]
    ledger.student_contacts_by_type[:, 0] = [5, 4, 3, 2, 1]
    ledger.move_students(np.array([0, 1]), np.array([3, 4]), np.array([0, 1, 2]))
    assert ledger.student_records.tolist() == [0, 0, 0, 1, 2]
    assert ledger.student_contacts_by_type[:, 0].tolist() == [0, 0, 0, 5, 4]


# --- yearly outcomes -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_years():
    model = BoroughModel(small_config("hackney_pilot", 2 * YEAR + 40, 1))
    model.run_for(model.config.days)
    return model


def test_yearly_rows_are_the_registry_derivations_over_each_school_year(two_years):
    model = two_years
    rows = yearly_rows(model)
    assert [r["school_year"] for r in rows] == [1, 2, 3]
    assert [r["days"] for r in rows] == [YEAR, YEAR, 40]
    assert school_year_ranges(420) == [(0, 190), (190, 380), (380, 420)]
    whole = year_metrics(model)
    for key in ("incidents", "crime_records", "unnecessary_crime_records", "police_contacts", "exclusions"):
        assert sum(r[key] for r in rows) == whole[key]
    for metric in REGISTRY.headline():
        assert all(metric.key in r for r in rows)
    # a year's rate: the year's count per 1,000 of that year's students, scaled to a school year
    counter = REGISTRY.counter("crime_records")
    for row, (first, last), (_, groups) in zip(rows, school_year_ranges(model.day), model.school_years, strict=True):
        count = model.ledger.counts[first:last, :, counter, :].sum(axis=(0, 1))
        assert row["crime_records"] == count.sum()
        assert row["crime_records_per_1000"] == pytest.approx(
            count.sum() / model.population.n * 1000 * YEAR / (last - first)
        )
        assert row["crime_records_per_1000_over_policed"] == pytest.approx(
            count[1] / groups[1] * 1000 * YEAR / (last - first)
        )
        assert row["students_over_policed"] == groups[1]
    assert rows[1]["students_joined"] > 0 and rows[1]["students_moved"] > 0 and rows[0]["students_joined"] == 0


def test_whole_run_rates_are_per_student_year(two_years):
    model = two_years
    m = year_metrics(model)
    days = np.diff([0, YEAR, 2 * YEAR, model.day])
    over = sum(d * g[1] for d, (_, g) in zip(days, model.school_years, strict=True)) / model.day
    counter = REGISTRY.counter("crime_records")
    count = model.ledger.counts[:, :, counter, 1].sum()
    assert m["students_over_policed"] == pytest.approx(over)
    assert m["crime_records_per_1000_over_policed"] == pytest.approx(count / over * 1000 * YEAR / model.day)


def test_one_school_years_row_matches_metrics_json():
    model = BoroughModel(small_config("embedded_officer", 60, 2))
    model.run_for(60)
    (row,) = yearly_rows(model)
    metrics = year_metrics(model)
    for key in REGISTRY.derived:
        if key in metrics:
            assert row[key] == metrics[key], key


def test_yearly_parquet_is_written_for_a_multi_year_run_and_aggregated(two_years, tmp_path):
    sweep = tmp_path / "sweep"
    paths = write_outputs(two_years, sweep / "run_a")
    record_run(sweep / "run_a", {"status": "ok"}, list(paths.values()))  # the run.json that marks a finished run
    one_year = BoroughModel(small_config("no_police", 20, 0))
    one_year.run_for(20)
    paths = write_outputs(one_year, sweep / "run_b")
    record_run(sweep / "run_b", {"status": "ok"}, list(paths.values()))
    assert "yearly" not in paths and not (sweep / "run_b" / "yearly.parquet").exists()
    yearly = pd.read_parquet(sweep / "run_a" / "yearly.parquet")
    assert len(yearly) == 3 and yearly["school_year"].tolist() == [1, 2, 3]
    assert yearly["crime_records"].sum() == json.loads((sweep / "run_a" / "metrics.json").read_text())["crime_records"]
    result = aggregate(sweep)
    assert result.yearly["run"].tolist() == ["run_a"] * 3
    assert result.yearly["scenario"].tolist() == ["hackney_pilot"] * 3
    paths = write_tables(result)
    table = pd.read_parquet(paths["yearly"])
    pd.testing.assert_series_equal(
        table["unnecessary_crime_records_per_1000"], yearly["unnecessary_crime_records_per_1000"]
    )


# --- stationarity: without a policy change, yearly rates stay level -------------------------------------------
def _yearly(scenario: str, years: int, seed: int, *overrides: str) -> list[dict]:
    config = compose_config([f"scenario={scenario}", f"days={years * YEAR}", f"seed={seed}", *overrides])
    model = BoroughModel(config)
    model.run_for(config.days)
    return yearly_rows(model)


def test_no_police_incidents_stay_level_over_two_school_years():
    rows = _yearly("no_police", 2, 0)
    assert rows[1]["incidents"] == pytest.approx(rows[0]["incidents"], rel=0.04)
    assert rows[1]["crime_records_per_1000"] == pytest.approx(rows[0]["crime_records_per_1000"], rel=0.25)


@pytest.mark.slow
def test_no_police_incidents_stay_level_over_four_school_years():
    rows = _yearly("no_police", 4, 1)
    for row in rows[1:]:
        assert row["incidents"] == pytest.approx(rows[0]["incidents"], rel=0.04)


@pytest.mark.slow
def test_hackney_records_do_not_compound_threefold_over_four_school_years():
    rows = _yearly("hackney_pilot", 4, 1)
    assert rows[3]["crime_records_per_1000"] < 3 * rows[0]["crime_records_per_1000"]


def test_a_fixed_population_keeps_the_same_children_in_the_same_places():
    model = BoroughModel(small_config("no_police", YEAR + 2, 0, "students.move_up_each_year=false"))
    pop = model.population
    before = (pop.year_group.copy(), pop.school.copy(), pop.route.copy())
    model.run_for(YEAR + 2)
    for a, b in zip(before, (pop.year_group, pop.school, pop.route), strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(model.school_year_flows) == 1  # no move was made
