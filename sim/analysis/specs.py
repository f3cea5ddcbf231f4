"""What the figures and the report show, taken from the outcome registry (:mod:`sim.core.outcomes`).

A spec is ``(metric key, panel title, axis label, kind)``, kind "rate" (per 1,000 per school year), "share" (0-1,
shown as %) or "ratio" (anything else on its own scale). The headline outcomes are those declared with a
``headline`` rank; the scenarios and their colours are those of ``conf/scenario/`` (each file's ``colour``).
"""

from __future__ import annotations

import zlib
from functools import cache
from typing import Any

import yaml

from sim.core.configure import load_built_in_mechanisms
from sim.core.outcomes import RATE_UNIT, REGISTRY, Counted, Kind, Metric
from sim.core.paths import CONF_DIR

Spec = tuple[str, str, str, str]
# Other scenarios (added by analysts without a colour) take one of these, picked by a stable hash of the name.
FALLBACK_COLOURS = ("#E69F00", "#56B4E9", "#CC79A7", "#882255", "#44AA99", "#999933", "#AA4499", "#332288")
# Kinds of police contact: a palette unlike the scenarios' (Paul Tol's "light" scheme), in declaration order.
CONTACT_PALETTE = ("#77AADD", "#EE8866", "#EEDD88", "#44BB99", "#FFAABB", "#99DDFF", "#BBCC33", "#AAAA00")

__all__ = ["RATE_UNIT", "Spec"]


def metric(key: str) -> Metric:
    """The declared metric ``key`` (built-in mechanisms' included)."""
    load_built_in_mechanisms()
    try:
        return REGISTRY[key]
    except KeyError:
        raise KeyError(f"no outcome {key!r} is declared (sim/core/outcomes.py, sim/mechanisms/)") from None


def spec(m: Metric) -> Spec:
    """A metric as a figure panel."""
    if m.kind is Kind.RATE:
        return (m.key, m.short, RATE_UNIT, "rate")
    if m.kind is Kind.SHARE:
        return (m.key, m.short, f"{m.unit} (%)", "share")
    if m.kind is Kind.RRI:
        return (m.key, m.short, "relative rate index (1 = equal rates)", "ratio")
    return (m.key, m.short, m.unit if m.kind is not Kind.COUNT else f"{m.unit} over the days run", "ratio")


def specs(*keys: str) -> tuple[Spec, ...]:
    """The specs of some metrics, by key."""
    return tuple(spec(metric(k)) for k in keys)


def headline() -> tuple[Spec, ...]:
    """The headline rates and shares, by rank."""
    return tuple(spec(m) for m in REGISTRY.headline() if m.kind in (Kind.RATE, Kind.SHARE))


def headline_rri() -> tuple[Spec, ...]:
    """The headline relative rate indices, by rank."""
    return tuple(spec(m) for m in REGISTRY.headline() if m.kind is Kind.RRI)


def headline_counts() -> tuple[tuple[str, str], ...]:
    """The counts behind the headline rates (``crime_records`` for ``crime_records_per_1000``), with titles."""
    out = []
    for m in REGISTRY.headline():
        count = m.key.removesuffix("_per_1000")
        if m.kind is Kind.RATE and count in REGISTRY:
            out.append((count, REGISTRY[count].short))
    return tuple(out)


def contact_types() -> list[Counted]:
    """The kinds of police contact, in declaration order."""
    return list(REGISTRY.contact_types)


def contact_colour(kind: Counted) -> str:
    """A kind of contact's colour."""
    return CONTACT_PALETTE[(kind.contact_index or 0) % len(CONTACT_PALETTE)]


@cache
def scenario_files() -> dict[str, dict[str, Any]]:
    """The scenarios in ``conf/scenario/``, name -> the file's top-level settings (name, description, colour)."""
    out = {}
    for path in sorted((CONF_DIR / "scenario").glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        out[path.stem] = {k: v for k, v in data.items() if k != "defaults"}
    return out


def scenario_colour(name: str) -> str:
    """A scenario's colour: its file's ``colour``, or a stable hashed pick for a scenario without one."""
    colour = scenario_files().get(str(name), {}).get("colour")
    if colour:
        return str(colour)
    return FALLBACK_COLOURS[zlib.crc32(str(name).encode()) % len(FALLBACK_COLOURS)]
