"""Run one simulation and write what it produced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.core.config import SimConfig
from sim.core.model import BoroughModel


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


SUMMARY_ROWS = [
    ("students", "Students", "{:,.0f}"),
    ("incidents", "Incidents (school + school run)", "{:,.0f}"),
    ("serious_incidents", "Serious incidents", "{:,.0f}"),
    ("serious_incidents_appropriate_response_share", "  share with an appropriate response", "{:.1%}"),
    ("police_contacts_per_1000", "Police contacts per 1,000 students", "{:,.1f}"),
    ("police_contacts_presence_per_1000", "  presence", "{:,.1f}"),
    ("police_contacts_incident_response_per_1000", "  incident response", "{:,.1f}"),
    ("police_contacts_lesson_per_1000", "  lessons", "{:,.1f}"),
    ("police_contacts_points_activity_per_1000", "  points activities", "{:,.1f}"),
    ("police_contacts_corridor_stop_per_1000", "  corridor stops", "{:,.1f}"),
    ("crime_records_per_1000", "Crime records per 1,000 students", "{:,.2f}"),
    ("unnecessary_crime_records_per_1000", "Unnecessary crime records per 1,000", "{:,.2f}"),
    ("unnecessary_share", "  share of records that were unnecessary", "{:.1%}"),
    ("rri_police_contacts", "RRI, police contacts (over-policed / other)", "{:.2f}"),
    ("rri_crime_records", "RRI, crime records", "{:.2f}"),
    ("exclusions_per_1000", "Exclusions per 1,000 students", "{:,.1f}"),
    ("unmet_youth_work_referrals", "Unmet youth-work referrals", "{:,.0f}"),
    ("unmet_mental_health_referrals", "Unmet mental-health referrals", "{:,.0f}"),
    ("teacher_police_work_hours", "Teacher hours on police-like work", "{:,.0f}"),
    ("officer_hours", "Officer hours", "{:,.0f}"),
    ("points_spent", "Points spent (all schools)", "{:,.0f}"),
]


def summary_table(metrics: dict[str, Any]) -> str:
    """A readable table of the headline outcomes (per school year)."""
    title = f"{metrics['scenario']} | borough {metrics['borough']} | seed {metrics['seed']} | {metrics['days']} days"
    width = max(len(label) for _, label, _ in SUMMARY_ROWS) + 2
    lines = [title, "-" * len(title)]
    for key, label, fmt in SUMMARY_ROWS:
        value = metrics.get(key)
        shown = "n/a" if value is None else fmt.format(value)
        lines.append(f"{label:<{width}}{shown:>14}")
    return "\n".join(lines)
