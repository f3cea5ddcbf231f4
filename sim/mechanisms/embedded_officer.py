"""Safer Schools Partnership: an officer based in each secondary school (primaries share one per cluster)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from sim.core.agents import Officer, OfficerRole
from sim.core.config import Count as CountSetting
from sim.core.config import NonNegative, Probability
from sim.core.outcomes import ContactType
from sim.mechanisms.base import PolicingModel, PolicingParams
from sim.core.population import cumulative_weights, sample_within_schools

if TYPE_CHECKING:
    from sim.core.agents import School


class EmbeddedOfficerParams(PolicingParams):
    """Parameters of the embedded-officer model."""

    presence_days_share: Probability = Field(
        description="Probability an officer is in school on a school day (not abstracted by training or other duties)"
    )
    primary_schools_per_officer: CountSetting = Field(
        description="Primary schools in the cluster one officer rotates round, one a day (0: primaries have no officer)"
    )
    presence_contacts_per_day: NonNegative = Field(
        description="Mean students an officer in school approaches or talks to in a day (Poisson)"
    )
    lessons_per_week: NonNegative = Field(
        description="Mean officer-delivered PSHE lessons per officer in school per 5-day week, each to one class"
    )
    hours_per_day: NonNegative = Field(
        description="Officer hours in school per day; what other activities leave is booked as presence"
    )
    hours_per_lesson: NonNegative = Field(description="Officer hours per PSHE lesson")


class EmbeddedOfficer(PolicingModel):
    """Daily presence, officer-delivered PSHE lessons, first responder to incidents in school."""

    Params = EmbeddedOfficerParams
    params: EmbeddedOfficerParams

    def setup(self) -> None:
        """One officer per secondary school; primaries grouped into clusters that one officer rotates round."""
        model = self.model
        officer_cls = model.agent_classes.officer
        self.officers: list[Officer] = []
        phase = model.borough.school_phase
        for s in np.flatnonzero(phase == 1):
            self.officers.append(officer_cls(model, OfficerRole.SAFER_SCHOOLS_OFFICER, [int(s)]))
        per = self.params.primary_schools_per_officer
        primaries = sorted(np.flatnonzero(phase == 0).tolist(), key=lambda s: (model.borough.school_ward[s], s))
        if per > 0 and primaries:
            for block in np.array_split(np.array(primaries), math.ceil(len(primaries) / per)):
                self.officers.append(officer_cls(model, OfficerRole.SAFER_SCHOOLS_OFFICER, block.tolist()))
        for officer in self.officers:
            for s in officer.schools:
                model.schools[s].link_officer = officer
        self.on_site: dict[int, Officer] = {}
        self._fixed_approach_weights: np.ndarray | None = None

    def start_of_day(self, day: int) -> None:
        """Each officer is in school unless abstracted; cluster officers visit one school a day in turn."""
        # one keyed draw per officer (officer i's draw is the same as streams.uniform("officer_presence", day, i))
        present = self.model.streams.uniforms("officer_presence", day, np.arange(len(self.officers))).tolist()
        self.on_site = {}
        for officer, u in zip(self.officers, present, strict=True):
            officer.hours_today = 0.0
            if u < self.params.presence_days_share:
                self.on_site[officer.schools[day % len(officer.schools)]] = officer

    def officer_on_site(self, school: School) -> Officer | None:
        """The school's officer, when in school today."""
        return self.on_site.get(school.index)

    def responder(self, incident) -> Officer:
        """The officer on site is first responder; otherwise the response team."""
        return self.on_site.get(incident.school) or self.model.response_officer

    def proactive_activities(self, day: int) -> None:
        """Presence contacts and PSHE lessons by each officer in school today."""
        if not self.on_site:
            return
        model = self.model
        pop = model.population
        rng = model.streams.generator("embedded_officer_activities", day)
        schools = np.fromiter(self.on_site, dtype=np.int64)
        k = rng.poisson(self.params.presence_contacts_per_day, size=len(schools))
        approached = sample_within_schools(pop, None, schools, k, rng, cumulative=self._approach_weights())
        model.add_contacts(approached, ContactType.PRESENCE)
        lessons = rng.poisson(self.params.lessons_per_week / 5.0, size=len(schools))
        taught = []  # the classes taught today, one entry per lesson
        for school_index, n_lessons in zip(schools.tolist(), lessons.tolist(), strict=True):
            teachers = model.schools[school_index].teachers
            officer = self.on_site[school_index]
            for _ in range(n_lessons):
                teacher = teachers[int(rng.integers(len(teachers)))]
                taught.append(pop.students_of_class(teacher.class_id))
                officer.log_hours("lesson", self.params.hours_per_lesson, school_index)
        if taught:
            model.deliver_police_lesson(np.concatenate(taught))

    def _approach_weights(self) -> np.ndarray:
        """Cumulative weights of whom officers approach, over all students.

        The officers' selection rule (``Officer.stop_weights``, the same class for every officer) decides. The default
        rule depends only on who is from an over-policed community, so it is worked out once; an overridden rule is
        asked again every day.
        """
        officer = self.officers[0]
        fixed = type(officer).stop_weights is Officer.stop_weights
        if self._fixed_approach_weights is None or not fixed:
            weights = cumulative_weights(officer.stop_weights(np.arange(self.model.population.n)))
            if not fixed:
                return weights
            self._fixed_approach_weights = weights
        return self._fixed_approach_weights

    def end_of_day(self, day: int) -> None:
        """The rest of an on-site officer's day is presence."""
        for school_index, officer in self.on_site.items():
            officer.log_hours("presence", max(0.0, self.params.hours_per_day - officer.hours_today), school_index)
