"""Run one simulation and write what it produced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.core.config import SimConfig
from sim.core.model import BoroughModel
from sim.core.outcomes import REGISTRY, Metric


def run_simulation(config: SimConfig) -> BoroughModel:
    """Build the model and run it for ``config.days`` school days."""
    model = BoroughModel(config)
    model.run_for(config.days)
    return model


def write_outputs(model: BoroughModel, out_dir: Path) -> dict[str, Path]:
    """Write ``metrics.json`` (one flat object) and, if configured, ``daily.parquet`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"metrics": out_dir / "metrics.json"}
    metrics = model.metrics()
    tmp = paths["metrics"].with_suffix(".json.tmp")
    tmp.write_text(json.dumps(metrics, indent=2, allow_nan=False) + "\n")
    if model.config.output.daily:
        paths["daily"] = out_dir / "daily.parquet"
        model.daily().to_parquet(paths["daily"], index=False)
    tmp.replace(paths["metrics"])  # metrics.json last: its presence marks a finished run
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
