"""The borough: schools, wards (neighbourhoods) and routes between wards and schools.

Wards sit on a ring; a school draws its pupils from its own ward and the nearest ones (``catchment_wards``).
A *route* is one (home ward, school) pair: the school run that Safer Corridors patrols. Each route has a true
rate of street incidents, which the police never see directly: they see only what gets recorded there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.config import BoroughConfig
from sim.core.streams import RandomStreams

PRIMARY = 0
SECONDARY = 1
PHASE_NAMES = ("primary", "secondary")


@dataclass(frozen=True)
class Borough:
    """Static geography of a borough, as arrays indexed by school, ward and route."""

    name: str
    school_phase: np.ndarray  # PRIMARY or SECONDARY
    school_pupils: np.ndarray
    school_ward: np.ndarray
    ward_over_policed: np.ndarray  # bool: a ward with a high policing intensity
    route_ward: np.ndarray
    route_school: np.ndarray
    route_risk: np.ndarray  # true relative street-incident risk, mean 1
    catchment: np.ndarray  # (schools, catchment_wards) ward ids, own ward first

    @property
    def n_schools(self) -> int:
        """Number of schools."""
        return len(self.school_phase)

    @property
    def n_wards(self) -> int:
        """Number of wards."""
        return len(self.ward_over_policed)

    @property
    def n_routes(self) -> int:
        """Number of routes (home ward, school)."""
        return len(self.route_ward)

    def route_index(self, ward: np.ndarray, school: np.ndarray) -> np.ndarray:
        """Route ids for arrays of (home ward, school) pairs."""
        return self._route_lookup[school, ward]

    @property
    def _route_lookup(self) -> np.ndarray:
        lookup = np.full((self.n_schools, self.n_wards), -1, dtype=np.int64)
        lookup[self.route_school, self.route_ward] = np.arange(self.n_routes)
        return lookup


def build_borough(cfg: BoroughConfig, streams: RandomStreams) -> Borough:
    """Draw a borough from its configuration (the ``borough`` stream only, so it is the same in every scenario)."""
    rng = streams.generator("borough")
    n_primary, n_secondary = cfg.primary_schools, cfg.secondary_schools
    phase = np.concatenate([np.full(n_primary, PRIMARY), np.full(n_secondary, SECONDARY)]).astype(np.int8)
    mean_size = np.where(phase == PRIMARY, cfg.primary_pupils_mean, cfg.secondary_pupils_mean)
    if cfg.school_size_cv > 0:
        sigma = np.sqrt(np.log1p(cfg.school_size_cv**2))
        size = mean_size * rng.lognormal(-(sigma**2) / 2, sigma, size=len(phase))
    else:
        size = mean_size.astype(float)
    pupils = np.maximum(np.rint(size), 10).astype(np.int64)

    n_wards = cfg.wards
    n_over = round(cfg.over_policed_ward_share * n_wards)
    ward_over_policed = np.zeros(n_wards, dtype=bool)
    ward_over_policed[rng.choice(n_wards, size=n_over, replace=False)] = True
    school_ward = rng.integers(0, n_wards, size=len(phase))

    offsets = _ring_offsets(cfg.catchment_wards)
    catchment = (school_ward[:, None] + offsets[None, :]) % n_wards
    route_school = np.repeat(np.arange(len(phase)), cfg.catchment_wards)
    route_ward = catchment.ravel()
    sigma = cfg.route_risk_sigma
    route_risk = rng.lognormal(-(sigma**2) / 2, sigma, size=len(route_ward)) if sigma > 0 else np.ones(len(route_ward))
    return Borough(
        name=cfg.name,
        school_phase=phase,
        school_pupils=pupils,
        school_ward=school_ward,
        ward_over_policed=ward_over_policed,
        route_ward=route_ward,
        route_school=route_school,
        route_risk=route_risk,
        catchment=catchment,
    )


def _ring_offsets(k: int) -> np.ndarray:
    """0, +1, -1, +2, -2, ...: the own ward first, then neighbours alternately on each side."""
    out = [0]
    step = 1
    while len(out) < k:
        out.append(step)
        if len(out) < k:
            out.append(-step)
        step += 1
    return np.array(out, dtype=np.int64)
