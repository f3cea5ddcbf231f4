"""The layout of run and sweep folders: the files a run and a sweep write, which analysis reads.

A run folder holds ``metrics.json`` (written last: its presence marks a finished run), ``daily.parquet``,
``yearly.parquet`` (a run of more than one school year), ``run.json`` (how the run went: overrides, configuration
hash, status, seconds) or ``error.json`` (why it failed).
A sweep folder holds ``sweep.json`` (the plan and the environment) and one run folder per job.
"""

from __future__ import annotations

import os

from sim.core.paths import ROOT

METRICS_FILE = "metrics.json"
DAILY_FILE = "daily.parquet"
YEARLY_FILE = "yearly.parquet"
RUN_FILE = "run.json"
ERROR_FILE = "error.json"
SWEEP_FILE = "sweep.json"


def environment_summary() -> dict[str, str]:
    """Versions and commit for reports."""
    import importlib.metadata as md
    import platform
    import subprocess

    versions = {"python": platform.python_version()}
    for pkg in ("mesa", "hydra-core", "numpy", "pandas", "seaborn", "pydantic"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "not installed"
    try:
        root = ROOT
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        versions["git_commit"] = (commit + ("-dirty" if dirty else "")) or "unknown"
    except (OSError, subprocess.SubprocessError):
        versions["git_commit"] = "unknown"
    versions["host_cpus"] = str(os.cpu_count())
    return versions
