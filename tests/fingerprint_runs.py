"""The fingerprint runs: a dozen scenarios x seeds x variants whose metrics must not change by accident.

``python tests/fingerprint_runs.py`` rewrites ``tests/data/fingerprints.json`` (do that only for a change that is
meant to change results, and say which and why in the commit); ``tests/test_fingerprint.py`` checks it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "fingerprints.json"

# name -> Hydra overrides. Small borough for a whole school year, plus the default borough and the variants whose
# code paths differ (multi-year, the route-selection rules, support funding).
RUNS: dict[str, list[str]] = {
    **{
        f"{s}_small_seed{seed}": [f"scenario={s}", "borough=small", f"seed={seed}"]
        for s in ("no_police", "embedded_officer", "hackney_pilot", "supportive_policing")
        for seed in (0, 1)
    },
    "hackney_default_seed0": ["scenario=hackney_pilot", "seed=0", "days=60"],
    "embedded_default_seed0": ["scenario=embedded_officer", "seed=0", "days=60"],
    "hackney_small_two_years": ["scenario=hackney_pilot", "borough=small", "seed=2", "days=380"],
    "hackney_small_exposure_corrected": [
        "scenario=hackney_pilot",
        "borough=small",
        "seed=3",
        "scenario.mechanisms.safer_corridors.route_selection=exposure_corrected",
    ],
    "hackney_small_true_risk": [
        "scenario=hackney_pilot",
        "borough=small",
        "seed=4",
        "days=90",
        "scenario.mechanisms.safer_corridors.route_selection=true_risk",
    ],
    "embedded_small_funding_x2": [
        "scenario=embedded_officer",
        "borough=small",
        "seed=5",
        "borough.support_funding_multiplier=2",
    ],
}


def run_all() -> dict[str, dict]:
    """Run every fingerprint run; name -> metrics."""
    from sim.core.compose import compose_config
    from sim.core.model import BoroughModel

    out = {}
    for name, overrides in RUNS.items():
        cfg = compose_config(overrides)
        model = BoroughModel(cfg)
        model.run_for(cfg.days)
        out[name] = model.metrics()
    return out


if __name__ == "__main__":
    import logging

    logging.getLogger("MESA").setLevel(logging.WARNING)
    DATA.parent.mkdir(exist_ok=True)
    DATA.write_text(json.dumps(run_all(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {DATA}", file=sys.stderr)
