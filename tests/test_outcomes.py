"""The outcome registry: every outcome declared once, and everything else derived from the declarations."""

from __future__ import annotations

import numpy as np
import pytest
from simhelpers import run_small

from sim.core.configure import load_built_in_mechanisms
from sim.core.mechanism import Mechanism, Policing
from sim.core.metrics import RUN_LABELS, running_reporters
from sim.core.outcomes import REGISTRY, Kind, OutcomeRegistry, Totals, ratio
from sim.evidence.outcomes import metric_rows, stale

load_built_in_mechanisms()


def test_readme_and_odd_tables_are_current():
    assert not stale(), "run `python -m sim.outcomes`"


def test_every_key_of_a_run_is_declared_and_every_declared_key_is_reported():
    metrics = run_small("hackney_pilot", 10, 1).metrics()
    assert set(metrics) == set(RUN_LABELS) | set(REGISTRY.metrics)


def test_the_readme_table_lists_every_key_once():
    keys = [k for row in metric_rows() for k in row.keys]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(RUN_LABELS) | set(REGISTRY.metrics)


def test_every_declaration_says_what_it_is():
    for m in REGISTRY:
        assert m.label and m.unit and m.meaning.endswith("."), m.key
        assert m.owner == "core" or m.owner in load_built_in_mechanisms(), m


def test_counted_outcome_rates_and_rri_are_the_documented_formulas():
    registry = OutcomeRegistry()
    records = registry.counted("records", label="Records", meaning="m.", unit="r", per_1000=True, group_rates=True,
                               rri=True)  # fmt: skip
    counts = np.zeros((1, 2))
    counts[records] = [6.0, 9.0]  # 6 among 600 other students, 9 among 300 from over-policed communities
    t = Totals(counts, students=900, students_by_group=(600, 300), scale=190 / 95)  # half a school year run
    value = {k: f(t) for k, f in registry.derived.items()}
    assert value["records"] == 15
    assert value["records_per_1000"] == pytest.approx(15 / 900 * 1000 * 2)
    assert value["records_per_1000_over_policed"] == pytest.approx(9 / 300 * 1000 * 2)
    assert value["records_per_1000_not_over_policed"] == pytest.approx(6 / 600 * 1000 * 2)
    assert value["rri_records"] == pytest.approx((9 / 300) / (6 / 600))
    assert {k: m.kind for k, m in registry.metrics.items()}["rri_records"] is Kind.RRI


def test_ratios_over_zero_are_null():
    assert ratio(1.0, 0.0) is None and ratio(None, 2.0) is None and ratio(1.0, 4.0) == 0.25
    registry = OutcomeRegistry()
    a = registry.counted("a", label="A", meaning="m.", unit="u", rri=True)
    b = registry.counted("b", label="B", meaning="m.", unit="u")
    registry.share("a_share", a, b, label="S", meaning="m.")
    t = Totals(np.array([[1.0, 1.0], [0.0, 0.0]]), students=10, students_by_group=(10, 0), scale=1.0)
    assert registry.derived["a_share"](t) is None
    assert registry.derived["rri_a"](t) is None  # no student in one group: no rate, no index


def test_an_outcome_cannot_be_declared_twice():
    registry = OutcomeRegistry()
    registry.counted("x", label="X", meaning="m.", unit="u")
    with pytest.raises(ValueError, match="declared twice"):
        registry.computed("x", kind=Kind.VALUE, unit="u", label="X", meaning="m.")


def test_a_mechanism_may_report_only_what_it_declared():
    class Boasting(Mechanism):
        name = "boasting"

        def metrics(self):
            return {"lives_saved": 1000}

    model = run_small("no_police", 2, 0)
    with pytest.raises(ValueError, match="lives_saved"):
        Policing(model, [Boasting(model, Boasting.Params())]).metrics()


def test_the_datacollector_reports_every_headline_rate_and_rri_as_the_year_metrics_do():
    model = run_small("embedded_officer", 20, 2)
    frame = model.datacollector.get_model_vars_dataframe()
    metrics = model.metrics()
    for m in REGISTRY.headline():
        assert m.key in running_reporters(), m.key
        assert frame[m.key].iloc[-1] == pytest.approx(metrics[m.key], nan_ok=True), m.key
