"""The view's model and figures, without a browser (tests/test_view.py drives the page in chromium)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("solara")


def test_reset_builds_the_model_as_mesas_controller_does():
    from mesa.visualization.solara_viz import _build_model_init_kwargs

    from sim.viz.app import DEFAULTS, ViewModel

    model = ViewModel()
    assert model.runs[0].config.scenario.name == DEFAULTS["policing"]  # the selector shows what runs
    chosen = {"policing": "no_police", "compare_with": "(none)", "borough": "small", "rng": "7"}
    kwargs = _build_model_init_kwargs(model, chosen, add_scenario_when_empty=True, require_model_accepts_scenario=True)
    again = type(model)(**kwargs)
    assert again.runs[0].config.scenario.name == "no_police" and again.seed == 7
    # and BoroughModel itself takes what Mesa passes on Reset
    from sim.core.model import BoroughModel

    borough = BoroughModel(policing="no_police", borough="small", days=3, rng=0)
    kwargs = _build_model_init_kwargs(
        borough,
        {"policing": "embedded_officer", "borough": "small", "days": 3, "rng": "2"},
        add_scenario_when_empty=True,
        require_model_accepts_scenario=True,
    )
    reset = BoroughModel(**kwargs)
    assert reset.config.scenario.name == "embedded_officer" and reset.config.seed == 2


def test_paired_mode_steps_two_models_on_the_same_seed_and_their_difference_is_the_scenarios():
    from sim.viz.app import ViewModel, _values, difference_figure

    same = ViewModel(policing="hackney_pilot", compare_with="hackney_pilot", borough="small", rng=3, days=8)
    for _ in range(8):
        same.step()
    assert [run.day for run in same.runs] == [8, 8] and not same.running
    assert same.runs[0].metrics() == same.runs[1].metrics()  # paired draws: the same model twice agrees exactly
    for rate in same.rates:
        np.testing.assert_array_equal(_values(same.history[0], rate), _values(same.history[1], rate))
    pair = ViewModel(policing="no_police", compare_with="hackney_pilot", borough="small", rng=3, days=8)
    for _ in range(8):
        pair.step()
    assert pair.runs[0].config.seed == pair.runs[1].config.seed == 3
    contacts = "police_contacts_per_1000"
    assert pair.history[1][-1][contacts] > pair.history[0][-1][contacts]
    assert difference_figure(pair) is not None and difference_figure(ViewModel(days=2)) is None


def test_the_figures_show_the_registrys_rates_rris_and_contact_types():
    from sim.core.outcomes import REGISTRY, Kind
    from sim.viz.app import ViewModel, contacts_figure, headline_rates, map_figure, rates_figure, rri_key

    rates = headline_rates()
    assert rates == [m.key for m in REGISTRY.headline() if m.kind == Kind.RATE]
    assert rri_key("police_contacts_per_1000") == "rri_police_contacts"
    model = ViewModel(policing="hackney_pilot", borough="small", rng=0, days=5)
    for _ in range(5):
        model.step()
    figure = rates_figure(model)
    titles = [ax.get_title(loc="left") for ax in figure.axes if ax.get_visible()]
    assert len(titles) == len(rates)
    assert any("RRI" in t for t in titles)
    labels = [t.get_text() for t in contacts_figure(model).axes[0].get_yticklabels()]
    assert labels == [REGISTRY[t.name].short for t in REGISTRY.contact_types]
    borough_map = map_figure(model.runs[0])
    assert "patrolled" in borough_map.axes[0].get_title(loc="left")
    assert "today's incidents" in borough_map.axes[0].get_title(loc="left")
    assert "no Safer Corridors" in map_figure(ViewModel(policing="no_police", days=1).runs[0]).axes[0].get_title(
        loc="left"
    )


def test_scripts_view_serves_on_localhost_8765_by_default_and_takes_port():
    import subprocess
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "view"
    text = script.read_text()
    assert "port=8765" in text and "host=127.0.0.1" in text and "--no-check-version" in text
    assert "scripts/bootstrap" in text  # bootstraps .venv like scripts/main
    usage = subprocess.run(["bash", str(script), "--help"], capture_output=True, text=True, check=True)
    assert "--port" in usage.stdout
    wrong = subprocess.run(["bash", str(script), "--prot", "1"], capture_output=True, text=True, check=False)
    assert wrong.returncode == 2 and "--port" in wrong.stderr


def test_results_view_reads_a_sweep_folder_and_filters_by_scenario_and_outcome(tmp_path):
    from clihelpers import make_sweep_folder

    from sim.viz.results import ALL, filtered, open_sweep, report_html

    sweep = open_sweep(make_sweep_folder(tmp_path / "sweep"))
    assert sweep.scenarios == ["hackney_pilot", "no_police"]
    assert sweep.outcomes == ["crime_records_per_1000", "police_contacts_per_1000"]
    table = sweep.tables["summary.csv"]
    assert len(filtered(table)) == 4
    assert filtered(table, "no_police")["mean"].tolist() == [34.4, 9.4]
    assert filtered(table, ALL, "crime_records_per_1000")["scenario"].tolist() == ["no_police", "hackney_pilot"]
    assert filtered(table, "hackney_pilot", "police_contacts_per_1000")["mean"].tolist() == [612.0]
    page = report_html(sweep)
    assert page.count("data:image/png;base64,") == 1  # the figure inlined; a missing one dropped, nothing fetched
    assert "figures/" not in page and "<table" in page
    with pytest.raises(ValueError, match="no such folder"):
        open_sweep(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a sweep folder"):
        open_sweep(tmp_path / "empty")


def test_main_parameters_have_sliders_over_their_declared_ranges_and_reach_both_runs():
    from sim.viz.app import MAIN_PARAMETERS, PARAMETERS, ViewModel, model_params

    assert [k.replace("__", ".") for k in PARAMETERS] == list(MAIN_PARAMETERS)
    for keyword, declared in PARAMETERS.items():
        slider = model_params[keyword]
        assert (slider["min"], slider["max"]) == tuple(float(v) for v in declared.range)
        assert slider["value"] == declared.value
        positions = (slider["value"] - slider["min"]) / slider["step"]  # the slider snaps to its grid: the default
        assert positions == pytest.approx(round(positions), abs=1e-9)  # must lie on it, or the page changes it
        assert (slider["max"] - slider["min"]) / slider["step"] >= 50
    model = ViewModel(
        policing="no_police",
        compare_with="hackney_pilot",
        borough="small",
        rng=1,
        days=2,
        students__labelling_effect=0.5,
        scenario__mechanisms__points_budget__budget=40.0,
        police__over_policed_stop_weight=PARAMETERS["police__over_policed_stop_weight"].value,  # default: not passed
    )
    assert set(model.settings) == {"students__labelling_effect", "scenario__mechanisms__points_budget__budget"}
    assert all(run.config.students.labelling_effect == 0.5 for run in model.runs)
    assert model.runs[1].config.scenario.mechanisms["points_budget"]["budget"] == 40
    assert model.runs[0].notes and "points_budget" in model.runs[0].notes[0]  # shown on the page, not applied
