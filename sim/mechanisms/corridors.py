"""Safer Corridors: intelligence about routes, and the rules that choose which routes to patrol.

Routes are chosen from *recorded* incidents, and records arise where patrols go: a feedback loop that can run away
from the true pattern of risk (Ensign et al. 2018, "Runaway Feedback Loops in Predictive Policing"). The rules:

* ``proportional``: patrol routes with probability proportional to records (the urn model of Ensign et al.);
* ``top_k``: patrol the routes with the most records (greedy hot spots);
* ``exposure_corrected``: the correction Ensign et al. propose, discounting what patrols find in proportion to how
  often a route is patrolled: routes are sampled by their posterior rate of finds *per patrol*, not by raw counts;
* ``uniform``: every route equally (no intelligence);
* ``true_risk``: proportional to the true incident rate (an oracle, as a reference).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

RouteSelection = Literal["proportional", "top_k", "exposure_corrected", "uniform", "true_risk"]


class RouteIntelligence:
    """Recorded street crime by route, and patrol exposure.

    Args:
        n_routes: number of routes.
        prior_records: historic records per route at the start (biased where policing was heavier).
    """

    def __init__(self, n_routes: int, prior_records: np.ndarray) -> None:
        self.records = prior_records.astype(float).copy()
        self.patrol_finds = np.zeros(n_routes)
        self.patrol_days = np.zeros(n_routes)

    def add_record(self, route: int, by_patrol: bool) -> None:
        """A crime recorded on this route (from a patrol, or reported by the public)."""
        self.records[route] += 1
        if by_patrol:
            self.patrol_finds[route] += 1

    def select(self, rule: RouteSelection, k: int, rng: np.random.Generator, true_rate: np.ndarray) -> np.ndarray:
        """Choose ``k`` distinct routes to patrol today; returns a boolean mask over routes."""
        n = len(self.records)
        k = min(k, n)
        chosen = np.zeros(n, dtype=bool)
        if k == 0:
            return chosen
        if rule == "top_k":
            # ties broken at random so equal routes share patrols
            idx = np.lexsort((rng.random(n), -self.records))[:k]
        elif rule == "proportional":
            idx = weighted_sample(self.records + 1e-9, k, rng)
        elif rule == "exposure_corrected":
            # Gamma posterior of finds per patrol-day, prior centred on the borough-wide mean.
            mean_rate = (self.patrol_finds.sum() + 1.0) / (self.patrol_days.sum() + 1.0)
            shape = self.patrol_finds + 1.0
            rate = self.patrol_days + 1.0 / mean_rate
            idx = weighted_sample(shape / rate, k, rng)
        elif rule == "uniform":
            idx = rng.choice(n, size=k, replace=False)
        elif rule == "true_risk":
            idx = weighted_sample(true_rate + 1e-12, k, rng)
        else:  # pragma: no cover - validated by the config schema
            raise ValueError(f"unknown route selection rule {rule!r}")
        chosen[idx] = True
        self.patrol_days[chosen] += 1
        return chosen


def weighted_sample(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """K distinct indices drawn without replacement, each draw proportional to weight (Efraimidis-Spirakis keys)."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    keys = np.log(rng.random(len(weights)))
    keys /= weights
    np.negative(keys, out=keys)
    return keys.argpartition(k - 1)[:k]


def total_variation(a: np.ndarray, b: np.ndarray) -> float | None:
    """Total-variation distance between two distributions given as non-negative weights (0 same, 1 disjoint)."""
    if a.sum() <= 0 or b.sum() <= 0:
        return None
    return float(0.5 * np.abs(a / a.sum() - b / b.sum()).sum())
