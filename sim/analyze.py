"""``python -m sim.analyze SWEEP_DIR``: aggregate a sweep (finished, partial or with failed runs) and report it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.core.model import quiet_mesa


def main(argv: list[str] | None = None) -> int:
    """Aggregate a sweep directory: tables, figures and report.md; list failed and missing runs.

    Exits 0 when no run failed (runs not done yet are listed as missing), 1 when a run failed, 2 when there is
    nothing to aggregate or the folder cannot be read (one line naming the file).
    """
    parser = argparse.ArgumentParser(prog="python -m sim.analyze", description=__doc__)
    parser.add_argument("sweep_dir", type=Path, help="the sweep directory (hydra.sweep.dir)")
    parser.add_argument("--baseline", help="baseline scenario for paired differences (default: the experiment's)")
    parser.add_argument("--no-plots", action="store_true", help="skip the figures")
    parser.add_argument(
        "--all-runs",
        action="store_true",
        help="aggregate every run folder in the directory, not only the jobs of the last sweep's plan (sweep.json)",
    )
    args = parser.parse_args(argv)
    quiet_mesa()
    if not args.sweep_dir.is_dir():
        print(f"error: no sweep directory at {args.sweep_dir}", file=sys.stderr)
        return 2
    from sim.analysis.aggregate import aggregate_and_report, read_meta
    from sim.analysis.folders import RUN_FILE, SWEEP_FILE, FolderInUseError, RunFileError, SweepLock

    try:
        meta = read_meta(args.sweep_dir)
    except RunFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not meta and not any(args.sweep_dir.glob(f"*/{RUN_FILE}")):
        print(
            f"error: {args.sweep_dir} holds no sweep: no {SWEEP_FILE} and no run folder with a {RUN_FILE}",
            file=sys.stderr,
        )
        return 2
    try:
        with SweepLock(args.sweep_dir):
            result = aggregate_and_report(
                args.sweep_dir, baseline=args.baseline, plots=not args.no_plots, every_run=args.all_runs
            )
    except (FolderInUseError, RunFileError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
