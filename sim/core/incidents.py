"""The incident catalogue, and the incidents that happen each day.

Each incident that happens draws its ground truth: whether a criminal-justice response is appropriate. A crime
record of an incident whose ground truth says "not appropriate" is an *unnecessary criminal recording*,
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

from sim.core.borough import PRIMARY, SECONDARY
from sim.core.config import IncidentsConfig

if TYPE_CHECKING:
    from sim.core.model import BoroughModel
    from sim.core.population import StudentPopulation
    from sim.core.streams import RandomStreams

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
    harms_victim: bool = False  # a serious incident that injures a victim (serious_harm_incidents)


class DayDraws:
    """The keyed draws of one day's incidents at one place, computed for all of them at once.

    A keyed draw is a pure function of ``(seed, purpose, day, student, location)``, so drawing it for every
    incident of the day in one vectorised call gives exactly the numbers that one call per incident would
    (``RandomStreams.uniforms`` equals ``RandomStreams.uniform`` element by element), at a fraction of the cost.
    The purposes the rules have asked for so far in the run (``purposes``, shared between days) are drawn together
    the first time a rule asks for one of them that day.
    """

    __slots__ = ("_values", "day", "location", "purposes", "streams", "students")

    def __init__(
        self,
        streams: RandomStreams,
        day: int,
        location: Location,
        students: np.ndarray,
        purposes: dict[str, None] | None = None,
    ) -> None:
        self.streams = streams
        self.day = day
        self.location = int(location)
        self.students = students
        self.purposes = {} if purposes is None else purposes
        self._values: dict[str, list[float]] = {}

    def get(self, purpose: str, position: int) -> float:
        """The draw for ``purpose`` of the incident at ``position`` in the day's list."""
        values = self._values.get(purpose)
        if values is None:
            values = self.values(purpose)
        return values[position]

    def values(self, purpose: str) -> list[float]:
        """The draws for ``purpose`` of all the day's incidents at this place, in order."""
        values = self._values.get(purpose)
        if values is None:
            self.purposes[purpose] = None
            wanted = [p for p in self.purposes if p not in self._values]
            rows = self.streams.uniforms_for(wanted, self.day, self.students, self.location).tolist()
            self._values.update(zip(wanted, rows, strict=True))
            values = self._values[purpose]
        return values


class Incident:
    """One incident: what happened, to whom, where, its ground truth, and what the system did about it.

    ``school``, ``route`` and ``over_policed`` are the student's (fixed within a school year); the catalogue passes
    them in when it makes a day's incidents at once, otherwise they are read from the population.
    """

    __slots__ = (
        "_draws",
        "_position",
        "cj_appropriate",
        "day",
        "harm_averted",
        "known_to_police",
        "location",
        "model",
        "noticed",
        "over_policed",
        "recorded",
        "route",
        "school",
        "severity",
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
        *,
        school: int | None = None,
        route: int | None = None,
        over_policed: bool | None = None,
        draws: DayDraws | None = None,
        position: int = 0,
    ) -> None:
        self.model = model
        self.day = day
        self.student = student
        self.type = type_
        self.severity = type_.severity  # severity of the incident's type (1-5)
        self.location = location
        self.cj_appropriate = cj_appropriate
        pop = model.population
        self.school = int(pop.school[student]) if school is None else school
        self.route = int(pop.route[student]) if route is None else route
        # whether the student involved is from an over-policed community
        self.over_policed = bool(pop.over_policed[student]) if over_policed is None else over_policed
        self.noticed = False  # by anyone: staff, an officer, a patrol, the public
        self.known_to_police = False
        self.recorded = False
        self.harm_averted = False  # a timely response averted (or reduced below serious) the harm to a victim
        self._draws = draws
        self._position = position

    def draw(self, purpose: str) -> float:
        """A uniform draw for one decision about this incident, identical in every scenario that makes it."""
        draws = self._draws
        if draws is None:
            return self.model.streams.uniform(purpose, self.day, self.student, int(self.location))
        values = draws._values.get(purpose)  # DayDraws.get, written out: this runs for every decision
        if values is None:
            values = draws.values(purpose)
        return values[self._position]

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
                harms_victim=t.harms_victim,
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
        # the possession offences a search can find (the items a pupil can carry: sim/core/possession.py)
        self.possession = np.array([t.found_by_stop_weight > 0 for t in self.types])
        self._uniforms: dict[int, tuple[int, np.ndarray]] = {}  # place -> (day, that day's occurrence uniforms)
        self._totals_cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray | None]] = {}
        # per place, the purposes of the keyed draws the rules have made about incidents there (see DayDraws)
        self._purposes: dict[int, dict[str, None]] = {int(place): {} for place in Location}

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
            total *= place_multiplier
        u = self.occurrence_uniforms(model, day, location)
        who = np.flatnonzero(u < total)
        if len(who) == 0:
            return []
        # Pick the type with the same uniform: the first type at which the student's per-type rates, added up in
        # catalogue order, exceed it.
        types = self.types
        per_type = rate[phase[who]] * np.where(self.offending, risk[who, None], need[who, None])
        if place_multiplier is not None:
            per_type *= place_multiplier[who, None]
        cumulative = np.cumsum(per_type, axis=1)
        kind = (cumulative <= u[who, None]).sum(axis=1)
        kind = np.minimum(kind, len(types) - 1)
        return self._incidents(model, day, location, who, [types[k] for k in kind.tolist()])

    def student_rates(
        self,
        model: BoroughModel,
        day: int,
        location: Location,
        students: np.ndarray,
        risk: np.ndarray,
        need: np.ndarray,
        place_multiplier: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What :meth:`draw_day` works out for some students: their uniforms, total and per-type daily rates.

        The same arithmetic, element by element, as :meth:`draw_day`, so that a student's incident today at this
        place is of type k exactly when ``per_type[:, :k].sum() <= u < per_type[:, :k + 1].sum()`` and
        ``u < total`` (a rule can know before the day's incidents are drawn what a student will do).

        Args:
            model: the model (for the population and the random streams).
            day: the school day.
            location: SCHOOL or STREET.
            students: the students (indices).
            risk: every student's offending risk multiplier today (as given to :meth:`draw_day`).
            need: every student's wellbeing need (as given to :meth:`draw_day`).
            place_multiplier: these students' multipliers of the place's rates (as :meth:`draw_day`'s, indexed).
        """
        pop = model.population
        offending_total, wellbeing_total = self._student_totals(pop, location)
        total = offending_total[students] * risk[students]
        if wellbeing_total is not None:
            total += wellbeing_total[students] * need[students]
        per_type = self.rate[int(location)][pop.phase[students]] * np.where(
            self.offending, risk[students, None], need[students, None]
        )
        if place_multiplier is not None:
            total *= place_multiplier
            per_type *= place_multiplier[:, None]
        u = self.occurrence_uniforms(model, day, location)[students]
        return u, total, per_type

    def _student_totals(self, pop: StudentPopulation, location: Location) -> tuple[np.ndarray, np.ndarray | None]:
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

    def occurrence_uniforms(self, model: BoroughModel, day: int, location: Location) -> np.ndarray:
        """The day's occurrence uniforms at a place, one per student (stream ``incident_occurrence``; read-only).

        Kept per place for the last day asked for, so that a rule that needs them before the day's incidents are
        drawn (a stop finding what a pupil carries, sim/core/possession.py) sees the same numbers.
        """
        kept = self._uniforms.get(int(location))
        if kept is not None and kept[0] == day:
            return kept[1]
        u = model.streams.generator("incident_occurrence", day, int(location)).random(model.population.n)
        u.flags.writeable = False
        self._uniforms[int(location)] = (day, u)
        return u

    def make_incidents(
        self,
        model: BoroughModel,
        day: int,
        students: np.ndarray,
        types: list[IncidentType],
        location: Location,
    ) -> list[Incident]:
        """Incidents found by police activity (stops, sweeps), with their ground truth drawn."""
        return self._incidents(model, day, location, np.asarray(students, dtype=np.int64), types)

    def _incidents(
        self, model: BoroughModel, day: int, location: Location, students: np.ndarray, types: list[IncidentType]
    ) -> list[Incident]:
        """Incidents of one day at one place, with their ground truth.

        The ground truth is one of the incidents' keyed draws, drawn together with those the rules will ask for
        (see :class:`DayDraws`).
        """
        pop = model.population
        draws = DayDraws(model.streams, day, location, students, self._purposes[int(location)])
        columns = zip(
            students.tolist(),
            types,
            draws.values("cj_appropriate"),
            pop.school[students].tolist(),
            pop.route[students].tolist(),
            pop.over_policed[students].tolist(),
            strict=True,
        )
        return [
            Incident(
                model,
                day,
                s,
                t,
                location,
                u < t.cj_appropriate_probability,
                school=school,
                route=route,
                over_policed=op,
                draws=draws,
                position=i,
            )
            for i, (s, t, u, school, route, op) in enumerate(columns)
        ]
