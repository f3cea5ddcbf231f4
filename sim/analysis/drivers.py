"""What drives each difference from the baseline: a leave-one-out decomposition over the sweep's mechanisms.

A leave-one-out run is a run of a scenario without some of its mechanisms (``scenario.without``), on the same
seed as the full run, so the two see the same children and the same draws (common random numbers). For an
outcome Y, a scenario S and a mechanism M of S:

* the line of M is ``Y(S) - Y(S without M)``: what leaving M out changes, with the rest of S in place. A mechanism
  that others need (``requires``) is left out with them; its line is then what leaving out the whole set changes,
  less the lines of the others in the set (their own leave-one-out lines), so that each mechanism is counted once.
* the difference of S from the baseline B is ``Y(S) - Y(B)``. It is split into S's lines, minus the lines of B's
  own mechanisms (those B has and S may not: leaving them out of B gives the same bare borough as leaving S's out
  of S), and a rest: ``rest = (Y(S) - Y(B)) - sum of S's lines + sum of B's lines``. The rest is what the lines
  do not add up to: the mechanisms' interactions (an effect of one that depends on another is counted in both
  lines, or in neither).

Each quantity is computed seed by seed and then averaged, with a t-interval over the seeds that have every term
(:func:`sim.analysis.stats.mean_ci`). A run without some mechanisms is filed under the first mechanism it leaves
out (the sweeper lists the mechanism first, then those that need it).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.analysis.stats import mean_ci

WITHOUT_COLUMN = "without"
"""runs.parquet: the mechanisms a leave-one-out run left out, joined by ", " ("" for a full run)."""
MECHANISMS_COLUMN = "mechanisms"
"""runs.parquet: the mechanisms a run ran, joined by ", " (after any left out)."""
SEPARATOR = ", "

TERM_DIFFERENCE = "difference"  # Y(S) - Y(B)
TERM_MECHANISM = "mechanism"  # the line of one of S's mechanisms
TERM_BASELINE = "baseline mechanism"  # minus the line of one of B's mechanisms
TERM_REST = "interactions"  # the rest
TERMS = (TERM_DIFFERENCE, TERM_MECHANISM, TERM_BASELINE, TERM_REST)
COLUMNS = ["scenario", "term", "mechanism", "removed", "outcome", "mean", "ci_low", "ci_high", "n", "seeds"]


def names_left_out(value: Any) -> list[str]:
    """The ``scenario.without`` of a run as a list of names, from its config (a list, or a list as text)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            return [value]
    if isinstance(value, list | tuple | np.ndarray):
        return [str(v) for v in value]
    return [str(value)] if value else []


def mechanisms_ran(config: dict[str, Any]) -> list[str]:
    """The mechanisms a run's configuration ran: the scenario's, less those left out."""
    scenario = config.get("scenario") or {}
    left_out = set(scenario.get("without") or [])
    return [m for m in (scenario.get("mechanisms") or {}) if m not in left_out]


def _per_seed(runs: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """One row per seed (averaging duplicates), the metrics as columns."""
    return runs.groupby("seed")[metrics].mean()


def _lines(full: pd.DataFrame, variants: dict[tuple[str, ...], pd.DataFrame]) -> dict[str, tuple[str, pd.DataFrame]]:
    """Each mechanism's line, seed by seed: mechanism -> (what its run left out, per-seed frame).

    ``variants`` maps what a run left out (its first name the mechanism it is for) to its per-seed frame. The line
    of a set's first mechanism is the set's effect less the lines of the set's other mechanisms; a line that needs
    another line that is missing is NaN.
    """
    lines: dict[str, tuple[str, pd.DataFrame]] = {}
    for removed in sorted(variants, key=len):
        target = removed[0]
        if target in lines:  # two different sets filed under one mechanism: keep the smaller
            continue
        line = full - variants[removed]
        for other in removed[1:]:
            line = line - lines[other][1] if other in lines else line * np.nan
        lines[target] = (SEPARATOR.join(removed), line)
    return lines


def _group(runs: pd.DataFrame, setting: dict[str, Any]) -> pd.DataFrame:
    mask = np.ones(len(runs), dtype=bool)
    for k, v in setting.items():
        mask &= (runs[k].astype(str) == str(v)).to_numpy()
    return runs[mask]


def contributions(
    runs: pd.DataFrame,
    ablation: pd.DataFrame,
    factors: list[str],
    metrics: list[str],
    baseline: str | None,
) -> pd.DataFrame:
    """The decomposition of each scenario's difference from the baseline, one row per term and outcome.

    Args:
        runs: the full runs (one per scenario, setting and seed).
        ablation: the leave-one-out runs, with the column ``without`` (names joined by ", ").
        factors: the swept settings, ``scenario`` first; the others are matched as the summary matches them.
        metrics: the outcomes to decompose.
        baseline: the baseline scenario (None: only each mechanism's line, with no difference and no rest).

    Returns:
        Columns ``scenario``, the other factors, ``term`` (difference, mechanism, baseline mechanism,
        interactions), ``mechanism``, ``removed`` (what the leave-one-out run left out), ``outcome``, ``mean``,
        ``ci_low``, ``ci_high``, ``n`` (seeds with every term) and ``seeds`` (those seeds, as a JSON list). A
        baseline mechanism's line is given with the sign it enters the sum with (minus its line in the baseline).
    """
    others = [f for f in factors if f != "scenario"]
    columns = [*COLUMNS[:1], *others, *COLUMNS[1:]]
    if ablation.empty or runs.empty or not metrics:
        return pd.DataFrame(columns=columns)
    rows: list[dict[str, Any]] = []
    settings = runs[["scenario", *others]].drop_duplicates()
    cache: dict[tuple[str, ...], tuple[pd.DataFrame, dict[str, tuple[str, pd.DataFrame]], bool]] = {}

    def parts(setting: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, tuple[str, pd.DataFrame]], bool]:
        """The full runs' per-seed frame, the lines, and whether the scenario ran any mechanism."""
        key = tuple(str(setting[k]) for k in ["scenario", *others])
        if key not in cache:
            full_runs = _group(runs, setting)
            variants = {}
            for without, group in _group(ablation, setting).groupby(WITHOUT_COLUMN):
                variants[tuple(str(without).split(SEPARATOR))] = _per_seed(group, metrics)
            has_mechanisms = (
                bool(full_runs[MECHANISMS_COLUMN].astype(str).str.len().gt(0).any())
                if MECHANISMS_COLUMN in full_runs
                else True
            )
            full = _per_seed(full_runs, metrics)
            cache[key] = (full, _lines(full, variants), has_mechanisms)
        return cache[key]

    for _, row in settings.iterrows():
        setting = {k: row[k] for k in ["scenario", *others]}
        full, lines, _ = parts(setting)
        if not lines:
            continue
        terms: list[tuple[str, str, str, pd.DataFrame]] = [
            (TERM_MECHANISM, m, removed, line) for m, (removed, line) in lines.items()
        ]
        if baseline is not None and setting["scenario"] != baseline:
            base_full, base_lines, base_has = parts(setting | {"scenario": baseline})
            if not base_full.empty and (base_lines or not base_has):
                terms = [(TERM_DIFFERENCE, "", "", full - base_full), *terms]
                terms += [(TERM_BASELINE, m, removed, -line) for m, (removed, line) in base_lines.items()]
                rest = terms[0][3] - sum((t[3] for t in terms[1:]), start=full * 0)
                terms.append((TERM_REST, "", "", rest))
        elif baseline is not None:
            continue  # the baseline's own lines are given, with their sign, in each other scenario's rows
        for metric in metrics:
            frame = pd.concat([t[3][metric].rename(i) for i, t in enumerate(terms)], axis=1)
            frame = frame[np.isfinite(frame).all(axis=1)]
            seeds = json.dumps([int(s) for s in frame.index])
            for i, (term, mechanism, removed, _frame) in enumerate(terms):
                n, mean, _sd, lo, hi = mean_ci(frame[i].to_numpy(dtype=float))
                rows.append(
                    setting
                    | {
                        "term": term,
                        "mechanism": mechanism,
                        "removed": removed,
                        "outcome": metric,
                        "mean": mean,
                        "ci_low": lo,
                        "ci_high": hi,
                        "n": n,
                        "seeds": seeds,
                    }
                )
    return pd.DataFrame(rows, columns=columns)
