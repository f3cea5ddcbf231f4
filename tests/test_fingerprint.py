"""Results do not change by accident: a dozen runs' metrics equal, to the last bit, those stored in
``tests/data/fingerprints.json`` (written by ``python tests/fingerprint_runs.py``).

A refactor must leave them alone. A change meant to change results rewrites the file in the same commit and says
which runs and metrics moved and why.
"""

from __future__ import annotations

import json

import pytest
from fingerprint_runs import DATA, RUNS, run_all


@pytest.fixture(scope="module")
def now():
    return run_all()


def test_every_run_is_stored():
    assert set(json.loads(DATA.read_text())) == set(RUNS)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_metrics_unchanged(name, now):
    stored = json.loads(DATA.read_text())[name]
    got = now[name]
    missing = sorted(set(stored) - set(got))
    assert not missing, f"{name}: metrics no longer reported: {missing}"
    changed = {k: (stored[k], got[k]) for k in stored if stored[k] != got[k]}
    assert not changed, f"{name}: metrics changed (stored, now): {changed}"
