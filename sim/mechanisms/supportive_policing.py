"""Liberty's recommendations (beyond the brief): police support schools without delivering or patrolling.

Police feed into lesson design but do not deliver it (no lesson contacts), work in partnership with youth
organisations (every police contact about a child is followed by a youth-work referral), and keep contact to what
is necessary: staff consult the linked officer, who advises, and the school uses the Schools Protocol for every
non-indictable incident on its premises.
"""

from __future__ import annotations

from pydantic import Field

from sim.core.config import Probability
from sim.mechanisms.base import LinkedAdvisorParams, LinkedAdvisorPolicing


class SupportivePolicingParams(LinkedAdvisorParams):
    """Parameters of the supportive-policing model."""

    schools_protocol_use: Probability = Field(
        description="Probability a non-indictable in-school incident is left to the school (replaces police default)"
    )
    youth_work_referral_after_contact: Probability = Field(
        description="Probability a child is referred to youth work after a police contact about an incident"
    )


class SupportivePolicing(LinkedAdvisorPolicing):
    """Advice without contact, Schools Protocol by default, youth-work partnership, no police-led activities."""

    Params = SupportivePolicingParams
    params: SupportivePolicingParams

    @property
    def schools_protocol_use(self) -> float:
        """Schools deal with non-indictable incidents themselves."""
        return self.params.schools_protocol_use

    def after_police_contact(self, officer, incident, recorded: bool) -> None:
        """Partnership: the child is referred to youth work after any police contact about them."""
        if incident.draw("partnership_referral") < self.params.youth_work_referral_after_contact:
            self.model.refer_to_youth_work(incident.student, incident.school)
