"""The incident catalogue, and the incidents that happen each day.

Each incident that happens draws its ground truth: whether a criminal-justice response is appropriate. A crime
record of an incident whose ground truth says "not appropriate" is an *unnecessary criminal recording* (DESIGN §3),
so unnecessary records are counted exactly, not estimated.

Occurrence uses one dense uniform per student per day and place (school, street), the same numbers in every
scenario: a student offends when the uniform falls below their rate, and the same uniform picks the type. So
scenarios differ in who offends only where policy has changed a student's risk.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np

from sim.borough import PRIMARY, SECONDARY
from sim.config import IncidentsConfig

if TYPE_CHECKING:
    from sim.model import BoroughModel

SCHOOL_YEAR_DAYS = 190  # Education (School Day and School Year) (England) Regulations 1999


class Location(IntEnum):
    """Where an incident came about (also a key of its random draws)."""

    SCHOOL = 0
    STREET = 1  # on the school run
    STOP = 2  # found by a corridor stop
    SWEEP = 3  # found by a points-funded weapon sweep


@dataclass(frozen=True)
class IncidentType:
    """One entry of the catalogue."""

    index: int
    name: str
    offending: bool
    severity: int
    cj_appropriate_probability: float
    recordable: bool
    indictable: bool
    serious: bool
    found_by_stop_weight: float


class Incident:
    """One incident: what happened, to whom, where, its ground truth, and what the system did about it."""

    __slots__ = (
        "cj_appropriate",
        "day",
        "known_to_police",
        "location",
        "model",
        "noticed",
        "recorded",
        "route",
        "school",
        "student",
        "type",
    )

    def __init__(
        self,
        model: BoroughModel,
        day: int,
        student: int,
        type_: IncidentType,
        location: Location,
        cj_appropriate: bool,
    ) -> None:
        self.model = model
        self.day = day
        self.student = student
        self.type = type_
        self.location = location
        self.cj_appropriate = cj_appropriate
        self.school = int(model.population.school[student])
        self.route = int(model.population.route[student])
        self.noticed = False  # by anyone: staff, an officer, a patrol, the public
        self.known_to_police = False
        self.recorded = False

    @property
    def severity(self) -> int:
        """Severity of the incident's type (1-5)."""
        return self.type.severity

    @property
    def over_policed(self) -> bool:
        """Whether the student involved is from an over-policed community."""
        return bool(self.model.population.over_policed[self.student])

    def draw(self, purpose: str) -> float:
        """A uniform draw for one decision about this incident, identical in every scenario that makes it."""
        return self.model.streams.uniform(purpose, self.day, self.student, int(self.location))

    def __repr__(self) -> str:
        return (
            f"Incident(day={self.day}, student={self.student}, type={self.type.name}, "
            f"location={self.location.name}, cj_appropriate={self.cj_appropriate})"
        )


class IncidentCatalogue:
    """The configured incident types with daily per-student rates by phase and place."""

    def __init__(self, cfg: IncidentsConfig) -> None:
        self.types = [
            IncidentType(
                index=i,
                name=name,
                offending=t.kind == "offending",
                severity=t.severity,
                cj_appropriate_probability=t.cj_appropriate_probability,
                recordable=t.recordable,
                indictable=t.indictable,
                serious=t.serious,
                found_by_stop_weight=t.found_by_stop_weight,
            )
            for i, (name, t) in enumerate(cfg.types.items())
        ]
        self.by_name = {t.name: t for t in self.types}
        types = list(cfg.types.values())
        per_day = 1.0 / (1000.0 * SCHOOL_YEAR_DAYS)
        # rate[location, phase, type]: incidents per student per school day
        self.rate = np.zeros((2, 2, len(types)))
        for k, t in enumerate(types):
            self.rate[0, PRIMARY, k] = t.rate_primary * per_day
            self.rate[0, SECONDARY, k] = t.rate_secondary * per_day
            self.rate[1, PRIMARY, k] = t.street_rate_primary * per_day
            self.rate[1, SECONDARY, k] = t.street_rate_secondary * per_day
        self.offending = np.array([t.offending for t in self.types])
        self.cj_probability = np.array([t.cj_appropriate_probability for t in self.types])
        self.staff_notice = tuple(cfg.staff_notice_by_severity)
        self.public_report = tuple(cfg.public_report_by_severity)
        weights = np.array([t.found_by_stop_weight for t in self.types])
        self.stop_find_cdf = np.cumsum(weights) / weights.sum() if weights.sum() > 0 else None
        self._totals_cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray | None]] = {}

    def type_found_by_stop(self, u: float) -> IncidentType | None:
        """The possession offence a stop finds, picked by the uniform ``u``; None if the catalogue has none."""
        if self.stop_find_cdf is None:
            return None
        return self.types[int(np.searchsorted(self.stop_find_cdf, u, side="right"))]

    def draw_day(
        self,
        model: BoroughModel,
        day: int,
        location: Location,
        risk: np.ndarray,
        need: np.ndarray,
        place_multiplier: np.ndarray | None = None,
    ) -> list[Incident]:
        """The incidents of one day in one place (school or street), with their ground truth.

        Args:
            model: the model (for the population and the random streams).
            day: the school day.
            location: SCHOOL or STREET.
            risk: every student's offending risk multiplier today.
            need: every student's wellbeing need.
            place_multiplier: per-student multiplier of the place's rates (route risk, patrol deterrence).
        """
        pop = model.population
        phase = pop.phase
        rate = self.rate[int(location)]
        offending_total, wellbeing_total = self._student_totals(pop, location)
        total = offending_total * risk
        if wellbeing_total is not None:
            total += wellbeing_total * need
        if place_multiplier is not None:
            total = total * place_multiplier
        u = model.streams.generator("incident_occurrence", day, int(location)).random(pop.n)
        who = np.flatnonzero(u < total)
        if len(who) == 0:
            return []
        # Pick the type with the same uniform: the cumulative per-type rates of each offending student.
        per_type = rate[phase[who]] * np.where(self.offending, risk[who, None], need[who, None])
        if place_multiplier is not None:
            per_type *= place_multiplier[who, None]
        cumulative = np.cumsum(per_type, axis=1)
        kind = (cumulative <= u[who, None]).sum(axis=1)
        kind = np.minimum(kind, len(self.types) - 1)
        truth = model.streams.uniforms("cj_appropriate", day, who, int(location)) < self.cj_probability[kind]
        types = self.types
        return [
            Incident(model, day, int(s), types[int(k)], location, bool(t))
            for s, k, t in zip(who.tolist(), kind.tolist(), truth.tolist(), strict=True)
        ]

    def _student_totals(self, pop, location: Location) -> tuple[np.ndarray, np.ndarray | None]:
        """Each student's total daily offending and wellbeing rates at a place (phase is fixed, so cached)."""
        key = (id(pop), int(location))
        cached = self._totals_cache.get(key)
        if cached is None:
            rate = self.rate[int(location)]
            offending = rate[:, self.offending].sum(axis=1)[pop.phase]
            wellbeing = rate[:, ~self.offending].sum(axis=1)[pop.phase]
            cached = (offending, wellbeing if wellbeing.any() else None)
            self._totals_cache[key] = cached
        return cached

    def make_incident(self, model: BoroughModel, day: int, student: int, type_: IncidentType, location: Location):
        """An incident found by police activity (a stop or a sweep), with its ground truth drawn."""
        truth = model.streams.uniform("cj_appropriate", day, student, int(location)) < type_.cj_appropriate_probability
        return Incident(model, day, student, type_, location, truth)
