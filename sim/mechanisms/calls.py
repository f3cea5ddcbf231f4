"""Non-emergency calls: staff may call police about an incident below an emergency."""

from __future__ import annotations

from typing import ClassVar

from sim.core.mechanism import Mechanism


class NonEmergencyCalls(Mechanism):
    """Staff call police about a non-serious offence: at their referral threshold, or when support is full.

    Staff call when the offence's severity reaches their referral threshold, and when the support a student needs is
    full (``staff.escalate_when_no_capacity``).

    Without it, police hear from schools only about serious incidents (emergencies), as in the ``no_police``
    scenario.
    """

    name = "non_emergency_calls"
    takes_non_emergency_calls: ClassVar[bool] = True
