"""The hooks a policing model offers the day loop.

A policing model is one subclass of :class:`PolicingModel` plus one YAML file in ``conf/scenario/`` naming it and
giving its parameters (validated against the class's ``Params``). The day loop calls, in order:

1. :meth:`start_of_day` (who is on site, which routes are patrolled);
2. while incidents are handled: :meth:`officer_on_site`, :meth:`screen_referral`, :meth:`responder`,
   :meth:`detects_street_incident`, :meth:`after_police_contact`;
3. :meth:`proactive_activities` (presence, lessons, points activities, patrol stops);
4. :meth:`end_of_day`.

Every hook has a do-nothing default, so a new model overrides only what it changes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sim.core.agents import Officer, OfficerRole
from sim.core.config import Probability
from sim.core.outcomes import Count

if TYPE_CHECKING:
    from sim.core.agents import School, Teacher
    from sim.core.config import SimConfig
    from sim.core.incidents import Incident
    from sim.core.model import BoroughModel


class PolicingParams(BaseModel):
    """Parameters of a policing model (none by default); unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class PolicingModel:
    """Base class of a schools-policing model: emergency response only, nothing else.

    Args:
        model: the borough model this policing model acts in.
        params: the validated parameters (an instance of ``Params``).
    """

    Params: ClassVar[type[PolicingParams]] = PolicingParams
    takes_non_emergency_referrals: ClassVar[bool] = True

    def __init__(self, model: BoroughModel, params: PolicingParams) -> None:
        self.model = model
        self.params = params

    @classmethod
    def check_config(cls, config: SimConfig, params: Any) -> None:
        """Cross-check the parameters against the rest of the configuration (raise ValueError if inconsistent)."""

    @property
    def schools_protocol_use(self) -> float:
        """Probability a non-indictable in-school incident is left to the school (Schools Protocol)."""
        return self.model.config.police.schools_protocol_use

    def setup(self) -> None:
        """Create this model's officers and links (the response team exists in every model)."""

    def start_of_day(self, day: int) -> None:
        """Decide the day's deployments."""

    def officer_on_site(self, school: School) -> Officer | None:
        """The officer present in the school today, if any."""
        return None

    def screen_referral(self, school: School, teacher: Teacher, incident: Incident) -> bool:
        """Whether a teacher's non-emergency call to police goes ahead (True: no screening)."""
        return True

    def responder(self, incident: Incident) -> Officer:
        """The officer who attends an incident reported to police."""
        return self.model.response_officer

    def street_risk_multiplier(self) -> np.ndarray | None:
        """Per-route multiplier of street-incident risk today (patrol deterrence), or None."""
        return None

    def detects_street_incident(self, incident: Incident) -> Officer | None:
        """The patrolling officer who detects a school-run incident, if any."""
        return None

    def after_police_contact(self, officer: Officer, incident: Incident, recorded: bool) -> None:
        """What follows a police contact about an incident (e.g. a partnership referral to youth work)."""

    def proactive_activities(self, day: int) -> None:
        """Police-initiated activities of the day."""

    def end_of_day(self, day: int) -> None:
        """Book-keeping at the end of the day."""

    def points_spent(self) -> float | None:
        """Points of the activities budget spent so far (None when the model has no budget)."""
        return None

    def extra_metrics(self) -> dict[str, Any]:
        """Metrics particular to this policing model."""
        return {}

    # --- helpers for subclasses --------------------------------------------------------------------------------
    def link_officers(self, role: OfficerRole, schools_per_officer: int) -> list[Officer]:
        """Create officers that each serve a block of neighbouring schools (sorted by ward) and link them."""
        model = self.model
        order = sorted(range(model.borough.n_schools), key=lambda s: (model.borough.school_ward[s], s))
        n_officers = max(1, math.ceil(len(order) / schools_per_officer))
        blocks = np.array_split(np.array(order), n_officers)
        officers = []
        for block in blocks:
            officer = model.agent_classes.officer(model, role, [int(s) for s in block])
            for s in officer.schools:
                model.schools[s].link_officer = officer
            officers.append(officer)
        return officers

    def consult_link_officer(
        self, school: School, incident: Incident, when_needed: float, when_not_needed: float
    ) -> bool:
        """Staff ask the school's linked officer for advice (no contact with the child); True if police are advised."""
        model = self.model
        advisor = school.link_officer
        if advisor is None:
            return True
        model.ledger.add(model.day, school.index, Count.ADVISOR_CONSULTATIONS, int(incident.over_policed))
        advisor.log_hours("consultation", model.config.police.hours_consultation, school.index)
        return advisor.advises_police(incident, when_needed, when_not_needed)

    def link_officer_or_response(self, incident: Incident) -> Officer:
        """Emergencies go to the response team; other calls to the school's linked officer."""
        link = self.model.schools[incident.school].link_officer
        if incident.type.serious or link is None:
            return self.model.response_officer
        return link


class LinkedAdvisorParams(PolicingParams):
    """Parameters of school-linked officers who advise staff before a non-emergency call to police."""

    schools_per_officer: int = Field(
        ge=1, description="Schools linked to one officer (advisor), in blocks of neighbours"
    )
    advise_police_when_needed: Probability = Field(
        description="Probability the advisor advises police when a criminal-justice response is appropriate"
    )
    advise_police_when_not_needed: Probability = Field(
        description="Probability the advisor advises police when a criminal-justice response is not appropriate"
    )


class LinkedAdvisorPolicing(PolicingModel):
    """School-linked officers as tactical advisors.

    Staff consult them before a non-emergency call (advice, no contact with the child); the linked officer
    attends when advised, the response team in an emergency.
    """

    Params: ClassVar[type[PolicingParams]] = LinkedAdvisorParams
    params: LinkedAdvisorParams

    def setup(self) -> None:
        """Link one advisor to each block of neighbouring schools."""
        self.officers = self.link_officers(OfficerRole.WARD_ADVISOR, self.params.schools_per_officer)

    def screen_referral(self, school: School, teacher: Teacher, incident: Incident) -> bool:
        """Staff consult the linked advisor first."""
        p = self.params
        return self.consult_link_officer(school, incident, p.advise_police_when_needed, p.advise_police_when_not_needed)

    def responder(self, incident: Incident) -> Officer:
        """The linked officer attends; emergencies go to the response team."""
        return self.link_officer_or_response(incident)
