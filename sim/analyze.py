"""``python -m sim.analyze SWEEP_DIR``: aggregate a sweep (finished, partial or with failed runs) and report it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.core.model import quiet_mesa


def main(argv: list[str] | None = None) -> int:
    """Aggregate a sweep directory: tables, figures and report.md; list failed and missing runs."""
    parser = argparse.ArgumentParser(prog="python -m sim.analyze", description=__doc__)
    parser.add_argument("sweep_dir", type=Path, help="the sweep directory (hydra.sweep.dir)")
    parser.add_argument("--baseline", help="baseline scenario for paired differences (default: the experiment's)")
    parser.add_argument("--no-plots", action="store_true", help="skip the figures")
    args = parser.parse_args(argv)
    quiet_mesa()
    if not args.sweep_dir.is_dir():
        print(f"error: no sweep directory at {args.sweep_dir}", file=sys.stderr)
        return 2
    from sim.analysis.aggregate import aggregate_and_report

    result = aggregate_and_report(args.sweep_dir, baseline=args.baseline, plots=not args.no_plots)
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
