"""The one t-interval (sim.analysis.stats.mean_ci), used by the summary tables, validation and the time-series bands."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.plots import _t_band
from sim.analysis.stats import mean_ci

T_0975_3 = 3.1824463  # t(0.975, 3 degrees of freedom), from statistical tables


def test_hand_worked_example():
    # [1, 2, 3, 4]: mean 2.5, sd sqrt(5/3), half-width t(0.975, 3) * sd / sqrt(4)
    half = T_0975_3 * math.sqrt(5 / 3) / 2
    assert half == pytest.approx(2.054, abs=5e-4)
    n, mean, sd, low, high = mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    assert n == 4
    assert mean == 2.5
    assert sd == pytest.approx(math.sqrt(5 / 3))
    assert low == pytest.approx(2.5 - half, rel=1e-7)
    assert high == pytest.approx(2.5 + half, rel=1e-7)


def test_other_confidence_levels():
    # t(0.95, 3) = 2.353363
    _n, _mean, _sd, low, high = mean_ci(np.array([1.0, 2.0, 3.0, 4.0]), confidence=0.90)
    assert (high - low) / 2 == pytest.approx(2.353363 * math.sqrt(5 / 3) / 2, rel=1e-6)


def test_no_values():
    n, mean, sd, low, high = mean_ci(np.array([]))
    assert n == 0
    assert all(math.isnan(v) for v in (mean, sd, low, high))


def test_one_value_has_a_mean_but_no_interval():
    n, mean, sd, low, high = mean_ci(np.array([7.0]))
    assert (n, mean) == (1, 7.0)
    assert all(math.isnan(v) for v in (sd, low, high))


def test_no_variation_gives_a_zero_width_interval():
    assert mean_ci(np.array([3.0, 3.0, 3.0])) == (3, 3.0, 0.0, 3.0, 3.0)


def test_non_finite_values_are_dropped():
    assert mean_ci(np.array([1.0, np.nan, 2.0, np.inf, 3.0, 4.0])) == mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))


def test_time_series_band_is_the_same_interval():
    band = _t_band(pd.Series([1.0, 2.0, 3.0, 4.0]))
    _n, mean, _sd, low, high = mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    assert (band["mean"], band["low"], band["high"]) == (mean, low, high)
    one = _t_band(pd.Series([5.0]))
    assert one["mean"] == 5.0 and math.isnan(one["low"]) and math.isnan(one["high"])
    assert math.isnan(_t_band(pd.Series([], dtype=float))["mean"])
