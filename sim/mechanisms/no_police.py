"""No schools policing: police come only when a serious incident is reported, like anywhere else."""

from __future__ import annotations

from typing import ClassVar

from sim.mechanisms.base import PolicingModel


class NoPolice(PolicingModel):
    """Emergency response only: staff call police for serious incidents; nothing else involves police."""

    takes_non_emergency_referrals: ClassVar[bool] = False
