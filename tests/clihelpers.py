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
