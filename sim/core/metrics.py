"""A run's outcomes, as the registry declares them: the school-year metrics, the daily table, the live reporters.

Rates (``*_per_1000``) are per 1,000 students per school year: counts over the days run, scaled to a 190-day
school year (over several school years, per student-year: the students of each year weighted by its days). A value
that cannot be computed (a ratio over zero) is ``None`` (``null`` in JSON). :func:`yearly_rows` gives the same
count-derived outcomes for each school year of a run (``yearly.parquet``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.core.borough import PHASE_NAMES
from sim.core.incidents import SCHOOL_YEAR_DAYS
from sim.core.mechanism import BUILT_IN_MECHANISMS
from sim.core.outcomes import CORE, GROUPS, REGISTRY, Derive, Hours, Kind, Metric, OutcomeRegistry, Totals

if TYPE_CHECKING:
    import pandas as pd

    from sim.core.model import BoroughModel


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def totals(model: BoroughModel, counts: np.ndarray, days: int, first: int = 0) -> Totals:
    """Counts summed over days and schools, ``(counter, group)``, with the population they are rates of.

    Args:
        model: the model.
        counts: the counts summed over the days ``first`` to ``first + days``.
        days: the days counted.
        first: the first day counted.
    """
    pairs = [(float(a), float(b)) for a, b in counts.tolist()]
    pairs += [(0.0, 0.0)] * (len(REGISTRY.counters) - len(pairs))  # declared after this model was built: never counted
    scale = SCHOOL_YEAR_DAYS / days if days else float("nan")  # no day run: rates are undefined (null)
    return Totals(pairs, int(model.population.n), students_by_group(model, first, first + days), scale)


def students_by_group(model: BoroughModel, first: int, last: int) -> tuple[float, float]:
    """Students (not over-policed, over-policed) over the days ``first`` to ``last``: the rates' denominators.

    Within one school year, the year's students (whole numbers). Over several, the mean of the school years'
    students weighted by their days counted, so that a rate is per student-year (the borough's intake changes
    the groups' sizes a little each school year).
    """
    years = model.school_years
    if len(years) == 1 or last <= first:
        return years[0][1] if len(years) == 1 else years[-1][1]
    other = over = 0.0
    within = []
    for y, (start, groups) in enumerate(years):
        end = years[y + 1][0] if y + 1 < len(years) else max(last, start)
        overlap = min(end, last) - max(start, first)
        if overlap > 0:
            within.append(groups)
            other += overlap * groups[0]
            over += overlap * groups[1]
    if len(within) == 1:
        return within[0]
    return other / (last - first), over / (last - first)


def school_year_ranges(days: int) -> list[tuple[int, int]]:
    """The days (first, one past the last) of each school year in ``days`` school days; the last may be partial."""
    return [(first, min(days, first + SCHOOL_YEAR_DAYS)) for first in range(0, days, SCHOOL_YEAR_DAYS)]


def reported(model: BoroughModel, registry: OutcomeRegistry = REGISTRY) -> list[Metric]:
    """The metrics a run reports.

    The model's own, every built-in mechanism's (zero or null where the mechanism is not in the run, so that every
    scenario reports the same keys), and those of the run's other mechanisms.
    """
    owners = {CORE, *BUILT_IN_MECHANISMS, *model.policing.names}
    return [metric for metric in registry if metric.owner in owners]


def year_metrics(model: BoroughModel) -> dict[str, Any]:
    """The run's outcomes per 1,000 students per school year, overall and by group, as one flat dict."""
    days_run = model.day
    t = totals(model, model.ledger.counts[:days_run].sum(axis=(0, 1)), days_run)
    mechanism_values = model.policing.metrics()
    out: dict[str, Any] = {
        "scenario": model.config.scenario.name,
        "borough": model.config.borough.name,
        "seed": model.config.seed,
        "days": days_run,
        "students": t.students,
        "students_over_policed": t.students_by_group[1],
        "schools": model.borough.n_schools,
    }
    for metric in reported(model):
        key = metric.key
        derive = REGISTRY.derived.get(key)
        if derive is not None:
            out[key] = derive(t)
            continue
        compute = REGISTRY.compute_fns.get(key)
        out[key] = compute(model) if compute is not None else mechanism_values.get(key)
    return {k: _clean(v) for k, v in out.items()}


def yearly_rows(model: BoroughModel) -> list[dict[str, Any]]:
    """One row per school year run: the count-derived outcomes over that year's days and that year's students.

    The same registry derivations as :func:`year_metrics`, over one school year's counts: every count, rate per
    1,000 students per school year, share and RRI the run reports, so every headline outcome (a headline outcome
    that is not derived from counts would be null: there is none). With them, the year's students, and the
    children who joined the borough at its start and who left it at the end of the year before
    (``BoroughModel.school_year_flows``).
    """
    counts = model.ledger.counts
    keys = [m for m in reported(model) if m.key in REGISTRY.derived or m.headline]
    rows = []
    for year, (first, last) in enumerate(school_year_ranges(model.day)):
        t = totals(model, counts[first:last].sum(axis=(0, 1)), last - first, first)
        row: dict[str, Any] = {
            "scenario": model.config.scenario.name,
            "borough": model.config.borough.name,
            "seed": model.config.seed,
            "school_year": year + 1,
            "first_day": first,
            "days": last - first,
            "students": t.students,
            "students_over_policed": t.students_by_group[1],
        }
        row |= model.school_year_flows[year]
        for metric in keys:
            derive = REGISTRY.derived.get(metric.key)
            row[metric.key] = derive(t) if derive is not None else None
        rows.append({k: _clean(v) for k, v in row.items()})
    return rows


def yearly_frame(model: BoroughModel) -> pd.DataFrame:
    """:func:`yearly_rows` as a DataFrame (``yearly.parquet``): one row per school year, in order."""
    import pandas as pd

    frame = pd.DataFrame(yearly_rows(model))
    for key in frame.columns:
        if frame[key].isna().all() and key in REGISTRY:  # an outcome null in every year: a float column, not object
            frame[key] = frame[key].astype(float)
    return frame


RUN_LABELS: dict[str, tuple[Kind, str, str]] = {
    "scenario": (Kind.LABEL, "Scenario", "The scenario (policing model) run."),
    "borough": (Kind.LABEL, "Borough", "The borough configuration."),
    "seed": (Kind.LABEL, "Seed", "The seed of every random stream."),
    "days": (Kind.LABEL, "School days", "School days simulated."),
    "students": (Kind.COUNT, "Students", "Students in the borough."),
    "students_over_policed": (
        Kind.COUNT,
        "Students from over-policed communities",
        "Of the students (over several school years, the mean of the years' weighted by their days).",
    ),
    "schools": (Kind.COUNT, "Schools", "Schools in the borough."),
}
"""The keys that say what was run, first in every ``metrics.json``."""


def _reporter(derive: Derive) -> Callable[[BoroughModel], Any]:
    """A DataCollector reporter of a count-derived metric, from the ledger's running totals."""
    return lambda m: _clean(derive(m.running_totals()))


def running_reporters() -> dict[str, Callable[[BoroughModel], Any]]:
    """Mesa DataCollector reporters: the day, the headline rates, shares and RRIs, and more counts.

    With the headline rates come their counts and group rates, and the counts shown in the run summary. They read
    the ledger's running totals (up to the last finished day), so they cost microseconds per step, and their values
    on the last day are those of :func:`year_metrics`.
    """
    reporters: dict[str, Callable[[BoroughModel], Any]] = {"day": lambda m: m.day}
    wanted = [m for m in REGISTRY if m.key in REGISTRY.derived and (m.headline or (m.summary and m.kind is Kind.COUNT))]
    keys = [m.key for m in wanted]
    for m in wanted:  # a headline rate's count and group rates too (crime_records beside crime_records_per_1000)
        count = m.key.removesuffix("_per_1000")
        if m.kind is not Kind.RATE or count == m.key:
            continue
        for key in (count, *(f"{m.key}_{group}" for group in GROUPS)):
            if key in REGISTRY.derived and key not in keys:
                keys.append(key)
    for key in keys:
        derive = REGISTRY.derived[key]
        reporters[key] = _reporter(derive)
    return reporters


def daily_frame(model: BoroughModel) -> pd.DataFrame:
    """One row per day per school: every counted outcome (total and by group) and the hours of work.

    Counts are int32 (a day's count at one school fits easily), phase and scenario categorical: a small frame to
    write for every run of a sweep and to concatenate over thousands of runs.
    """
    import pandas as pd

    days_run = model.day
    ledger = model.ledger
    n_schools = model.borough.n_schools
    counts = ledger.counts[:days_run].reshape(days_run * n_schools, ledger.n_counters, 2)
    day = np.repeat(np.arange(days_run, dtype=np.int32), n_schools)
    school = np.tile(np.arange(n_schools, dtype=np.int32), days_run)
    phase = model.borough.school_phase[school]
    present = np.unique(phase)  # categories: the phases present, as astype("category") would give
    columns: dict[str, Any] = {
        "scenario": pd.Categorical.from_codes(
            np.zeros(len(day), dtype=np.int8), pd.Index([model.config.scenario.name])
        ),
        "seed": model.config.seed,
        "day": day,
        "school": school,
        "phase": pd.Categorical.from_codes(
            np.searchsorted(present, phase).astype(np.int8), pd.Index([PHASE_NAMES[p] for p in present])
        ),
    }
    for counter in ledger.counters:
        by_group = [counts[:, counter, g] for g in range(len(GROUPS))]
        columns[counter.name] = by_group[0] + by_group[1]
        for group, values in zip(GROUPS, by_group, strict=True):
            columns[f"{counter.name}_{group}"] = values
    for slot, name in enumerate(Hours.NAMES):
        columns[name] = ledger.hours[:days_run, :, slot].reshape(-1)
    return pd.DataFrame(columns)
