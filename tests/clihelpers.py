"""Run ``python -m sim`` in subprocesses (several at once: the runs are independent)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli_command(run_dir: Path, *overrides: str) -> list[str]:
    return [sys.executable, "-m", "sim", *overrides, f"hydra.run.dir={run_dir}"]


def run_cli_parallel(
    jobs: dict[str, tuple[Path, list[str]]], timeout: float = 300
) -> dict[str, subprocess.CompletedProcess]:
    """Start every job, then wait for all; returns CompletedProcess-like results by job name."""
    procs = {
        name: subprocess.Popen(
            cli_command(run_dir, *overrides),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (run_dir, overrides) in jobs.items()
    }
    results = {}
    for name, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        results[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return results


def make_sweep_folder(path):
    """A small sweep folder as the results tab of the view reads it: report, summary table, one figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    (path / "figures").mkdir(parents=True)
    rows = [
        {"scenario": s, "metric": m, "n": 3, "mean": v}
        for s, m, v in [
            ("no_police", "police_contacts_per_1000", 34.4),
            ("no_police", "crime_records_per_1000", 9.4),
            ("hackney_pilot", "police_contacts_per_1000", 612.0),
            ("hackney_pilot", "crime_records_per_1000", 11.0),
        ]
    ]
    pd.DataFrame(rows).to_csv(path / "summary.csv", index=False)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["no_police", "hackney_pilot"], [34.4, 612.0])
    fig.savefig(path / "figures" / "outcomes.png")
    plt.close(fig)
    (path / "report.md").write_text(
        "# Sweep report: test\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![Outcomes](figures/outcomes.png)\n"
        "![Missing](figures/none.png)\n"
    )
    return path
