"""Policing models: one class each, selected by ``conf/scenario/<name>.yaml``."""

from sim.mechanisms.base import PolicingModel, PolicingParams
from sim.mechanisms.embedded_officer import EmbeddedOfficer
from sim.mechanisms.hackney_pilot import HackneyPilot
from sim.mechanisms.no_police import NoPolice
from sim.mechanisms.supportive_policing import SupportivePolicing

__all__ = ["EmbeddedOfficer", "HackneyPilot", "NoPolice", "PolicingModel", "PolicingParams", "SupportivePolicing"]
