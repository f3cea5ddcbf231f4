"""An agent-based simulation of schools-policing models (Safer Schools officers, the Hackney pilot, no police)."""

from sim.config import ConfigError, SimConfig
from sim.model import BoroughModel

__all__ = ["BoroughModel", "ConfigError", "SimConfig"]
