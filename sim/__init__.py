"""An agent-based simulation of schools-policing models (Safer Schools officers, the Hackney pilot, no police)."""

from sim.core.config import ConfigError, SimConfig
from sim.core.model import BoroughModel

__all__ = ["BoroughModel", "ConfigError", "SimConfig"]
