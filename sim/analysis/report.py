"""``report.md`` for a sweep: what ran, outcomes with 95% CIs, paired differences, figures, precision.

The report states numbers and how sure they are; it draws no conclusions the numbers do not show. Every table
is built from the same ``summary`` the figures use.
"""

from __future__ import annotations

import contextlib
import json
import math
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis.aggregate import seeds_needed
from sim.analysis.plots import HEADLINE, RATE_UNIT, RRI, scenario_order
from sim.core.incidents import SCHOOL_YEAR_DAYS
from sim.analysis.folders import RUN_FILE, environment_summary

if TYPE_CHECKING:
    from sim.analysis.aggregate import SweepResult

REPORT_FILE = "report.md"
NA = "\N{EN DASH}"  # a value that cannot be given
DASH = "\N{EN DASH}"  # ranges: 0-3
TARGET_RELATIVE_HALF_WIDTH = 0.10  # precision target: a 95% CI half-width of 10% of the mean

SHARE_UNNECESSARY = (("unnecessary_share", "Unnecessary share of all records", "share of crime records (%)", "share"),)
RRI_UNNECESSARY = (("rri_unnecessary_crime_records", "RRI: unnecessary crime records", "relative rate index", "ratio"),)

FIGURE_CAPTIONS: dict[str, tuple[str, str]] = {
    "outcomes": (
        "Outcomes by scenario",
        "Mean of each headline outcome with its 95% confidence interval over seeds; faint dots are single "
        "seeds. Each panel has its own scale.",
    ),
    "contacts_by_type": (
        "Police contacts by type",
        f"Mean police contacts {RATE_UNIT}, stacked by type (left), and each scenario's mix of types (right).",
    ),
    "paired_differences": (
        "Paired differences from the baseline",
        "Each scenario minus the baseline run with the same seed (same borough, same children), mean and "
        "95% CI. An interval that crosses the zero line is compatible with no difference.",
    ),
    "school_year": (
        "Through the school year",
        "Cumulative counts per 1,000 students by school day (not annualised): mean over seeds with a 95% band.",
    ),
    "disproportionality": (
        "Disproportionality",
        "Relative rate index: the rate for students from over-policed communities divided by the rate for "
        "other students (dashed line: equal rates). With few events per run the index is noisy.",
    ),
    "heatmap": (
        "The two swept settings",
        "Mean outcome for each combination of the two swept settings, one panel per scenario.",
    ),
    "experiment_metrics": (
        "The experiment's own outcomes",
        "The outcomes this experiment names as the answer to its question (experiment.metrics), mean and 95% CI "
        "by swept setting.",
    ),
}


# ------------------------------------------------------------------------------------------------ numbers


def _decimals(x: float) -> int:
    a = abs(x)
    if not np.isfinite(a) or a == 0:
        return 2
    if a >= 100:
        return 0
    if a >= 10:
        return 1
    if a >= 1:
        return 2
    return max(2, 2 - math.floor(math.log10(a)))


def _f(x: Any, decimals: int, signed: bool = False) -> str:
    if x is None or not np.isfinite(float(x)):
        return NA
    x = float(x)
    if x == 0:
        x = 0.0  # no "-0"
    sign = "+" if signed else ""
    return f"{x:{sign},.{decimals}f}"


def fmt_value(x: Any, kind: str = "rate", signed: bool = False) -> str:
    """One number: rates with sensible precision, shares as %, ratios with two decimals."""
    if x is None or not np.isfinite(float(x)):
        return NA
    if kind == "share":
        return _f(float(x) * 100, 1, signed) + ("%" if not signed else " pp")
    if kind == "ratio":
        return _f(x, 2, signed)
    return _f(x, _decimals(float(x)), signed)


def fmt_ci(mean: Any, low: Any, high: Any, kind: str = "rate", signed: bool = False, clip: bool = False) -> str:
    """``mean [low, high]`` with one number of decimals for all three (no interval when there is none).

    ``clip`` bounds the interval to the metric's natural range (counts, rates and ratios ≥ 0, shares 0-100%):
    a t-interval over few seeds can pass those bounds.
    """
    if mean is None or not np.isfinite(float(mean)):
        return NA
    if clip and low is not None and high is not None and np.isfinite(float(low)) and np.isfinite(float(high)):
        low, high = max(float(low), 0.0), max(float(high), 0.0)
        if kind == "share":
            low, high = min(low, 1.0), min(high, 1.0)
    if kind == "share":
        scale, dec, unit = 100.0, 1, (" pp" if signed else "%")
    elif kind == "ratio":
        scale, dec, unit = 1.0, 2, ""
    else:
        finite = [abs(float(v)) for v in (mean, low, high) if v is not None and np.isfinite(float(v))]
        scale, dec, unit = 1.0, _decimals(max(finite)), ""
    text = _f(float(mean) * scale, dec, signed) + unit
    if low is not None and high is not None and np.isfinite(float(low)) and np.isfinite(float(high)):
        text += f" [{_f(float(low) * scale, dec, signed)}, {_f(float(high) * scale, dec, signed)}]"
    return text


def _md_table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> str:
    align = align or ["l"] + ["r"] * (len(header) - 1)
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks[a] for a in align) + " |"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _code(items: list[str]) -> str:
    return " ".join(f"`{i}`" for i in items) if items else "none"


def _seed_range(seeds: list[int]) -> str:
    """Compact a list of seeds: ``[0, 1, 2, 3, 7]`` -> ``0-3, 7`` (with an en dash)."""
    seeds = sorted(set(seeds))
    parts, start, prev = [], None, None
    for s in seeds:
        if start is None:
            start = prev = s
        elif s == prev + 1:
            prev = s
        else:
            parts.append(f"{start}{DASH}{prev}" if prev != start else f"{start}")
            start = prev = s
    if start is not None:
        parts.append(f"{start}{DASH}{prev}" if prev != start else f"{start}")
    return ", ".join(parts)


# ------------------------------------------------------------------------------------------------ sections


def _others(result: SweepResult) -> list[str]:
    return [f for f in result.factors if f != "scenario"]


def _value_str(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return f"{v:g}"
    return str(v)


def _specs(result: SweepResult, specs: tuple[tuple[str, str, str, str], ...]) -> list[tuple[str, str, str, str]]:
    if result.summary.empty:
        return []
    present = set(result.summary["metric"])
    return [s for s in specs if s[0] in present]


def _setting_rows(result: SweepResult) -> list[tuple[str, dict[str, Any], pd.DataFrame]]:
    """(scenario, other settings, that setting's summary rows) in scenario order, then setting order."""
    others = _others(result)
    summary = result.summary
    out = []
    for s in scenario_order(summary["scenario"], result.baseline):
        sub = summary[summary["scenario"] == s]
        if others:
            keys = sub[others].drop_duplicates()
            for f in reversed(others):
                try:
                    keys = keys.sort_values(f, key=lambda c: c.astype(float), kind="stable")
                except (TypeError, ValueError):
                    keys = keys.sort_values(f, key=lambda c: c.astype(str), kind="stable")
            for _, key in keys.iterrows():
                mask = np.ones(len(sub), dtype=bool)
                for f in others:
                    mask &= (sub[f].astype(str) == str(key[f])).to_numpy()
                out.append((s, key.to_dict(), sub[mask]))
        else:
            out.append((s, {}, sub))
    return out


def _what_ran(result: SweepResult, env: dict[str, str]) -> str:
    meta = result.meta or {}
    experiment = meta.get("experiment") or {}
    runs = result.runs
    planned = f"of {len(meta['jobs'])} planned" if meta.get("jobs") else "planned number not recorded"
    rows: list[list[str]] = []
    if experiment.get("name"):
        base = f" (baseline: `{result.baseline}`)" if result.baseline else ""
        rows.append(["experiment", f"`{experiment['name']}`{base}"])
    elif result.baseline:
        rows.append(["baseline", f"`{result.baseline}`"])
    if meta:
        rows.append(["task overrides", _code(list(meta.get("task_overrides") or []))])
        params = meta.get("sweeper_params") or {}
        rows.append(["sweeper params", _code([f"{k}={v}" for k, v in params.items()])])
    else:
        rows.append(["sweep.json", "not found: the sweep's own record of what was asked for is missing"])
    rows.append(
        [
            "runs",
            f"{len(runs)} finished, {len(result.failed)} failed, {len(result.missing)} missing ({planned})",
        ]
    )
    if not runs.empty:
        seeds = [int(s) for s in runs["seed"].dropna().unique()]
        rows.append(["seeds", f"{_seed_range(seeds)} ({len(seeds)} seed{'s' if len(seeds) != 1 else ''})"])
        scen = scenario_order(runs["scenario"], result.baseline)
        rows.append(["scenarios", ", ".join(f"`{s}`" for s in scen)])
        others = _others(result)
        for f in others:
            vals = sorted(runs[f].dropna().unique(), key=lambda v: (str(type(v)), v))
            rows.append([f"swept: `{f}`", ", ".join(_value_str(v) for v in vals)])
        borough_col = "borough.name" if "borough.name" in runs else "borough" if "borough" in runs else None
        if borough_col:
            borough = ", ".join(sorted(str(b) for b in runs[borough_col].dropna().unique()))
            detail = []
            if "schools" in runs:
                detail.append(_range_text(runs["schools"], "schools"))
            if "students" in runs:
                detail.append(_range_text(runs["students"], "students"))
            rows.append(["borough", f"`{borough}`" + (f" ({', '.join(detail)})" if detail else "")])
        if "days" in runs:
            days = sorted(int(d) for d in runs["days"].dropna().unique())
            note = "" if days == [SCHOOL_YEAR_DAYS] else f"; rates scaled to a {SCHOOL_YEAR_DAYS}-day school year"
            rows.append(["school days per run", ", ".join(str(d) for d in days) + note])
        timing = _timing(result)
        if timing:
            rows.append(["run time", timing])
    versions = ", ".join(f"{k} {v}" for k, v in env.items() if k not in {"git_commit", "host_cpus"})
    rows.append(["software", versions])
    commit = env.get("git_commit", "unknown")
    dirty = " (uncommitted changes in tracked files)" if commit.endswith("-dirty") else ""
    rows.append(["git commit", f"`{commit}`{dirty} at the time of this report"])
    rows.append(["report written", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")])
    return "## What ran\n\n" + _md_table(["", ""], rows, ["l", "l"])


def _range_text(col: pd.Series, what: str) -> str:
    vals = pd.to_numeric(col, errors="coerce").dropna()
    if vals.empty:
        return f"{what}: {NA}"
    lo, hi = int(vals.min()), int(vals.max())
    return f"{lo:,} {what}" if lo == hi else f"{lo:,}{DASH}{hi:,} {what}"


def _timing(result: SweepResult) -> str:
    """When the runs finished and how long they took, from the run directories."""
    seconds, finished = [], []
    for run in result.runs["run"]:
        d = Path(result.sweep_dir) / str(run)
        with contextlib.suppress(OSError, ValueError):
            seconds.append(float(json.loads((d / RUN_FILE).read_text()).get("seconds", np.nan)))
        with contextlib.suppress(OSError):
            finished.append((d / "metrics.json").stat().st_mtime)
    parts = []
    if finished:
        first = datetime.fromtimestamp(min(finished), UTC).strftime("%Y-%m-%d %H:%M:%S")
        last = datetime.fromtimestamp(max(finished), UTC).strftime("%H:%M:%S UTC")
        parts.append(f"runs finished {first}{DASH}{last}")
    secs = [s for s in seconds if np.isfinite(s)]
    if secs:
        parts.append(f"{np.median(secs):.1f} s median per run, {sum(secs):,.0f} s in all")
    return "; ".join(parts)


def _setting_text(setting: dict[str, Any]) -> list[str]:
    return [_value_str(v) for v in setting.values()]


def _outcome_tables(result: SweepResult) -> str:
    others = _others(result)
    head = [*(["scenario"] + [f"`{o}`" for o in others]), "seeds"]
    parts = [
        "## Headline outcomes",
        "",
        f"Mean [95% confidence interval] over seeds. Rates are {RATE_UNIT}; the share is of serious "
        "incidents. A confidence interval needs at least two seeds; it is a t-interval over seeds, shown "
        "clipped to the metric's natural range (no rate below 0, no share above 100%).",
    ]
    for title, specs in (
        ("Volume and safety", _specs(result, HEADLINE + SHARE_UNNECESSARY)),
        (
            "Disproportionality (relative rate index: over-policed ÷ other students; 1 = equal rates)",
            _specs(result, RRI + RRI_UNNECESSARY),
        ),
    ):
        if not specs:
            continue
        rows = []
        for s, setting, sub in _setting_rows(result):
            by_metric = sub.set_index("metric")
            n = int(by_metric["n"].max()) if not by_metric.empty else 0
            row = [f"`{s}`", *_setting_text(setting), str(n)]
            for metric, *_rest, kind in specs:
                if metric in by_metric.index:
                    r = by_metric.loc[metric]
                    row.append(fmt_ci(r["mean"], r["ci_low"], r["ci_high"], kind, clip=True) + _n_note(r["n"], n))
                else:
                    row.append("not reported")
            rows.append(row)
        header = head + [short for _m, short, *_ in specs]
        parts += [
            "",
            f"### {title}",
            "",
            _md_table(header, rows, ["l"] * (1 + len(others)) + ["r"] * (len(header) - 1 - len(others))),
        ]
    return "\n".join(parts)


def _n_note(n: Any, n_max: int) -> str:
    """Flag a metric with fewer values than seeds (a ratio over zero is not a number)."""
    n = int(n)
    if n < n_max:
        return f" (n={n})"
    return ""


def _difference_table(result: SweepResult) -> str:
    parts = ["## Paired differences from the baseline", ""]
    if result.baseline is None:
        parts.append(
            "No baseline scenario in this sweep, so no paired differences (give the experiment a `baseline`, "
            "or run `python -m sim.analyze DIR --baseline SCENARIO`)."
        )
        return "\n".join(parts)
    specs = _specs(result, HEADLINE + RRI)
    others = _others(result)
    parts.append(
        f"Scenario minus `{result.baseline}`, run by run over the same seeds (same borough, same children, "
        "same underlying behaviour), mean [95% CI]. **Bold**: the interval excludes 0. These intervals are "
        "not corrected for multiple comparisons; with few seeds treat them as indicative."
    )
    rows = []
    for s, setting, sub in _setting_rows(result):
        if s == result.baseline:
            continue
        by_metric = sub.set_index("metric")
        n = int(by_metric["diff_n"].max()) if not by_metric.empty else 0
        row = [f"`{s}`", *_setting_text(setting), str(n)]
        for metric, *_rest, kind in specs:
            if metric not in by_metric.index or int(by_metric.loc[metric, "diff_n"]) == 0:
                row.append(NA)
                continue
            r = by_metric.loc[metric]
            lo, hi, m = r["diff_ci_low"], r["diff_ci_high"], r["diff_mean"]
            if m == 0 and (r["diff_n"] == 1 or (lo == 0 and hi == 0)):
                row.append("0 (identical in every seed)")
                continue
            text = fmt_ci(m, lo, hi, kind, signed=True)
            if np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0):
                text = f"**{text}**"
            row.append(text)
        rows.append(row)
    if not rows:
        parts.append("\nNo scenario besides the baseline finished, so there is nothing to compare.")
        return "\n".join(parts)
    header = ["scenario", *[f"`{o}`" for o in others], "pairs"] + [short for _m, short, *_ in specs]
    parts += [
        "",
        _md_table(header, rows, ["l"] * (1 + len(others)) + ["r"] * (len(header) - 1 - len(others))),
    ]
    parts.append(
        f"\nRates: difference {RATE_UNIT}; share: difference in percentage points (pp); RRI: difference in the index."
    )
    return "\n".join(parts)


def _figures_section(result: SweepResult, figures: dict[str, Path]) -> str:
    if not figures:
        return "## Figures\n\nNo figures were drawn (no finished runs, or plotting was switched off)."
    parts = ["## Figures"]
    for name, path in figures.items():
        title, caption = FIGURE_CAPTIONS.get(name, (name.replace("_", " ").capitalize(), ""))
        try:
            rel = Path(path).resolve().relative_to(Path(result.sweep_dir).resolve()).as_posix()
        except ValueError:
            rel = f"figures/{Path(path).name}"
        parts += ["", f"### {title}", "", f"![{title}]({rel})", ""]
        if caption:
            parts.append(caption)
    return "\n".join(parts)


def _seeds_text(half_width: float, target: float, n: int) -> str:
    if n < 2:
        return "n/a (needs ≥ 2 seeds)"
    if not np.isfinite(half_width):
        return "n/a"
    if half_width == 0:
        return "reached (no variation)"
    if target <= 0:
        return "n/a (mean is 0)"
    needed = seeds_needed(half_width, target, n)
    if needed is None:
        return "n/a"
    return f"reached ({n})" if needed <= n else f"{needed:,}"


def _precision_section(result: SweepResult) -> str:
    target_pct = f"{TARGET_RELATIVE_HALF_WIDTH:.0%}"
    parts = [
        "## Precision reached",
        "",
        f"Half-width of the 95% CI of each mean, and the seeds needed for a half-width of {target_pct} of "
        "the mean (CIs shrink as 1/\N{SQUARE ROOT}seeds; an estimate from the spread seen so far, so rough "
        "when there are few seeds).",
    ]
    specs = _specs(result, HEADLINE)
    others = _others(result)
    if not specs:
        return "\n".join([*parts, "", "No headline metric to report."])
    if others:
        parts.append(
            "With other swept settings, each row shows the setting with the widest interval relative to its "
            "mean, so the seeds given are enough for every setting of that scenario."
        )
    rows = []
    summary = result.summary
    for s in scenario_order(summary["scenario"], result.baseline):
        for metric, short, _unit, kind in specs:
            sub = summary[(summary["scenario"] == s) & (summary["metric"] == metric)]
            if sub.empty:
                continue
            rel = (sub["ci_half_width"] / sub["mean"].abs()).replace([np.inf, -np.inf], np.nan)
            r = sub.loc[rel.idxmax()] if rel.notna().any() else sub.iloc[0]
            n, mean, hw = int(r["n"]), float(r["mean"]), float(r["ci_half_width"])
            if kind == "share":
                mean_txt, hw_txt = fmt_value(mean, "share"), f"{hw * 100:.1f} pp" if np.isfinite(hw) else NA
            else:
                mean_txt = fmt_value(mean, kind)
                hw_txt = "±" + _f(hw, _decimals(mean)) if np.isfinite(hw) else NA
            rel_txt = f"{hw / abs(mean):.0%}" if np.isfinite(hw) and mean != 0 else NA
            needed = _seeds_text(hw, TARGET_RELATIVE_HALF_WIDTH * abs(mean), n)
            rows.append([f"`{s}`", short, str(n), mean_txt, hw_txt, rel_txt, needed])
    parts += [
        "",
        _md_table(
            [
                "scenario",
                "metric",
                "seeds",
                "mean",
                "95% CI half-width",
                "half-width ÷ mean",
                f"seeds for ±{target_pct}",
            ],
            rows,
            ["l", "l", "r", "r", "r", "r", "r"],
        ),
    ]
    if result.baseline is not None and "diff_mean" in summary:
        diff_rows = []
        for s in scenario_order(summary["scenario"], result.baseline):
            if s == result.baseline:
                continue
            for metric, short, _unit, kind in specs:
                sub = summary[(summary["scenario"] == s) & (summary["metric"] == metric) & (summary["diff_n"] > 0)]
                if sub.empty:
                    continue
                # resolve a difference of 10% of the larger of the two means (scenario mean = baseline + diff)
                base_mean = (sub["mean"] - sub["diff_mean"]).abs()
                level = pd.concat([base_mean, sub["mean"].abs()], axis=1).max(axis=1)
                hws = (sub["diff_ci_high"] - sub["diff_ci_low"]) / 2
                ratio = (hws / level).replace([np.inf, -np.inf], np.nan)
                r = ratio.idxmax() if ratio.notna().any() else sub.index[0]
                hw, lvl, n = float(hws.loc[r]), float(level.loc[r]), int(sub.loc[r, "diff_n"])
                if kind == "share":
                    hw_txt = f"{hw * 100:.1f} pp" if np.isfinite(hw) else NA
                else:
                    hw_txt = "±" + _f(hw, _decimals(lvl)) if np.isfinite(hw) else NA
                target = TARGET_RELATIVE_HALF_WIDTH * lvl if np.isfinite(lvl) else 0.0
                diff_rows.append([f"`{s}`", short, str(n), hw_txt, _seeds_text(hw, target, n)])
        if diff_rows:
            parts += [
                "",
                f"Paired differences from `{result.baseline}`: the half-width of their 95% CI, and the seeds "
                f"needed to bring it to {target_pct} of the larger of the two scenarios' means (enough to "
                "resolve a difference of that size).",
                "",
                _md_table(
                    ["scenario", "metric", "pairs", "95% CI half-width", f"seeds for ±{target_pct}"],
                    diff_rows,
                    ["l", "l", "r", "r", "r"],
                ),
            ]
    return "\n".join(parts)


def _failed_missing(result: SweepResult) -> str:
    parts = ["## Failed and missing runs", ""]
    if result.failed:
        parts.append(f"**{len(result.failed)} run(s) failed** (their outcomes are not in any table or figure):")
        parts.append("")
        for f in result.failed:
            overrides = " ".join(f.get("overrides") or [])
            parts.append(f"- `{f['run']}` (`{overrides}`):")
            parts.append("")
            parts.append("  ```")
            parts += [f"  {line}" for line in str(f.get("error") or "unknown error").splitlines() or [""]]
            parts.append("  ```")
        parts.append("")
        parts.append("Tracebacks are in each run's `error.json`; the list is also in `failed_runs.csv`.")
    else:
        parts.append("Failed runs: none.")
    parts.append("")
    if result.missing:
        parts.append(
            f"**{len(result.missing)} planned run(s) are missing** (not run yet, or interrupted); re-running "
            "the sweep command into the same directory runs only these:"
        )
        parts.append("")
        parts += [f"- `{' '.join(job)}`" for job in result.missing]
    else:
        parts.append(
            "Missing runs: none."
            if (result.meta or {}).get("jobs")
            else "Missing runs: unknown (the sweep did not record its planned jobs)."
        )
    return "\n".join(parts)


def _caveats(result: SweepResult) -> str:
    notes = []
    runs = result.runs
    if not runs.empty:
        n_seeds = int(runs["seed"].nunique())
        if n_seeds < 2:
            notes.append(
                "Only one seed per setting: there are no confidence intervals, and no difference can be "
                "told apart from chance."
            )
        elif n_seeds < 10:
            notes.append(f"{n_seeds} seeds: intervals are wide and the seeds-needed estimates are rough.")
        if "days" in runs:
            days = sorted(int(d) for d in runs["days"].dropna().unique())
            if days != [SCHOOL_YEAR_DAYS]:
                notes.append(
                    f"Runs cover {', '.join(map(str, days))} school days; rates are the counts scaled by "
                    f"{SCHOOL_YEAR_DAYS}/days. Anything that does not accrue evenly through the year (a "
                    "yearly points budget, a feedback loop that builds up) is over- or under-stated by that "
                    f"scaling: run `days={SCHOOL_YEAR_DAYS}` for school-year figures."
                )
        borough_col = "borough.name" if "borough.name" in runs else "borough" if "borough" in runs else None
        if borough_col and set(runs[borough_col].astype(str)) == {"small"}:
            notes.append("The `small` borough is a test borough: its numbers are not estimates for Hackney.")
        if result.failed or result.missing:
            notes.append("Some planned runs are absent (see below): means are over the runs that finished.")
    notes.append(
        "These are outputs of a simulation whose defaults include assumptions (marked in `conf/`); they show "
        "what the model implies, not measured effects."
    )
    return "## Caveats\n\n" + "\n".join(f"- {n}" for n in notes)


def _reproduce(result: SweepResult, env: dict[str, str]) -> str:
    meta = result.meta or {}
    sweep_dir = Path(result.sweep_dir)
    if meta.get("task_overrides") is not None:
        overrides = list(meta["task_overrides"])
        source = ""
    else:
        overrides = _overrides_from_runs(result)
        source = " (reconstructed from the runs' overrides: `sweep.json` is missing)"
    command = " ".join(
        [
            "python",
            "-m",
            "sim",
            "-m",
            *(shlex.quote(o) for o in overrides),
            shlex.quote(f"hydra.sweep.dir={sweep_dir}"),
        ]
    )
    commit = env.get("git_commit", "unknown").removesuffix("-dirty")
    lines = [
        "## How to reproduce",
        "",
        f"From the repository at commit `{commit}`{source}:",
        "",
        "```bash",
        command,
        f"python -m sim.analyze {shlex.quote(str(sweep_dir))}   # re-aggregate: tables, figures, this report",
        "```",
        "",
        "The same seeds give the same runs. Re-running into the same directory skips finished runs and runs "
        "only missing or failed ones.",
    ]
    if env.get("git_commit", "").endswith("-dirty"):
        lines.append(
            "The working tree had uncommitted changes when this report was written, so the commit alone "
            "may not reproduce it exactly."
        )
    return "\n".join(lines)


def _overrides_from_runs(result: SweepResult) -> list[str]:
    values: dict[str, list[str]] = {}
    jobs = [json.loads(o) for o in result.runs.get("_overrides", pd.Series(dtype=str))]
    jobs += [f.get("overrides") or [] for f in result.failed]
    for job in jobs:
        for o in job:
            key, _, value = o.partition("=")
            values.setdefault(key, [])
            if value not in values[key]:
                values[key].append(value)
    return [f"{k}={','.join(v)}" for k, v in values.items()]


# ------------------------------------------------------------------------------------------------ entry point


def render_report(result: SweepResult, figures: dict[str, Path], env: dict[str, str] | None = None) -> str:
    """Render the report's markdown text."""
    meta = result.meta or {}
    # The environment the runs used, recorded when the sweep started; else the current one.
    env = env if env is not None else (meta.get("environment") or environment_summary())
    experiment = meta.get("experiment") or {}
    name = experiment.get("name") or Path(result.sweep_dir).name
    parts = [f"# Sweep report: {name}"]
    question = experiment.get("question")
    if question:
        parts += ["", f"> **Question.** {' '.join(str(question).split())}"]
    parts += ["", _what_ran(result, env)]
    if result.runs.empty or result.summary.empty:
        parts += ["", "## Outcomes", "", "No run finished, so there are no outcomes to report."]
    else:
        parts += [
            "",
            _outcome_tables(result),
            "",
            _difference_table(result),
            "",
            _figures_section(result, figures),
        ]
        parts += ["", _precision_section(result)]
    parts += ["", _failed_missing(result), "", _caveats(result), "", _reproduce(result, env), ""]
    return "\n".join(parts)


def write_report(result: SweepResult, figures: dict[str, Path]) -> Path:
    """Write ``sweep_dir/report.md`` and return its path."""
    path = Path(result.sweep_dir) / REPORT_FILE
    path.write_text(render_report(result, figures))
    return path
