"""Keyword parameters (as Mesa's ``batch_run`` and SolaraViz pass them) to a validated configuration.

``BoroughModel(policing=..., borough=..., days=..., section__key=value, ...)``: the config groups are chosen with
Hydra (``scenario=<policing>``, ``borough=...``, the ``overrides`` strings), then each ``section__key`` keyword
(double underscores for dots) is set on the composed configuration as the Python value it is, never through its
``str()``: numpy scalars and arrays, tuples, sets, dicts, paths, enums and classes (by their import path) are turned
into plain values first, so they reach the configuration exactly. An error names the keyword.

A mechanism's parameter (``scenario__mechanisms__<name>__<parameter>``) given to a scenario without that mechanism
is ignored with a note (:attr:`Composed.notes`), so that one parameter grid can cross it with every scenario.
"""

from __future__ import annotations

import enum
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.core.compose import compose_raw, to_sim_config
from sim.core.config import SCHEMA_GROUPS, ConfigError, SimConfig

GROUPS = ("scenario", "borough", *SCHEMA_GROUPS)
"""Config groups: a keyword with one of these names and a string value chooses an option (a file or schema)."""


@dataclass
class Composed:
    """A configuration made from keyword parameters, with notes on keywords that did not apply."""

    config: SimConfig
    notes: list[str] = field(default_factory=list)


def plain(value: Any, keyword: str) -> Any:
    """A keyword's value as plain Python (bool, int, float, str, None, lists and dicts of them).

    Raises:
        TypeError: naming the keyword, for a value that has no configuration form (a function, an open file ...).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.generic):  # numpy scalars: np.int64, np.float32, np.bool_, np.str_
        return plain(value.item(), keyword)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float | Fraction):
        value = float(value)
        if not math.isfinite(value):
            raise TypeError(f"{keyword}={value!r}: a setting must be a finite number")
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value, keyword)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, type):  # a class (an agent class or a mechanism's own), by its import path
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, np.ndarray):
        return [plain(v, keyword) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(plain(k, keyword)): plain(v, keyword) for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [plain(v, keyword) for v in items]
    if hasattr(value, "model_dump"):  # a pydantic model (a section of a SimConfig, a mechanism's Params)
        return plain(value.model_dump(mode="json"), keyword)
    raise TypeError(f"{keyword}={value!r}: a {type(value).__name__} cannot be a setting")


def compose_keywords(
    *,
    policing: str | None = None,
    borough: str | None = None,
    days: Any = None,
    overrides: Sequence[str] = (),
    settings: Mapping[str, Any] | None = None,
) -> Composed:
    """Compose and validate the configuration that keyword parameters describe (see the module's docstring).

    Raises:
        ConfigError: naming the keyword whose value is wrong.
    """
    words = list(overrides)
    if policing is not None:
        words.append(f"scenario={_group_option('policing', policing)}")
    if borough is not None:
        words.append(f"borough={_group_option('borough', borough)}")
    rest: dict[str, Any] = {}
    for keyword, value in (settings or {}).items():
        if keyword in GROUPS and isinstance(value, str | np.str_):
            words.append(f"{keyword}={_group_option(keyword, value)}")
        else:
            rest[keyword] = value
    if days is not None:
        rest = {"days": days, **rest}
    try:
        cfg = compose_raw(words)
    except Exception as err:  # Hydra's own errors name the override (the keyword's Hydra form)
        raise ConfigError(f"cannot compose the configuration from {words}: {err}") from None

    notes = []
    scenario_mechanisms = set(cfg.scenario.get("mechanisms") or {})
    for keyword, value in rest.items():
        path = keyword.replace("__", ".")
        parts = path.split(".")
        if parts[:2] == ["scenario", "mechanisms"] and len(parts) > 2 and parts[2] not in scenario_mechanisms:
            notes.append(
                f"{keyword} ignored: scenario {cfg.scenario.name!r} has no mechanism {parts[2]!r} "
                f"(its mechanisms: {', '.join(sorted(scenario_mechanisms)) or 'none'})"
            )
            continue
        new = plain(value, keyword)
        if OmegaConf.select(cfg, path, default=_MISSING) is _MISSING:
            parent = ".".join(parts[:-1])
            if parent and OmegaConf.select(cfg, parent, default=_MISSING) is _MISSING:
                raise ConfigError(f"{keyword}: the configuration has no section {parent!r}")
            raise ConfigError(f"{keyword}: the configuration has no setting {path!r}")
        try:
            OmegaConf.update(cfg, path, new, merge=False, force_add=False)
        except (OmegaConfBaseException, ValueError, TypeError) as err:
            raise ConfigError(f"{keyword}={value!r}: {err}") from None
    try:
        config = to_sim_config(cfg)
    except ConfigError as err:
        named = [k for k in rest if k.replace("__", ".") in str(err)]
        if named:
            raise ConfigError(f"{err}\n(from the keyword argument {', '.join(named)})") from None
        raise
    return Composed(config, notes)


_MISSING = object()


def _group_option(keyword: str, value: Any) -> str:
    """A config group's option name, checked: a plain word (no Hydra grammar)."""
    option = str(value)
    if not option.replace("_", "").replace("-", "").isalnum():
        raise ConfigError(f"{keyword}={value!r}: not the name of a config option (a word such as 'no_police')")
    return option
