"""Check a composed configuration and resolve what it names: the agent classes and the scenario's mechanisms.

:func:`validate_config` is the one gate every run passes before any work starts: a wrong type, an out-of-range
value, an unknown key, a class that cannot be imported or is of the wrong kind, a mechanism's parameter that it
does not have, or a mechanism missing one it requires, is reported by the name of the setting and what it allows.

A configuration is code: the modules it names (``agents.*``, a mechanism's ``class``) are imported, and their
top-level code runs, when it is checked. Nothing is added to the import path: a module of your own must be
importable (installed, or on ``PYTHONPATH``).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

from hydra.utils import get_class
from pydantic import ValidationError

from sim.core.agents import Officer, School, Student, Teacher, YouthWorker
from sim.core.config import ConfigError, SimConfig, format_validation_error
from sim.core.mechanism import BUILT_IN_MECHANISMS, Mechanism, MechanismParams

AGENT_BASES: dict[str, type] = {
    "school": School,
    "student": Student,
    "teacher": Teacher,
    "youth_worker": YouthWorker,
    "officer": Officer,
}
CLASS_KEY = "class"  # a mechanism's parameter naming its class (for mechanisms that are not built in)


@dataclass(frozen=True)
class AgentClasses:
    """The agent classes in use (the configured ones, or analysts' subclasses)."""

    school: type[School]
    student: type[Student]
    teacher: type[Teacher]
    youth_worker: type[YouthWorker]
    officer: type[Officer]


@dataclass(frozen=True)
class MechanismSpec:
    """One mechanism of a scenario: its name in the scenario, its class and its validated parameters."""

    name: str
    cls: type[Mechanism]
    params: MechanismParams


def load_class(path: str, base: type, setting: str) -> type:
    """Import ``package.module.Class`` and check it is ``base`` or a subclass of it.

    Raises:
        ValueError: naming the setting, when it cannot be imported or is of the wrong kind.
    """
    try:
        cls = get_class(path)
    except Exception as err:  # Hydra wraps import errors in several types
        raise ValueError(f"{setting}: cannot import {path!r} ({_first_line(err)})") from None
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ValueError(f"{setting}: {path!r} is not {base.__module__}.{base.__name__} or a subclass of it")
    return cls


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[-1] if text else type(err).__name__


def agent_classes(config: SimConfig) -> AgentClasses:
    """The configured agent classes, each checked against its base class."""
    a = config.agents
    return AgentClasses(
        **{kind: load_class(getattr(a, kind), base, f"agents.{kind}") for kind, base in AGENT_BASES.items()}
    )


def mechanism_class(name: str, params: dict[str, Any]) -> type[Mechanism]:
    """The class of a scenario's mechanism: built in by name, or given by its ``class`` parameter."""
    setting = f"scenario.mechanisms.{name}"
    path = params.get(CLASS_KEY) or BUILT_IN_MECHANISMS.get(name)
    if path is None:
        raise ValueError(
            f"{setting}: no built-in mechanism is called {name!r}; built in: {', '.join(BUILT_IN_MECHANISMS)} "
            f"(or give the class of your own: {setting}.{CLASS_KEY}=package.module.Class)"
        )
    return load_class(str(path), Mechanism, setting)


def mechanisms(config: SimConfig) -> list[MechanismSpec]:
    """The scenario's mechanisms in order, with their parameters validated against each one's ``Params``.

    Raises:
        ConfigError: one line per wrong setting, named ``scenario.mechanisms.<name>.<parameter>``.
    """
    specs, errors = [], []
    scenario = config.scenario
    unknown = [name for name in scenario.without if name not in scenario.mechanisms]
    if unknown:
        raise ConfigError(
            f"Invalid configuration:\n  scenario.without: {', '.join(repr(n) for n in unknown)} "
            f"{'is not a mechanism' if len(unknown) == 1 else 'are not mechanisms'} of the scenario "
            f"{scenario.name!r} (its mechanisms: {', '.join(scenario.mechanisms) or 'none'})"
        )
    for name, raw in scenario.mechanisms.items():
        if name in scenario.without:
            continue
        try:
            cls = mechanism_class(name, raw)
        except ValueError as err:
            errors.append(f"  {err}")
            continue
        values = {k: v for k, v in raw.items() if k != CLASS_KEY}
        try:
            params = cls.Params.model_validate(values)
        except ValidationError as err:
            errors.append(format_validation_error(err, prefix=f"scenario.mechanisms.{name}", schema=cls.Params))
            continue
        specs.append(MechanismSpec(name, cls, params))
    seen: set[str] = set()
    for spec in specs:
        for needed in spec.cls.requires:
            if needed not in seen:
                left_out = (
                    f" (scenario.without leaves it out: leave out {spec.name!r} too)"
                    if needed in scenario.without
                    else ""
                )
                errors.append(
                    f"  scenario.mechanisms.{spec.name}: needs the mechanism {needed!r} before it in the scenario"
                    + left_out
                )
        seen.add(spec.cls.name or spec.name)
    if errors:
        raise ConfigError("Invalid configuration:\n" + "\n".join(errors))
    return specs


def removal_units(config: SimConfig) -> list[list[str]]:
    """What a leave-one-out run of each of the scenario's mechanisms leaves out, in the scenario's order.

    A mechanism is left out together with every mechanism that needs it (``requires``, followed transitively),
    since those cannot run without it: the unit of ``embedded_presence`` in ``embedded_officer`` is
    ``[embedded_presence, officer_first_response, police_lessons]``. Each unit starts with the mechanism it is
    for, then the others in the scenario's order. Mechanisms already left out (``scenario.without``) are not
    counted.
    """
    specs = mechanisms(config)
    key = {spec.name: spec.cls.name or spec.name for spec in specs}
    units = []
    for spec in specs:
        removed = {key[spec.name]}
        for other in specs:  # a mechanism's requirements come before it, so one pass in order follows chains
            if other is not spec and removed & set(other.cls.requires):
                removed.add(key[other.name])
        units.append([spec.name] + [o.name for o in specs if o is not spec and key[o.name] in removed])
    return units


def validate_config(raw: dict[str, Any]) -> SimConfig:
    """Validate a composed configuration (a plain dict) and return it typed.

    Also imports and checks every class it names and each mechanism's parameters, so that a run that starts can
    finish.

    Raises:
        ConfigError: naming every setting that is wrong and what it allows.
    """
    try:
        config = SimConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError("Invalid configuration:\n" + format_validation_error(err, schema=SimConfig)) from None
    errors = []
    for kind, base in AGENT_BASES.items():
        try:
            load_class(getattr(config.agents, kind), base, f"agents.{kind}")
        except ValueError as err:
            errors.append(f"  {err}")
    if errors:
        raise ConfigError("Invalid configuration:\n" + "\n".join(errors))
    for spec in mechanisms(config):
        try:
            spec.cls.check_config(config, spec.params)
        except ValueError as err:
            raise ConfigError(f"Invalid configuration:\n  {err}") from None
    check_size(config)
    return config


# Memory a run needs, measured (docs/reliability.md): the process itself, each student (arrays and the agents
# made per class), and each school-day (the ledger, and the daily table when written).
BASE_BYTES = 200e6
BYTES_PER_STUDENT = 500
BYTES_PER_SCHOOL_DAY = 1_000
BYTES_PER_SCHOOL_DAY_DAILY = 2_500
WARN_BYTES = 4e9
"""A run estimated to need more than this is warned about (it still runs if it fits in available memory)."""


class SizeWarning(UserWarning):
    """A run that will need a lot of memory."""


def estimate_memory(config: SimConfig) -> tuple[float, int]:
    """The memory (bytes) a run of ``config`` needs at its peak, by a measured linear model, and its students."""
    b = config.borough
    students = round(b.primary_schools * b.primary_pupils_mean + b.secondary_schools * b.secondary_pupils_mean)
    school_days = (b.primary_schools + b.secondary_schools) * config.days
    per_school_day = BYTES_PER_SCHOOL_DAY_DAILY if config.output.daily else BYTES_PER_SCHOOL_DAY
    return BASE_BYTES + BYTES_PER_STUDENT * students + per_school_day * school_days, students


def available_memory() -> float | None:
    """Memory available to a new process (bytes; Linux ``MemAvailable``), or None when it cannot be known."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def check_size(config: SimConfig) -> None:
    """Refuse a run that cannot fit in available memory, and warn about a very large one, before it is built.

    Raises:
        ConfigError: naming the settings that make the run large.
    """
    need, students = estimate_memory(config)
    b = config.borough
    what = (
        f"about {students:,} students (borough.primary_schools={b.primary_schools} x borough.primary_pupils_mean="
        f"{b.primary_pupils_mean:g} + borough.secondary_schools={b.secondary_schools} x "
        f"borough.secondary_pupils_mean={b.secondary_pupils_mean:g}) for days={config.days}"
        f"{' with output.daily=true' if config.output.daily else ''}"
    )
    available = available_memory()
    if available is not None and need > available:
        raise ConfigError(
            f"Invalid configuration:\n  the run needs about {need / 1e9:.1f} GB of memory ({what}), more than the "
            f"{available / 1e9:.1f} GB available: make the borough smaller, run fewer days, or set output.daily=false"
        )
    if need > WARN_BYTES:
        warnings.warn(f"a large run: about {need / 1e9:.1f} GB of memory ({what})", SizeWarning, stacklevel=2)


def load_built_in_mechanisms() -> dict[str, type[Mechanism]]:
    """Import every built-in mechanism (so that their outcomes are declared); name -> class."""
    return {name: get_class(path) for name, path in BUILT_IN_MECHANISMS.items()}
