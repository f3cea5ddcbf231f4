"""Shared fixtures: small boroughs, few days, runs shared across a session."""

from __future__ import annotations

import logging

import pytest
from simhelpers import SCENARIOS, small_config

from sim.core.model import BoroughModel


@pytest.fixture(autouse=True, scope="session")
def _quiet_mesa():
    logging.getLogger("MESA").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def configs():
    """A validated 30-day small-borough config per scenario (seed 0); build models from these, do not mutate."""
    return {s: small_config(s, 30, 0) for s in SCENARIOS}


@pytest.fixture(scope="session")
def small_runs(configs):
    """Each scenario run for 30 days on the small borough with seed 0 (shared: do not mutate)."""
    runs = {}
    for s, cfg in configs.items():
        model = BoroughModel(cfg)
        model.run_for(cfg.days)
        runs[s] = model
    return runs
