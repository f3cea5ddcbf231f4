"""Policing models: one class each, selected by ``conf/scenario/<name>.yaml``."""

from sim.policing.base import PolicingModel, PolicingParams
from sim.policing.embedded_officer import EmbeddedOfficer
from sim.policing.hackney_pilot import HackneyPilot
from sim.policing.no_police import NoPolice
from sim.policing.supportive_policing import SupportivePolicing

__all__ = ["EmbeddedOfficer", "HackneyPilot", "NoPolice", "PolicingModel", "PolicingParams", "SupportivePolicing"]
