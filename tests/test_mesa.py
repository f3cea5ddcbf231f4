"""Mesa 3.5 compatibility: batch_run, stepping, running flag, DataCollector, garbage collection."""

from __future__ import annotations

import gc
import weakref

import mesa
import pytest
from simhelpers import small_config

from sim.core.model import BoroughModel

REPORTERS = [
    "day",
    "incidents",
    "serious_incidents",
    "police_contacts",
    "crime_records",
    "unnecessary_crime_records",
    "exclusions",
    "unmet_youth_work_referrals",
]


def test_batch_run_works_with_keyword_parameters():
    rows = mesa.batch_run(
        BoroughModel,
        parameters={"policing": ["no_police", "hackney_pilot"], "borough": "small", "days": 30},
        rng=[0],
        max_steps=30,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 2
    assert {r["policing"] for r in rows} == {"no_police", "hackney_pilot"}
    for row in rows:
        for key in REPORTERS:
            assert key in row, key
        assert row["day"] == 30
        assert row["Step"] == 30
        assert row["incidents"] > 0
    # The Hackney pilot adds patrol stops and points activities to the emergencies both models answer.
    by = {r["policing"]: r for r in rows}
    assert by["hackney_pilot"]["police_contacts"] > by["no_police"]["police_contacts"]


def test_batch_run_with_every_step_reports_one_row_per_step():
    rows = mesa.batch_run(
        BoroughModel,
        parameters={"policing": "embedded_officer", "borough": "small", "days": 4},
        rng=[1],
        max_steps=10,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    days = [r["day"] for r in rows]
    assert days == [1, 2, 3, 4]
    assert [r["incidents"] for r in rows] == sorted(r["incidents"] for r in rows)  # running totals


def test_batch_run_keyword_settings_reach_the_config():
    rows = mesa.batch_run(
        BoroughModel,
        parameters={
            "policing": "hackney_pilot",
            "borough": "small",
            "days": 3,
            "scenario__mechanisms__points_budget__budget": [0],
        },
        rng=[0],
        max_steps=3,
        number_processes=1,
        display_progress=False,
    )
    assert rows[0]["scenario__mechanisms__points_budget__budget"] == 0


def test_run_for_advances_the_day_and_running_turns_false_after_days():
    model = BoroughModel(small_config("no_police", 6, 0))
    assert model.running and model.day == 0
    model.run_for(2)
    assert model.day == 2 and model.running
    model.run_for(3)
    assert model.day == 5 and model.running
    model.step()
    assert model.day == 6
    assert model.running is False
    model.step()  # a step past the end changes nothing
    assert model.day == 6
    assert len(model.datacollector.get_model_vars_dataframe()) == 6


def test_datacollector_has_one_row_per_step_with_running_totals():
    model = BoroughModel(small_config("hackney_pilot", 8, 3))
    model.run_for(8)
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 8
    assert set(REPORTERS) <= set(frame.columns)
    assert frame["day"].tolist() == list(range(1, 9))
    for col in REPORTERS[1:]:
        assert frame[col].is_monotonic_increasing, col
    m = model.metrics()
    last = frame.iloc[-1]
    for col in ("incidents", "serious_incidents", "police_contacts", "crime_records", "unnecessary_crime_records"):
        assert last[col] == m[col], col


def test_keyword_and_config_construction_agree():
    a = BoroughModel(policing="embedded_officer", borough="small", days=7, rng=5, students__labelling_effect=0.5)
    b = BoroughModel(small_config("embedded_officer", 7, 5, "students.labelling_effect=0.5"))
    assert a.config == b.config
    with pytest.raises(TypeError):
        BoroughModel(b.config, policing="no_police")


def test_agents_are_registered_with_mesa():
    model = BoroughModel(small_config("embedded_officer", 3, 0))
    kinds = {type(a).__name__ for a in model.agents}
    assert {"School", "Teacher", "YouthWorker", "Officer"} <= kinds
    assert len(model.agents_by_type[type(model.schools[0])]) == model.borough.n_schools


@pytest.mark.parametrize("scenario", ["embedded_officer", "hackney_pilot"])
def test_model_is_garbage_collectable(scenario):
    model = BoroughModel(small_config(scenario, 5, 0))
    model.run_for(5)
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None, "BoroughModel is kept alive after del + gc.collect()"


def test_mesas_unpaired_generators_are_refused_with_a_pointer_to_the_paired_draws():
    model = BoroughModel(policing="embedded_officer", borough="small", days=2, rng=1)
    teacher = model.teachers[0]
    for use in (
        lambda: model.random.random(),
        lambda: teacher.random.choice([1, 2, 3]),
        lambda: model.agents.shuffle(),
        lambda: model.rng.random(),
        lambda: teacher.rng.integers(5),
    ):
        with pytest.raises(RuntimeError, match=r"incident\.draw\(purpose\)"):
            use()
    model.run_for(2)  # the model itself never uses them
    assert model.day == 2
