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


# --- Mesa clients without glue (issue 14, item 5) ---------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:The `iterations` keyword:DeprecationWarning")
def test_batch_run_iterations_gives_distinct_replicates_with_their_seeds_recorded():
    import numpy as np

    rows = mesa.batch_run(
        BoroughModel,
        parameters={"policing": "no_police", "borough": "small", "days": 2},
        iterations=3,  # Mesa's documented form: rng=[None] * 3
        max_steps=2,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 3
    model = BoroughModel(policing="no_police", borough="small", days=1)
    other = BoroughModel(policing="no_police", borough="small", days=1)
    assert model.config.seed != other.config.seed  # fresh entropy ...
    model.run_for(1)
    assert model.metrics()["seed"] == model.config.seed  # ... recorded in the metrics, so a run can be repeated
    again = BoroughModel(policing="no_police", borough="small", days=1, rng=model.config.seed)
    again.run_for(1)
    assert again.metrics() == model.metrics()
    assert isinstance(np.int64(model.config.seed).item(), int)


def test_keyword_values_of_python_and_numpy_types_are_passed_exactly():
    import numpy as np

    a = BoroughModel(
        policing=np.str_("embedded_officer"),
        borough="small",
        days=np.int64(4),
        rng=np.uint32(5),
        students__labelling_effect=np.float32(0.5),
    )
    b = BoroughModel(small_config("embedded_officer", 4, 5, "students.labelling_effect=0.5"))
    assert a.config == b.config
    # a list with numpy scalars, a class by its import path
    from sim.core.agents import Officer

    c = BoroughModel(policing="hackney_pilot", borough="small", days=2, rng=0, agents__officer=Officer)
    assert c.config.agents.officer == "sim.core.agents.Officer"


def test_keyword_errors_name_the_keyword():
    from sim.core.config import ConfigError

    with pytest.raises(ConfigError, match="students__labelling_effect"):
        BoroughModel(policing="no_police", borough="small", days=2, students__labelling_effect="a lot")
    with pytest.raises(ConfigError, match="students__no_such_setting"):
        BoroughModel(policing="no_police", borough="small", days=2, students__no_such_setting=1)
    with pytest.raises(TypeError, match="students__labelling_effect"):
        BoroughModel(policing="no_police", borough="small", days=2, students__labelling_effect=lambda: 1)


def test_scenario_specific_parameters_sweep_across_scenarios_with_a_note_where_they_do_not_apply():
    with pytest.warns(UserWarning, match="points_budget"):
        rows = mesa.batch_run(
            BoroughModel,
            parameters={
                "policing": ["no_police", "hackney_pilot"],
                "borough": "small",
                "days": 2,
                "scenario__mechanisms__points_budget__budget": [0, 40],
            },
            rng=[0],
            max_steps=2,
            number_processes=1,
            display_progress=False,
        )
    assert len(rows) == 4
    model = BoroughModel(
        policing="no_police", borough="small", days=2, rng=0, scenario__mechanisms__points_budget__budget=40
    )
    assert model.notes and "ignored" in model.notes[0]
    applied = BoroughModel(
        policing="hackney_pilot", borough="small", days=2, rng=0, scenario__mechanisms__points_budget__budget=40
    )
    assert applied.notes == []
    assert applied.config.scenario.mechanisms["points_budget"]["budget"] == 40


def test_mesas_scenario_argument_is_accepted_as_solaraviz_passes_it_on_reset():
    from mesa.experimental.scenarios import Scenario

    model = BoroughModel(policing="no_police", borough="small", days=2, rng=4, scenario=Scenario())
    assert model.config.scenario.name == "no_police" and model.config.seed == 4
    seeded = BoroughModel(policing="no_police", borough="small", days=2, scenario=Scenario(rng=9))
    assert seeded.config.seed == 9
    assert BoroughModel(scenario="no_police", borough="small", days=1, rng=0).config.scenario.name == "no_police"
