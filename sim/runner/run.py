"""Run one simulation and write what it produced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.analysis.folders import DAILY_FILE, METRICS_FILE, YEARLY_FILE, atomic_path, write_atomic
from sim.core.config import SimConfig
from sim.core.incidents import SCHOOL_YEAR_DAYS
from sim.core.model import BoroughModel
from sim.core.outcomes import REGISTRY, Metric


def run_simulation(config: SimConfig) -> BoroughModel:
    """Build the model and run it for ``config.days`` school days."""
    model = BoroughModel(config)
    model.run_for(config.days)
    return model


def write_outputs(model: BoroughModel, out_dir: Path) -> dict[str, Path]:
    """Write a run's files into ``out_dir``, each whole or not at all (a temporary file renamed into place).

    ``metrics.json`` (one flat object), ``daily.parquet`` if configured (``output.daily``), and ``yearly.parquet``
    (one row per school year) when the run spans more than one school year: for a run of one school year or less,
    its one row would repeat ``metrics.json``. The caller records them in ``run.json``
    (:func:`sim.analysis.folders.record_run`), which marks the run finished.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"metrics": out_dir / METRICS_FILE}
    metrics = model.metrics()
    text = json.dumps(metrics, indent=2, allow_nan=False) + "\n"
    if model.config.output.daily:
        paths["daily"] = out_dir / DAILY_FILE
        with atomic_path(paths["daily"]) as tmp:
            model.daily().to_parquet(tmp, index=False)
    if model.day > SCHOOL_YEAR_DAYS:
        paths["yearly"] = out_dir / YEARLY_FILE
        with atomic_path(paths["yearly"]) as tmp:
            model.yearly().to_parquet(tmp, index=False)
    write_atomic(paths["metrics"], text)
    return paths


def summary_rows() -> list[Metric]:
    """The metrics shown after a single run: those declared with ``summary=True``, in declaration order."""
    return [m for m in REGISTRY if m.summary]


def summary_table(metrics: dict[str, Any]) -> str:
    """A readable table of the run's main outcomes (per school year), as the outcome registry declares them."""
    title = f"{metrics['scenario']} | borough {metrics['borough']} | seed {metrics['seed']} | {metrics['days']} days"
    rows = [("Students", f"{metrics['students']:,}")]
    rows += [(m.label, m.format(metrics.get(m.key))) for m in summary_rows() if m.key in metrics]
    width = max(len(label) for label, _ in rows) + 2
    lines = [title, "-" * len(title)]
    lines += [f"{label:<{width}}{shown:>14}" for label, shown in rows]
    return "\n".join(lines)
