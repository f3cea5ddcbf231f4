"""Safer Schools Partnership: officers based in schools, most covering one or two secondaries (a few, primaries).

Two mechanisms: :class:`EmbeddedPresence` (the officer is there: daily presence contacts, staff readier to call
police when an officer is on site, and any deterrence of in-school offending on those days) and
:class:`OfficerFirstResponse` (the officer on site notices incidents and is the first responder to those in school;
an immediate response may avert a victim's serious harm).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.core.agents import Officer, OfficerRole
from sim.core.incidents import Location
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
    secondary_schools_per_officer: float = param(
        1.7,
        unit="secondary schools per officer",
        range=(1.0, 5.0),
        meaning="Secondary schools one officer covers, rotating one a day (officers: secondaries / this, rounded up)",
        source="Mayor of London answer 2019/6043 (London Assembly, March 2019): 382 Schools and Youth Engagement "
        "Officers, 311 assigned to secondary schools, about 90 dedicated to one school and the rest covering two or "
        "more; London has about 520 state secondaries (DfE 2023/24), so about 1.7 per officer (371 Safer Schools "
        "Officers across 32 boroughs in 2025, about 11-12 a borough). Range: one officer per secondary to five",
    )
    primary_schools_per_officer: float = param(
        112.0,
        unit="primary schools per officer",
        range=(0.0, 200.0),
        meaning="Primary schools one officer covers, rotating one a day (0: primaries have no officer)",
        source="Mayor of London answer 2019/6043: 16 of 382 officers assigned to primary schools, for about 1,800 "
        "London primaries (about 112 each); Met FOI 01.FOI.23.033120: Safer Schools Officers support secondary "
        "schools, PRUs and colleges first, primaries where resources allow. Range: 0 (none) to 200",
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
    in_school_deterrence: float = param(
        0.1,
        unit="proportional fall in risk",
        range=(0.0, 0.3),
        meaning="Proportional fall in every student's in-school offending risk at a school on days its officer is "
        "there (deterrence)",
        source="Sorensen et al. 2023 (JPAM 42(4)): a US school resource officer reduces fights and threats by about "
        "30% (the range's top; no fall in gun-related incidents); Gottfredson et al. 2020 and Weisburst 2019 find no "
        "fall in offending, and the Youth Endowment Fund toolkit rates police in schools 'no clear evidence' (the "
        "range's bottom, 0). Default: assumption, a third of Sorensen's figure, since it applies here to every "
        "offending type and to part-time officers",
    )


class EmbeddedPresence(Mechanism):
    """An officer in each secondary school, and one per cluster of primaries, who is there most days."""

    name = "embedded_presence"
    Params: ClassVar[type[MechanismParams]] = EmbeddedPresenceParams
    params: EmbeddedPresenceParams

    def setup(self) -> None:
        """Officers, each covering a block of neighbouring schools of one phase, visited one a day in turn."""
        model = self.model
        officer_cls = model.agent_classes.officer
        self.officers: list[Officer] = []
        phase = model.borough.school_phase
        for p, per in ((1, self.params.secondary_schools_per_officer), (0, self.params.primary_schools_per_officer)):
            schools = sorted(np.flatnonzero(phase == p).tolist(), key=lambda s: (model.borough.school_ward[s], s))
            if per > 0 and schools:
                # at most one officer per school: below one school per officer, blocks would be empty (no school)
                blocks = min(len(schools), math.ceil(len(schools) / per - 1e-9))
                for block in np.array_split(np.array(schools), blocks):
                    self.officers.append(officer_cls(model, OfficerRole.SAFER_SCHOOLS_OFFICER, block.tolist()))
        for officer in self.officers:
            for school in officer.schools:
                model.schools[school].link_officer = officer
        self.on_site: dict[int, Officer] = {}
        self._approach_cumulative: np.ndarray | None = None
        self._deterrence: np.ndarray | None = None  # today's per-school multiplier of in-school risk

    def start_of_day(self, day: int) -> None:
        """Each officer is in school unless abstracted; cluster officers visit one school a day in turn."""
        # one keyed draw per officer (officer i's draw is the same as streams.uniform("officer_presence", day, i))
        present = self.model.streams.uniforms("officer_presence", day, np.arange(len(self.officers))).tolist()
        self.on_site = {}
        for officer, u in zip(self.officers, present, strict=True):
            officer.hours_today = 0.0
            if u < self.params.presence_days_share:
                self.on_site[officer.schools[day % len(officer.schools)]] = officer
        self._deterrence = None

    def school_risk_multiplier(self) -> np.ndarray | None:
        """Today's in-school risk multiplier: 1 - ``in_school_deterrence`` where the officer is on site, else 1."""
        d = self.params.in_school_deterrence
        if d == 0 or not self.on_site:
            return None
        if self._deterrence is None:
            multiplier = np.ones(self.model.borough.n_schools)
            multiplier[np.fromiter(self.on_site, dtype=np.int64)] = 1.0 - d
            self._deterrence = multiplier
        return self._deterrence

    def officer_on_site(self, school: School) -> Officer | None:
        """The school's officer, when in school today."""
        return self.on_site.get(school.index)

    def proactive_activities(self, day: int) -> None:
        """Each officer in school approaches or talks to some students (chosen by ``Officer.approach_weights``)."""
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
                weights[students] = officer.weights_for(("school", s), students, "approach_weights")
            fixed = fixed and officer.rule_is_fixed("approach_weights")
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


class OfficerFirstResponseParams(MechanismParams):
    """Parameters of the officer's first response."""

    harm_averted_share: float = param(
        0.1,
        unit="probability",
        range=(0.0, 0.3),
        meaning="Probability that the officer on site, attending a victim-harming serious incident in school, averts "
        "the harm or reduces it below serious (an immediate response)",
        source="assumption: no study measures harm averted by an officer's immediate response in school; faster "
        "police response raises detection rather than preventing harm (Blanes i Vidal & Kirchmaier 2018, Review of "
        "Economic Studies), and school resource officers do not prevent gun-related incidents (Sorensen et al. "
        "2023), so the range starts at 0; staff are there too, so at most a minority",
    )


class OfficerFirstResponse(Mechanism):
    """The officer on site notices incidents in school and attends them, and is first responder to calls.

    An immediate response may avert a victim's serious harm: of the victim-harming serious incidents in school that
    the officer on site attends, a share ``harm_averted_share`` (keyed draw ``harm_averted``) is counted as harm
    averted instead of serious harm.
    """

    name = "officer_first_response"
    Params: ClassVar[type[MechanismParams]] = OfficerFirstResponseParams
    params: OfficerFirstResponseParams
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

    def after_police_contact(self, officer: Officer, incident: Incident) -> None:
        """The officer on site attended at once: the victim's serious harm may be averted."""
        if (
            incident.type.harms_victim
            and incident.location == Location.SCHOOL
            and self.presence.on_site.get(incident.school) is officer
            and incident.draw("harm_averted") < self.params.harm_averted_share
        ):
            incident.harm_averted = True
