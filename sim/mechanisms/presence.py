"""Safer Schools Partnership: an officer based in each secondary school (primaries share one per cluster).

Two mechanisms: :class:`EmbeddedPresence` (the officer is there: daily presence contacts, and staff readier to call
police when an officer is on site) and :class:`OfficerFirstResponse` (the officer on site notices incidents and
is the first responder to those in school).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.core.agents import Officer, OfficerRole
from sim.core.mechanism import Mechanism, MechanismParams
from sim.core.outcomes import PRESENCE, REGISTRY
from sim.core.parameters import param
from sim.core.population import cumulative_weights, sample_within_schools

if TYPE_CHECKING:
    from sim.core.agents import School
    from sim.core.incidents import Incident

REGISTRY.officer_activity(
    "presence", owner="embedded_presence", meaning="Officer hours in school not spent on anything else."
)


class EmbeddedPresenceParams(MechanismParams):
    """Parameters of the embedded officer's presence."""

    presence_days_share: float = param(
        0.9,
        unit="probability",
        range=(0.0, 1.0),
        meaning="Probability an officer is in school on a school day (not abstracted by training or other duties)",
        source="assumption: days an officer is in school (training, abstractions)",
    )
    primary_schools_per_officer: int = param(
        6,
        unit="primary schools per officer",
        range=(0, 30),
        meaning="Primary schools in the cluster one officer rotates round, one a day (0: primaries have no officer)",
        source="assumption: one officer rotates round a cluster of primaries",
    )
    presence_contacts_per_day: float = param(
        10.0,
        unit="students per officer per day",
        range=(0.0, 100.0),
        meaning="Mean students an officer in school approaches or talks to in a day (Poisson)",
        source="assumption: students an officer approaches or talks to in a day",
    )
    hours_per_day: float = param(
        7.5,
        unit="hours per day",
        range=(0.0, 12.0),
        meaning="Officer hours in school per day; what other activities leave is booked as presence",
        source="assumption",
    )


class EmbeddedPresence(Mechanism):
    """An officer in each secondary school, and one per cluster of primaries, who is there most days."""

    name = "embedded_presence"
    Params: ClassVar[type[MechanismParams]] = EmbeddedPresenceParams
    params: EmbeddedPresenceParams

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
            for school in officer.schools:
                model.schools[school].link_officer = officer
        self.on_site: dict[int, Officer] = {}
        self._approach_cumulative: np.ndarray | None = None

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

    def proactive_activities(self, day: int) -> None:
        """Each officer in school approaches or talks to some students (chosen by ``Officer.stop_weights``)."""
        if not self.on_site:
            return
        model = self.model
        rng = model.streams.generator("embedded_officer_activities", day)
        schools = np.fromiter(self.on_site, dtype=np.int64)
        k = rng.poisson(self.params.presence_contacts_per_day, size=len(schools))
        approached = sample_within_schools(model.population, None, schools, k, rng, cumulative=self._cumulative())
        model.add_contacts(approached, PRESENCE)

    def _cumulative(self) -> np.ndarray:
        """Cumulative approach weights over all students: each school's students weighted by its officer's rule.

        Each officer's weights come from :meth:`Officer.weights_for` (worked out once per officer and school when
        the rule depends only on who the students are, see :func:`sim.core.agents.fixed_per_student`); a school
        without an officer keeps weight 1 (nobody is approached there).
        """
        if self._approach_cumulative is not None:
            return self._approach_cumulative
        pop = self.model.population
        weights = np.ones(pop.n)
        fixed = True
        for officer in self.officers:
            for s in officer.schools:
                students = pop.students_of_school(s)
                weights[students] = officer.weights_for(("school", s), students)
            fixed = fixed and officer.weights_are_fixed
        cumulative = cumulative_weights(weights)
        if fixed:
            self._approach_cumulative = cumulative
        return cumulative

    def start_of_school_year(self, year: int) -> None:
        """Schools have new students: the approach weights are worked out again."""
        self._approach_cumulative = None

    def end_of_day(self, day: int) -> None:
        """The rest of an on-site officer's day is presence."""
        for school_index, officer in self.on_site.items():
            officer.log_hours("presence", max(0.0, self.params.hours_per_day - officer.hours_today), school_index)


class OfficerFirstResponse(Mechanism):
    """The officer on site notices incidents in school and attends them, and is first responder to calls."""

    name = "officer_first_response"
    requires: ClassVar[tuple[str, ...]] = ("embedded_presence",)

    def setup(self) -> None:
        """Find the presence mechanism whose officers respond."""
        presence = self.model.policing.get("embedded_presence")
        assert isinstance(presence, EmbeddedPresence)  # checked with the configuration (``requires``)
        self.presence = presence

    def first_responder(self, school: School) -> Officer | None:
        """The school's officer, when in school today."""
        return self.presence.on_site.get(school.index)

    def responder(self, incident: Incident) -> Officer | None:
        """The officer on site attends calls about the school's incidents."""
        return self.presence.on_site.get(incident.school)
