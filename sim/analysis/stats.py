"""Means with 95% confidence intervals, and paired differences from a baseline scenario over the same seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95


def mean_ci(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[int, float, float, float, float]:
    """The mean of the finite values with its t-based confidence interval.

    The interval is ``mean ± t(1 - alpha/2, n - 1) * sd / sqrt(n)`` (``scipy.stats.t`` and ``scipy.stats.sem``).
    NaN and infinite values are dropped first.

    Args:
        values: the values (e.g. one metric over seeds).
        confidence: the interval's coverage, 0.95 for a 95% interval.

    Returns:
        n, mean, standard deviation (ddof=1), lower and upper bound. The mean is NaN when n = 0; the standard
        deviation and the bounds are NaN when n < 2. With no variation the interval is the mean itself.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return 0, np.nan, np.nan, np.nan, np.nan
    mean = float(x.mean())
    if n < 2:
        return n, mean, np.nan, np.nan, np.nan
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * stats.sem(x))
    return n, mean, sd, mean - half, mean + half


def summarise(runs: pd.DataFrame, factors: list[str], metrics: list[str], baseline: str | None) -> pd.DataFrame:
    """One row per (setting, metric): mean and 95% CI; and, against ``baseline``, the paired difference.

    The paired difference matches each run to the baseline run with the same seed and the same other settings
    (common random numbers), so it is far more precise than the difference of two independent means.
    """
    others = [f for f in factors if f != "scenario"]
    rows = []
    group_keys = ["scenario", *others]
    for key, group in runs.groupby(group_keys, dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        setting = dict(zip(group_keys, key, strict=True))
        base = None
        if baseline is not None:
            mask = runs["scenario"] == baseline
            for f in others:
                mask &= runs[f].astype(str) == str(setting[f])
            base = runs[mask].set_index("seed")
        for metric in metrics:
            n, mean, sd, lo, hi = mean_ci(group[metric].to_numpy(dtype=float))
            row = setting | {
                "metric": metric,
                "n": n,
                "mean": mean,
                "sd": sd,
                "ci_low": lo,
                "ci_high": hi,
                "ci_half_width": (hi - lo) / 2 if np.isfinite(lo) else np.nan,
                "baseline": baseline,
            }
            if base is not None and not base.empty:
                paired = group.set_index("seed")[metric].astype(float) - base[metric].astype(float)
                paired = paired.dropna()
                dn, dmean, _, dlo, dhi = mean_ci(paired.to_numpy())
                row |= {"diff_n": dn, "diff_mean": dmean, "diff_ci_low": dlo, "diff_ci_high": dhi}
            else:
                row |= {"diff_n": 0, "diff_mean": np.nan, "diff_ci_low": np.nan, "diff_ci_high": np.nan}
            rows.append(row)
    return pd.DataFrame(rows)


def seeds_needed(half_width: float, target: float, n: int) -> int | None:
    """Seeds needed to bring a 95% CI half-width down to ``target`` (CI shrinks as 1/sqrt(n))."""
    if not np.isfinite(half_width) or half_width <= 0 or target <= 0 or n < 2:
        return None
    return int(np.ceil(n * (half_width / target) ** 2))
