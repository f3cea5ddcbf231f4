"""An analyst's own policing model: the Hackney pilot's advisors, without Safer Corridors or points.

A policing model is one subclass of :class:`sim.policing.base.PolicingModel` (overriding only the hooks it
changes) plus one YAML file naming it, here ``examples/conf/scenario/advice_only.yaml``. Kept outside the
package, it is selected with (docs/extending.md)::

    PYTHONPATH=examples scripts/sim --config-dir examples/conf scenario=advice_only

It separates the first element of the pilot from the other two: staff consult a school-linked officer, whose
advice involves no contact with the child, before a non-emergency call to police; nothing else changes.
"""

from __future__ import annotations

from pydantic import Field

from sim.agents import Officer, OfficerRole
from sim.config import Probability
from sim.policing.base import PolicingModel, PolicingParams


class AdviceOnlyParams(PolicingParams):
    """Parameters (validated from the YAML's ``params``; unknown keys are errors)."""

    schools_per_officer: int = Field(ge=1, description="Schools one linked advisor covers")
    advise_police_when_needed: Probability = Field(
        description="Chance the advisor says 'call police' when a criminal-justice response is appropriate"
    )
    advise_police_when_not_needed: Probability = Field(
        description="Chance the advisor says 'call police' when it is not"
    )


class AdviceOnly(PolicingModel):
    """Tactical advisors only: staff ask before calling police; the linked officer attends if advised."""

    Params = AdviceOnlyParams
    params: AdviceOnlyParams

    def setup(self) -> None:
        """Link one advisor to each block of neighbouring schools."""
        self.officers = self.link_officers(OfficerRole.WARD_ADVISOR, self.params.schools_per_officer)

    def screen_referral(self, school, teacher, incident) -> bool:
        """Consult the linked advisor first (advice to staff, not a contact with the child)."""
        p = self.params
        return self.consult_link_officer(school, incident, p.advise_police_when_needed, p.advise_police_when_not_needed)

    def responder(self, incident) -> Officer:
        """Send the linked officer when advised; emergencies go to the response team."""
        return self.link_officer_or_response(incident)
