"""Analysis of sweeps: aggregation, statistics, plots and reports."""
