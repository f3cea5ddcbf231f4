"""``report.md`` for a sweep: what ran, outcomes with 95% CIs, paired differences, figures, precision.

The report states numbers and how sure they are; it draws no conclusions the numbers do not show. Every table
is built from the same ``summary`` the figures use. The wording is the jinja2 template ``templates/report.md.j2``;
this module computes what it shows (:func:`report_context`), with the tables as :class:`~sim.analysis.markdown.Table`.
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

from sim.analysis.drivers import SEPARATOR, TERM_BASELINE, TERM_DIFFERENCE, TERM_MECHANISM, TERM_REST
from sim.analysis.folders import RUN_FILE, environment_summary
from sim.analysis.markdown import Table, render
from sim.analysis.plots import HEADLINE, RATE_UNIT, RRI, scenario_order
from sim.analysis.specs import metric as declared_metric
from sim.analysis.specs import spec
from sim.analysis.stats import seeds_needed
from sim.core.incidents import SCHOOL_YEAR_DAYS

if TYPE_CHECKING:
    from sim.analysis.aggregate import SweepResult

REPORT_FILE = "report.md"
NA = "\N{EN DASH}"  # a value that cannot be given
DASH = "\N{EN DASH}"  # ranges: 0-3
TARGET_RELATIVE_HALF_WIDTH = 0.10  # precision target: a 95% CI half-width of 10% of the mean


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


def _code(items: list[str]) -> str:
    return " ".join(f"`{i}`" for i in items) if items else "none"


def _seed_range(seeds: list[int]) -> str:
    """Compact a list of seeds: ``[0, 1, 2, 3, 7]`` -> ``0-3, 7`` (with an en dash)."""
    seeds = sorted(set(seeds))
    parts: list[str] = []
    start: int | None = None
    prev = 0  # the last seed of the current run (set with start)
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
                out.append((s, {f: key[f] for f in others}, sub[mask]))
        else:
            out.append((s, {}, sub))
    return out


def _what_ran_table(result: SweepResult, env: dict[str, str]) -> Table:
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
    loo = f" (and {len(result.ablation)} leave-one-out runs)" if not result.ablation.empty else ""
    left_out = (
        f"; {len(result.excluded)} other run folder(s) here are not part of this sweep's plan and are left out"
        if result.excluded
        else ""
    )
    rows.append(
        [
            "runs",
            f"{len(runs)} finished{loo}, {len(result.failed)} failed, {len(result.missing)} missing ({planned})"
            + left_out,
        ]
    )
    if not runs.empty:
        rows += _what_ran_run_rows(result)
    versions = ", ".join(f"{k} {v}" for k, v in env.items() if k not in {"git_commit", "host_cpus"})
    rows.append(["software", versions])
    commit = env.get("git_commit", "unknown")
    dirty = " (uncommitted changes in tracked files)" if commit.endswith("-dirty") else ""
    rows.append(["git commit", f"`{commit}`{dirty} at the time of this report"])
    rows.append(["report written", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")])
    return Table(["", ""], rows, "ll")


def _what_ran_run_rows(result: SweepResult) -> list[list[str]]:
    """The rows of "What ran" that describe the finished runs: seeds, scenarios, settings, borough, days, time."""
    runs = result.runs
    rows = []
    seeds = [int(s) for s in runs["seed"].dropna().unique()]
    rows.append(["seeds", f"{_seed_range(seeds)} ({len(seeds)} seed{'s' if len(seeds) != 1 else ''})"])
    scen = scenario_order(runs["scenario"], result.baseline)
    rows.append(["scenarios", ", ".join(f"`{s}`" for s in scen)])
    for f in _others(result):
        vals = sorted(runs[f].dropna().unique(), key=lambda v: (str(type(v)), v))
        rows.append([f"swept: `{f}`", ", ".join(_value_str(v) for v in vals)])
    borough_col = _borough_column(runs)
    if borough_col:
        borough = ", ".join(sorted(str(b) for b in runs[borough_col].dropna().unique()))
        detail = []
        if "schools" in runs:
            detail.append(_range_text(runs["schools"], "schools"))
        if "students" in runs:
            detail.append(_range_text(runs["students"], "students"))
        rows.append(["borough", f"`{borough}`" + (f" ({', '.join(detail)})" if detail else "")])
    days = _days(runs)
    if days:
        note = "" if days == [SCHOOL_YEAR_DAYS] else f"; rates scaled to a {SCHOOL_YEAR_DAYS}-day school year"
        rows.append(["school days per run", ", ".join(str(d) for d in days) + note])
    timing = _timing(result)
    if timing:
        rows.append(["run time", timing])
    return rows


def _borough_column(runs: pd.DataFrame) -> str | None:
    return "borough.name" if "borough.name" in runs else "borough" if "borough" in runs else None


def _days(runs: pd.DataFrame) -> list[int]:
    """The distinct numbers of school days the runs covered (empty when not recorded)."""
    return sorted(int(d) for d in runs["days"].dropna().unique()) if "days" in runs else []


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


def _by_setting_align(others: list[str], columns: int) -> str:
    """Scenario and swept settings left, counts and numbers right."""
    return "l" * (1 + len(others)) + "r" * (columns - 1 - len(others))


def _outcome_tables(result: SweepResult) -> list[dict[str, Any]]:
    """The headline tables: one per group of metrics (title and table), each row a scenario and setting."""
    others = _others(result)
    head = ["scenario", *[f"`{o}`" for o in others], "seeds"]
    tables = []
    for title, specs in (
        ("Volume and safety", _specs(result, HEADLINE)),
        (
            "Disproportionality (relative rate index: over-policed ÷ other students; 1 = equal rates)",
            _specs(result, RRI),
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
        tables.append({"title": title, "table": Table(header, rows, _by_setting_align(others, len(header)))})
    return tables


def _n_note(n: Any, n_max: int) -> str:
    """Flag a metric with fewer values than seeds (a ratio over zero is not a number)."""
    n = int(n)
    if n < n_max:
        return f" (n={n})"
    return ""


def _difference_cell(r: pd.Series, kind: str) -> str:
    """One paired difference, mean [95% CI], in bold when the interval excludes 0."""
    lo, hi, m = r["diff_ci_low"], r["diff_ci_high"], r["diff_mean"]
    if m == 0 and (r["diff_n"] == 1 or (lo == 0 and hi == 0)):
        return "0 (identical in every seed)"
    text = fmt_ci(m, lo, hi, kind, signed=True)
    if np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0):
        text = f"**{text}**"
    return text


def _difference_table(result: SweepResult) -> Table | None:
    """Each scenario minus the baseline over the same seeds (None when only the baseline finished)."""
    specs = _specs(result, HEADLINE + RRI)
    others = _others(result)
    rows = []
    for s, setting, sub in _setting_rows(result):
        if s == result.baseline:
            continue
        by_metric = sub.set_index("metric")
        n = int(by_metric["diff_n"].max()) if not by_metric.empty else 0
        row = [f"`{s}`", *_setting_text(setting), str(n)]
        for metric, *_rest, kind in specs:
            if metric not in by_metric.index or int(by_metric["diff_n"][metric]) == 0:
                row.append(NA)
            else:
                cell = by_metric.loc[metric]
                assert isinstance(cell, pd.Series)  # one row per metric
                row.append(_difference_cell(cell, kind))
        rows.append(row)
    if not rows:
        return None
    header = ["scenario", *[f"`{o}`" for o in others], "pairs"] + [short for _m, short, *_ in specs]
    return Table(header, rows, _by_setting_align(others, len(header)))


DRIVER_OUTCOMES = 4  # without experiment.ablation.outcomes, the report puts the first headline outcomes in words


def _driver_outcomes(result: SweepResult) -> list[str]:
    """The outcomes whose decomposition the report puts in words: ``experiment.ablation.outcomes``, else headline."""
    present = set(result.contributions["outcome"])
    asked = ((result.meta or {}).get("experiment") or {}).get("ablation") or {}
    if asked.get("outcomes"):
        return [m for m in asked["outcomes"] if m in present]
    return [m for m, *_ in (HEADLINE + RRI) if m in present][:DRIVER_OUTCOMES]


def _is_zero(r: pd.Series) -> bool:
    return bool(r["mean"] == 0 and (r["n"] == 1 or (r["ci_low"] == 0 and r["ci_high"] == 0)))


def _line_text(r: pd.Series, kind: str) -> str:
    """One term: signed mean [95% CI]; "≈ 0 (...)" when the interval includes 0; identical runs said so."""
    if _is_zero(r):
        return "0 (identical in every seed)"
    text = fmt_ci(r["mean"], r["ci_low"], r["ci_high"], kind, signed=True)
    lo, hi = float(r["ci_low"]), float(r["ci_high"])
    if np.isfinite(lo) and np.isfinite(hi) and lo <= 0 <= hi:
        return f"\N{ALMOST EQUAL TO} 0 ({text})"
    return text


def _outcome_name(m: Any, kind: str) -> str:
    """An outcome's name inside a sentence: "unnecessary crime records", "the relative rate index of crime records"."""
    if kind == "ratio" and m.short.startswith("RRI: "):
        return "the relative rate index of " + m.short.removeprefix("RRI: ")
    return m.short[0].lower() + m.short[1:]


def _lead(scenario: str, baseline: str, r: pd.Series, m: Any, kind: str) -> str:
    """The difference from the baseline as a sentence, with "more"/"fewer" when the interval is on one side of 0."""
    mean, lo, hi = float(r["mean"]), float(r["ci_low"]), float(r["ci_high"])
    name = _outcome_name(m, kind)
    unit = f" {RATE_UNIT}" if kind == "rate" else ""
    if _is_zero(r):
        return f"`{scenario}` and `{baseline}` do not differ in {name} in any seed"
    shown = fmt_ci(mean, lo, hi, kind, signed=True)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"`{scenario}` differs from `{baseline}` in {name} by {shown}{unit} (one seed: no interval)"
    if lo <= 0 <= hi:
        return f"`{scenario}` differs from `{baseline}` in {name} by {shown}{unit}, an interval that includes 0"
    sign = 1.0 if mean > 0 else -1.0
    low, high = sorted((sign * lo, sign * hi))
    size = fmt_ci(sign * mean, low, high, kind)
    if kind == "rate":
        return f"`{scenario}` has {size} {'more' if sign > 0 else 'fewer'} {name} {RATE_UNIT} than `{baseline}`"
    higher = "higher" if sign > 0 else "lower"
    if kind == "share":
        return f"`{scenario}`'s {name} is {size.replace('%', ' percentage points')} {higher} than `{baseline}`'s"
    return f"In `{scenario}`, {name} is {size} {higher} than in `{baseline}`"


def _names(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _driver_sentence(scenario: str, baseline: str, sub: pd.DataFrame, outcome: str) -> str:
    """One outcome's decomposition for one scenario, in words: the lines by size, those that change nothing last."""
    m = declared_metric(outcome)
    kind = spec(m)[3]
    rows = sub[sub["outcome"] == outcome]
    diff = rows[rows["term"] == TERM_DIFFERENCE].iloc[0]
    lines = rows[rows["term"].isin([TERM_MECHANISM, TERM_BASELINE])]
    lines = lines.iloc[np.argsort(-lines["mean"].abs().to_numpy(), kind="stable")]

    def who(r: pd.Series) -> str:
        if r["term"] == TERM_BASELINE:
            return f"not having `{baseline}`'s own `{r['mechanism']}`"
        return f"`{r['mechanism']}`"

    moving = [f"{who(r)} {_line_text(r, kind)}" for _, r in lines.iterrows() if not _is_zero(r)]
    still = [who(r) for _, r in lines.iterrows() if _is_zero(r)]
    text = f"{_lead(scenario, baseline, diff, m, kind)}."
    if moving:
        text += f" Leaving each mechanism out in turn: {', '.join(moving)}"
        if still:
            text += f"; {_names(still)}: no change in any seed"
    else:
        text += f" Leaving out {_names(still)} changes nothing in any seed"
    rest = rows[rows["term"] == TERM_REST].iloc[0]
    text += f"; the rest, interactions between mechanisms, {_line_text(rest, kind)}."
    n = int(diff["n"])
    return text + (f" (Over the {n} seeds where every term is defined.)" if n != int(sub["n"].max()) else "")


def _drivers(result: SweepResult) -> dict[str, Any] | None:
    """The section "What drives each difference": one paragraph per scenario (None without leave-one-out runs)."""
    asked = (((result.meta or {}).get("experiment") or {}).get("ablation") or {}).get("seeds")
    contributions = result.contributions
    if result.ablation.empty and not asked:
        return None
    if contributions.empty or result.baseline is None or TERM_DIFFERENCE not in set(contributions["term"]):
        return {"scenarios": [], "seeds": "", "baseline": result.baseline}
    others = _others(result)
    scenarios = []
    for s, setting, _sub in _setting_rows(result):
        if s == result.baseline:
            continue
        sub = contributions[contributions["scenario"] == s]
        for f in others:
            sub = sub[sub[f].astype(str) == str(setting[f])]
        if sub.empty or TERM_DIFFERENCE not in set(sub["term"]):
            continue
        groups = sorted({r for r in sub["removed"] if SEPARATOR in str(r)})
        together = [
            f"`{g.split(SEPARATOR)[0]}` is left out together with "
            + _names([f"`{o}`" for o in g.split(SEPARATOR)[1:]])
            + (", which need it" if g.count(SEPARATOR) > 1 else ", which needs it")
            + "; its line is what leaving them all out changes, less their own lines"
            for g in groups
        ]
        scenarios.append(
            {
                "scenario": s,
                "setting": ", ".join(f"`{k}`={_value_str(v)}" for k, v in setting.items()),
                "together": together,
                "sentences": [_driver_sentence(s, result.baseline, sub, o) for o in _driver_outcomes(result)],
            }
        )
    seeds = sorted({int(x) for text in contributions["seeds"] for x in json.loads(text)})
    return {"scenarios": scenarios, "seeds": _seed_range(seeds), "n_seeds": len(seeds), "baseline": result.baseline}


def _figure_list(result: SweepResult, figures: dict[str, Path]) -> list[dict[str, str]]:
    """Each figure's title, path relative to the sweep directory, and caption."""
    out = []
    for name, path in figures.items():
        title, caption = FIGURE_CAPTIONS.get(name, (name.replace("_", " ").capitalize(), ""))
        try:
            rel = Path(path).resolve().relative_to(Path(result.sweep_dir).resolve()).as_posix()
        except ValueError:
            rel = f"figures/{Path(path).name}"
        out.append({"title": title, "path": rel, "caption": caption})
    return out


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


def _half_width_text(half_width: float, level: float, kind: str) -> str:
    """A CI half-width: percentage points for shares, else ``±`` with the decimals of ``level``."""
    if not np.isfinite(half_width):
        return NA
    if kind == "share":
        return f"{half_width * 100:.1f} pp"
    return "±" + _f(half_width, _decimals(level))


def _precision_table(result: SweepResult, specs: list[tuple[str, str, str, str]]) -> Table:
    """Half-width of each mean's 95% CI and the seeds needed for the target (widest setting per scenario)."""
    rows = []
    summary = result.summary
    for s in scenario_order(summary["scenario"], result.baseline):
        for metric, short, _unit, kind in specs:
            sub = summary[(summary["scenario"] == s) & (summary["metric"] == metric)]
            if sub.empty:
                continue
            rel = (sub["ci_half_width"] / sub["mean"].abs()).replace([np.inf, -np.inf], np.nan)
            if rel.notna().any():
                widest: Any = rel.idxmax()  # a row label (pandas-stubs: Hashable, which .loc does not take)
                r = sub.loc[widest]
            else:
                r = sub.iloc[0]
            n, mean, hw = int(r["n"]), float(r["mean"]), float(r["ci_half_width"])
            mean_txt = fmt_value(mean, kind)
            hw_txt = _half_width_text(hw, mean, kind)
            rel_txt = f"{hw / abs(mean):.0%}" if np.isfinite(hw) and mean != 0 else NA
            needed = _seeds_text(hw, TARGET_RELATIVE_HALF_WIDTH * abs(mean), n)
            rows.append([f"`{s}`", short, str(n), mean_txt, hw_txt, rel_txt, needed])
    header = ["scenario", "metric", "seeds", "mean", "95% CI half-width", "half-width ÷ mean", _seeds_for_target()]
    return Table(header, rows, "llrrrrr")


def _difference_precision_table(result: SweepResult, specs: list[tuple[str, str, str, str]]) -> Table | None:
    """Half-width of each paired difference's 95% CI and the seeds needed to resolve a 10% difference."""
    summary = result.summary
    if result.baseline is None or "diff_mean" not in summary:
        return None
    rows = []
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
            r: Any = ratio.idxmax() if ratio.notna().any() else sub.index[0]  # a row label (as above)
            hw, lvl, n = float(hws.loc[r]), float(level.loc[r]), int(sub.loc[r, "diff_n"])
            target = TARGET_RELATIVE_HALF_WIDTH * lvl if np.isfinite(lvl) else 0.0
            rows.append([f"`{s}`", short, str(n), _half_width_text(hw, lvl, kind), _seeds_text(hw, target, n)])
    if not rows:
        return None
    return Table(["scenario", "metric", "pairs", "95% CI half-width", _seeds_for_target()], rows, "llrrr")


def _seeds_for_target() -> str:
    return f"seeds for ±{TARGET_RELATIVE_HALF_WIDTH:.0%}"


def _precision(result: SweepResult) -> dict[str, Any]:
    specs = _specs(result, HEADLINE)
    if not specs:
        return {"means": None, "differences": None, "several_settings": False}
    return {
        "means": _precision_table(result, specs),
        "differences": _difference_precision_table(result, specs),
        "several_settings": bool(_others(result)),
    }


def _failed_runs(result: SweepResult) -> list[dict[str, Any]]:
    """Each failed run's name, overrides and error message (as lines)."""
    return [
        {
            "run": f["run"],
            "overrides": " ".join(f.get("overrides") or []),
            "error_lines": str(f.get("error") or "unknown error").splitlines() or [""],
        }
        for f in result.failed
    ]


def _caveat_facts(result: SweepResult) -> dict[str, Any]:
    """What the caveats depend on: seeds, days, the test borough, absent runs."""
    runs = result.runs
    if runs.empty:
        return {"n_seeds": None, "days": [], "small_borough": False, "runs_absent": False}
    borough_col = _borough_column(runs)
    return {
        "n_seeds": int(runs["seed"].nunique()),
        "days": _days(runs),
        "small_borough": bool(borough_col) and set(runs[borough_col].astype(str)) == {"small"},
        "runs_absent": bool(result.failed or result.missing),
    }


def _reproduce(result: SweepResult, env: dict[str, str]) -> dict[str, Any]:
    """The commands that re-run and re-aggregate the sweep, and the commit to run them at."""
    meta = result.meta or {}
    sweep_dir = Path(result.sweep_dir)
    reconstructed = meta.get("task_overrides") is None
    overrides = _overrides_from_runs(result) if reconstructed else list(meta["task_overrides"])
    words = ["python", "-m", "sim", "-m", *overrides, f"hydra.sweep.dir={sweep_dir}"]
    return {
        "commit": env.get("git_commit", "unknown").removesuffix("-dirty"),
        "dirty": env.get("git_commit", "").endswith("-dirty"),
        "reconstructed": reconstructed,
        "sweep_command": " ".join(shlex.quote(w) for w in words),
        "analyze_command": f"python -m sim.analyze {shlex.quote(str(sweep_dir))}",
    }


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


def report_context(result: SweepResult, figures: dict[str, Path], env: dict[str, str]) -> dict[str, Any]:
    """Everything ``templates/report.md.j2`` shows, computed from the sweep's result."""
    meta = result.meta or {}
    experiment = meta.get("experiment") or {}
    question = experiment.get("question")
    has_outcomes = not (result.runs.empty or result.summary.empty)
    return {
        "name": experiment.get("name") or Path(result.sweep_dir).name,
        "question": " ".join(str(question).split()) if question else None,
        "what_ran": _what_ran_table(result, env),
        "has_outcomes": has_outcomes,
        "outcome_tables": _outcome_tables(result) if has_outcomes else [],
        "baseline": result.baseline,
        "difference_table": _difference_table(result) if has_outcomes and result.baseline is not None else None,
        "drivers": _drivers(result) if has_outcomes else None,
        "figures": _figure_list(result, figures),
        "precision": _precision(result) if has_outcomes else None,
        "failed": _failed_runs(result),
        "missing": [" ".join(job) for job in result.missing],
        "jobs_recorded": bool(meta.get("jobs")),
        "caveats": _caveat_facts(result),
        "reproduce": _reproduce(result, env),
        "rate_unit": RATE_UNIT,
        "school_year_days": SCHOOL_YEAR_DAYS,
        "target": f"{TARGET_RELATIVE_HALF_WIDTH:.0%}",
    }


def render_report(result: SweepResult, figures: dict[str, Path], env: dict[str, str] | None = None) -> str:
    """Render the report's markdown text."""
    # The environment the runs used, recorded when the sweep started; else the current one.
    env = env if env is not None else ((result.meta or {}).get("environment") or environment_summary())
    return render("sim.analysis", "report.md.j2", report_context(result, figures, env))


def write_report(result: SweepResult, figures: dict[str, Path], out: Path | None = None) -> Path:
    """Write ``report.md`` into ``out`` (default: the sweep folder) and return its path."""
    path = Path(out if out is not None else result.sweep_dir) / REPORT_FILE
    path.write_text(render_report(result, figures))
    return path
