"""Liberty's partnership mechanisms: the Schools Protocol used whenever it applies, and youth-work referrals."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from sim.core.mechanism import Mechanism, MechanismParams
from sim.core.parameters import param

if TYPE_CHECKING:
    from sim.core.agents import Officer
    from sim.core.incidents import Incident


class SchoolsProtocolParams(MechanismParams):
    """Parameters of the Schools Protocol mechanism."""

    use: float = param(
        1.0,
        unit="probability",
        range=(0.0, 1.0),
        meaning="Probability a non-indictable in-school incident is left to the school (replaces police default)",
        source="Liberty 2025: avoid unnecessary recording; the Schools Protocol used whenever it applies",
    )


class SchoolsProtocol(Mechanism):
    """Schools deal with non-indictable incidents on their premises themselves (the Schools Protocol)."""

    name = "schools_protocol"
    Params: ClassVar[type[MechanismParams]] = SchoolsProtocolParams
    params: SchoolsProtocolParams

    def schools_protocol_use(self) -> float:
        """The protocol's use, in place of officers' usual practice (``police.schools_protocol_use``)."""
        return self.params.use


class YouthWorkPartnershipParams(MechanismParams):
    """Parameters of the youth-work partnership."""

    referral_probability: float = param(
        1.0,
        unit="probability",
        range=(0.0, 1.0),
        meaning="Probability a child is referred to youth work after a police contact about an incident",
        source="Liberty 2025: partnership with youth organisations",
    )


class YouthWorkPartnership(Mechanism):
    """Police work with youth organisations: a child is referred to youth work after a police contact."""

    name = "youth_work_partnership"
    Params: ClassVar[type[MechanismParams]] = YouthWorkPartnershipParams
    params: YouthWorkPartnershipParams

    def after_police_contact(self, officer: Officer, incident: Incident) -> None:
        """The referral (a keyed draw: paired across scenarios)."""
        if incident.draw("partnership_referral") < self.params.referral_probability:
            self.model.refer_to_youth_work(incident.student, incident.school)
