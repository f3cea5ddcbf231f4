"""Calls to police about incidents below an emergency: through a schools-police relationship, or ordinary routes."""

from __future__ import annotations

from typing import ClassVar

from sim.core.mechanism import Mechanism, MechanismParams
from sim.core.parameters import param


class NonEmergencyCalls(Mechanism):
    """Staff call police about a non-serious offence: at their referral threshold, or when support is full.

    Staff call when the offence's severity reaches their referral threshold, and when the support a student needs is
    full (``staff.escalate_when_no_capacity``). Scenarios with schools policing have it: staff know whom to call.
    """

    name = "non_emergency_calls"
    takes_non_emergency_calls: ClassVar[bool] = True


class OrdinaryCallsParams(MechanismParams):
    """Parameters of ``ordinary_calls``."""

    threshold_shift: float = param(
        0.5,
        unit="severity levels",
        range=(0, 1.5),
        source="assumption: without a named officer, staff call 101/999 less readily than schools with a police "
        "link; no study measures it (NPCC 2020 'When to call the police' guidance applies to every school). Range: 0 "
        "(staff's usual threshold, as with a linked officer not on site) to staff.proximity_shift (1.5: the gap an "
        "officer on site makes, again)",
        meaning="Severity levels added to staff's threshold for calling police without a schools-police relationship",
    )


class OrdinaryCalls(NonEmergencyCalls):
    """No schools policing removes the officer, not the phone: staff call police through 101 and 999 like anyone.

    As :class:`NonEmergencyCalls` (calls at the referral threshold, and when support is full), with the threshold
    raised by ``threshold_shift`` severity levels: without a relationship with police, staff call less readily.
    """

    name = "ordinary_calls"
    Params: ClassVar[type[MechanismParams]] = OrdinaryCallsParams
    params: OrdinaryCallsParams

    def call_threshold_shift(self) -> float:
        """The shift of staff's threshold for calling police."""
        return self.params.threshold_shift
