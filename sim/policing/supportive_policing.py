"""Liberty's recommendations (beyond the brief): police support schools without delivering or patrolling.

Police feed into lesson design but do not deliver it (no lesson contacts), work in partnership with youth
organisations (every police contact about a child is followed by a youth-work referral), and keep contact to what
is necessary: staff consult the linked officer, who advises, and the school uses the Schools Protocol for every
non-indictable incident on its premises.
"""

from __future__ import annotations

from pydantic import Field

from sim.agents import OfficerRole
from sim.config import Probability
from sim.policing.base import PolicingModel, PolicingParams


class SupportivePolicingParams(PolicingParams):
    """Parameters of the supportive-policing model."""

    schools_per_officer: int = Field(ge=1, description="Schools linked to one officer, in blocks of neighbours")
    advise_police_when_needed: Probability = Field(
        description="Probability the linked officer advises police when a criminal-justice response is appropriate"
    )
    advise_police_when_not_needed: Probability = Field(
        description="Probability the linked officer advises police when a criminal-justice response is not appropriate"
    )
    schools_protocol_use: Probability = Field(
        description="Probability a non-indictable in-school incident is left to the school (replaces the police default)"
    )
    youth_work_referral_after_contact: Probability = Field(
        description="Probability a child is referred to youth work after a police contact about an incident"
    )


class SupportivePolicing(PolicingModel):
    """Advice without contact, Schools Protocol by default, youth-work partnership, no police-led activities."""

    Params = SupportivePolicingParams
    params: SupportivePolicingParams

    def setup(self) -> None:
        """One linked officer per block of schools."""
        self.officers = self.link_officers(OfficerRole.WARD_ADVISOR, self.params.schools_per_officer)

    @property
    def schools_protocol_use(self) -> float:
        """Schools deal with non-indictable incidents themselves."""
        return self.params.schools_protocol_use

    def screen_referral(self, school, teacher, incident) -> bool:
        """Staff consult the linked officer first."""
        p = self.params
        return self.consult_link_officer(school, incident, p.advise_police_when_needed, p.advise_police_when_not_needed)

    def responder(self, incident):
        """The linked officer attends; emergencies go to response."""
        return self.link_officer_or_response(incident)

    def after_police_contact(self, officer, incident, recorded: bool) -> None:
        """Partnership: the child is referred to youth work after any police contact about them."""
        if incident.draw("partnership_referral") < self.params.youth_work_referral_after_contact:
            self.model.refer_to_youth_work(incident.student, incident.school)
