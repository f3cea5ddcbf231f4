"""School-linked officers as tactical advisors: staff consult them before a non-emergency call to police.

The advice involves no contact with the child (Hackney pilot; Liberty 2025). When an advisor advises police, the
linked officer attends; emergencies go to the response team.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.core.agents import Officer, OfficerRole
from sim.core.mechanism import Mechanism, MechanismParams
from sim.core.outcomes import ADVISOR_CONSULTATIONS, REGISTRY
from sim.core.parameters import param

if TYPE_CHECKING:
    from sim.core.agents import School, Teacher
    from sim.core.incidents import Incident
    from sim.core.model import BoroughModel

REGISTRY.officer_activity(
    "consultation", owner="linked_advisors", meaning="Officer hours advising staff who consult them."
)


class LinkedAdvisorsParams(MechanismParams):
    """Parameters of school-linked advisors."""

    schools_per_officer: int = param(
        10,
        unit="schools per officer",
        range=(1, 50),
        meaning="Schools linked to one officer (advisor), in blocks of neighbours",
        source="assumption: school-linked ward officers each cover ~10 schools",
    )
    advise_police_when_needed: float = param(
        0.9,
        unit="probability",
        range=(0.0, 1.0),
        meaning="Probability the advisor advises police when a criminal-justice response is appropriate",
        source="assumption: advisors recognise cases that need a criminal-justice response",
    )
    advise_police_when_not_needed: float = param(
        0.15,
        unit="probability",
        range=(0.0, 1.0),
        meaning="Probability the advisor advises police when a criminal-justice response is not appropriate",
        source="assumption",
    )


def link_officers(model: BoroughModel, role: OfficerRole, schools_per_officer: int) -> list[Officer]:
    """Create officers that each serve a block of neighbouring schools (sorted by ward) and link them."""
    order = sorted(range(model.borough.n_schools), key=lambda s: (model.borough.school_ward[s], s))
    n_officers = max(1, math.ceil(len(order) / schools_per_officer))
    officers = []
    for block in np.array_split(np.array(order), n_officers):
        officer = model.agent_classes.officer(model, role, [int(s) for s in block])
        for s in officer.schools:
            model.schools[s].link_officer = officer
        officers.append(officer)
    return officers


class LinkedAdvisors(Mechanism):
    """Staff consult the school's linked officer before a non-emergency call; the linked officer attends."""

    name = "linked_advisors"
    Params: ClassVar[type[MechanismParams]] = LinkedAdvisorsParams
    params: LinkedAdvisorsParams

    def setup(self) -> None:
        """Link one advisor to each block of neighbouring schools."""
        self.officers = link_officers(self.model, OfficerRole.WARD_ADVISOR, self.params.schools_per_officer)

    def screen_call(self, school: School, teacher: Teacher, incident: Incident) -> bool:
        """Staff ask the linked officer for advice (no contact with the child); True if police are advised."""
        model = self.model
        advisor = school.link_officer
        if advisor is None:
            return True
        model.count(ADVISOR_CONSULTATIONS, school.index, incident.over_policed)
        advisor.log_hours("consultation", model.config.police.hours_consultation, school.index)
        p = self.params
        return advisor.advises_police(incident, p.advise_police_when_needed, p.advise_police_when_not_needed)

    def responder(self, incident: Incident) -> Officer | None:
        """The linked officer attends a non-emergency call; emergencies go to the response team."""
        if incident.type.serious:
            return None
        return self.model.schools[incident.school].link_officer
