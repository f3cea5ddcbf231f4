"""Figures for a sweep: outcomes, contacts by type, paired differences, the school year, RRI, heatmap.

Every figure reads the aggregated :class:`~sim.analysis.aggregate.SweepResult` (means and 95% CIs come from
its ``summary``, which the report uses too, so a figure and the report's tables never disagree). Each scenario
keeps one colour in every figure of every sweep (:func:`scenario_colour`). A figure whose data the sweep does
not hold (no baseline, no daily output, not exactly two swept settings for a heatmap) is skipped, not drawn
empty.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sim.analysis.specs import (
    RATE_UNIT,
    Spec,
    contact_colour,
    contact_types,
    headline,
    headline_counts,
    headline_rri,
    scenario_colour,
    specs,
)
from sim.analysis.stats import mean_ci

if TYPE_CHECKING:
    from sim.analysis.aggregate import SweepResult

DPI = 150
FIGURES_DIR = "figures"
# What is shown comes from the outcome registry (sim/core/outcomes.py) through sim/analysis/specs.py: the headline
# outcomes by rank, their RRIs, the kinds of police contact; the scenarios' colours from their conf/scenario files.
CONTACT_TYPES: dict[str, tuple[str, str]] = {
    c.name.removeprefix("police_contacts_"): (
        c.label.removesuffix(" contacts").lower().replace("-", " "),
        contact_colour(c),
    )
    for c in contact_types()
}
HEADLINE: tuple[Spec, ...] = headline()
RRI: tuple[Spec, ...] = headline_rri()
TIME_SERIES: tuple[tuple[str, str], ...] = headline_counts()
HEATMAP_METRICS: tuple[tuple[str, str], ...] = tuple((key, title) for key, title, _, kind in HEADLINE[:2])
PLUS_MINUS = "\N{PLUS-MINUS SIGN}"
HEAT_MIN_SPAN = 0.05  # a heatmap's colour scale spans at least ±5% of the panel's mean


# --------------------------------------------------------------------------------------------------- colours


def scenario_order(scenarios: list[str] | set[str] | pd.Series, baseline: str | None = None) -> list[str]:
    """Baseline first, then the scenarios alphabetically."""
    present = {str(s) for s in scenarios}
    order = sorted(present)
    if baseline in present:
        order.remove(baseline)
        order.insert(0, baseline)
    return order


def scenario_label(name: str, width: int = 12) -> str:
    """Wrap a scenario name for a tick label: ``embedded_officer`` becomes "embedded" over "officer"."""
    return "\n".join(textwrap.wrap(str(name).replace("_", " "), width=width)) or str(name)


# --------------------------------------------------------------------------------------------------- helpers


def _short(factor: str) -> str:
    return factor.rsplit(".", 1)[-1]


def _fmt_value(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return f"{v:g}"
    return str(v)


def _other_factors(result: SweepResult) -> list[str]:
    return [f for f in result.factors if f != "scenario"]


def _sort_key(values: pd.Series) -> list[Any]:
    """Return the unique values, numerically sorted when they are numbers."""
    uniq = list(pd.unique(values))
    try:
        return sorted(uniq, key=float)
    except (TypeError, ValueError):
        return sorted(uniq, key=str)


def _add_setting(frame: pd.DataFrame, others: list[str]) -> pd.DataFrame:
    """Add a ``setting`` column: the other swept factors' values, "0.25 / 0.1" ("" if none)."""
    frame = frame.copy()
    if not others:
        frame["setting"] = ""
        return frame
    frame["setting"] = frame[others].apply(lambda row: " / ".join(_fmt_value(row[f]) for f in others), axis=1)
    return frame


def _settings_title(others: list[str]) -> str:
    """Name what the values in a ``setting`` label are: "youth_workers_per_1000_pupils / escalate_..."."""
    return " / ".join(_short(f) for f in others)


def _wrap_name(name: str, width: int = 26) -> str:
    """Wrap a dotted setting name at its dots first, then at underscores if still too long."""
    if len(name) <= width:
        return name
    parts = name.replace(".", ".\n").split("\n")
    lines = []
    for part in parts:
        while len(part) > width:
            cut = part.rfind("_", 0, width)
            cut = cut + 1 if cut > 0 else width
            lines.append(part[:cut])
            part = part[cut:]
        lines.append(part)
    return "\n".join(lines)


def _in_order(order: dict[Any, int]) -> Callable[[pd.Series], pd.Series]:
    """A sort key: each value's position in ``order``."""
    return lambda s: s.map(order)


def _setting_order(frame: pd.DataFrame, others: list[str]) -> list[str]:
    if not others:
        return [""]
    combos = frame[[*others, "setting"]].drop_duplicates("setting")
    for f in reversed(others):
        order = {v: i for i, v in enumerate(_sort_key(combos[f]))}
        combos = combos.sort_values(f, key=_in_order(order), kind="stable")
    return list(combos["setting"])


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width, break_on_hyphens=False)) or text


def _row_label(scenario: str, setting: str) -> str:
    label = str(scenario).replace("_", " ")
    return f"{label} · {setting}" if setting else label


def _theme() -> None:
    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.95)
    plt.rcParams.update({"figure.dpi": DPI, "savefig.dpi": DPI, "axes.titleweight": "bold"})


def _figure(nrows: int, ncols: int, figsize: tuple[float, float], **kwargs: Any) -> tuple[plt.Figure, np.ndarray]:
    return plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, layout="constrained", **kwargs)


def _save(fig: plt.Figure, out_dir: Path, name: str, figures: dict[str, Path]) -> None:
    path = out_dir / f"{name}.png"
    fig.savefig(path, dpi=DPI, bbox_inches="tight", pad_inches=0.15, facecolor="white")
    plt.close(fig)
    figures[name] = path


def _n_seeds(result: SweepResult) -> int:
    return int(result.runs["seed"].nunique()) if "seed" in result.runs else len(result.runs)


def _ci_note(result: SweepResult) -> str:
    n = _n_seeds(result)
    if n < 2:
        return "one seed per setting: no confidence interval"
    return f"mean and 95% CI over {n} seeds"


def _summary_for(result: SweepResult, metric: str) -> pd.DataFrame:
    s = result.summary
    if s.empty or metric not in set(s["metric"]):
        return pd.DataFrame()
    return s[s["metric"] == metric]


def _available(result: SweepResult, specs: tuple[tuple[str, ...], ...]) -> list[tuple[str, ...]]:
    """Keep the specs whose metric the sweep reports with at least one finite value."""
    out = []
    for spec in specs:
        sub = _summary_for(result, spec[0])
        if not sub.empty and np.isfinite(sub["mean"].astype(float)).any():
            out.append(spec)
    return out


def _scale(kind: str) -> float:
    return 100.0 if kind == "share" else 1.0


def _colour_ticklabels(labels: list[plt.Text], scenarios: list[str]) -> None:
    for lab, s in zip(labels, scenarios, strict=False):
        lab.set_color(scenario_colour(s))
        lab.set_fontweight("bold")


def _grid(n_panels: int, ncols: int, width: float, height: float) -> tuple[plt.Figure, list[plt.Axes]]:
    ncols = max(1, min(ncols, n_panels))
    nrows = int(np.ceil(n_panels / ncols))
    fig, axes = _figure(nrows, ncols, (width * ncols, height * nrows))
    flat = list(axes.flat)
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


# ------------------------------------------------------------------------------------------ dot and whisker


def _dot_whisker(
    ax: plt.Axes,
    rows: pd.DataFrame,
    positions: dict[tuple[str, str], float],
    value: str,
    low: str,
    high: str,
    scale: float,
    horizontal: bool,
    raw: pd.DataFrame | None = None,
    slot: float = 1.0,
    label_values: bool = False,
    suffix: str = "",
) -> None:
    """Draw each (scenario, setting) row as a dot with its CI whisker; "n/a" where there is no value.

    ``raw`` (columns scenario, setting, value) adds each seed as a faint dot beside the whisker; ``slot`` is
    the width available to one dot-and-whisker; ``label_values`` writes the mean beside the dot.
    """
    for _, r in rows.iterrows():
        pos = positions.get((r["scenario"], r["setting"]))
        if pos is None:
            continue
        colour = scenario_colour(r["scenario"])
        m = float(r[value]) * scale if pd.notna(r[value]) else np.nan
        if raw is not None:
            pts = raw[(raw["scenario"] == r["scenario"]) & (raw["setting"] == r["setting"])]["value"].dropna()
            if len(pts):
                offsets = np.linspace(0.14, 0.3, len(pts)) if len(pts) > 1 else np.array([0.2])
                xs, ys = pos + offsets * slot, pts.to_numpy(dtype=float) * scale
                if horizontal:
                    xs, ys = ys, xs
                ax.scatter(xs, ys, s=10 if slot < 1 else 14, color=colour, alpha=0.4, linewidths=0, zorder=2)
        if not np.isfinite(m):
            xy = (0.5, pos) if horizontal else (pos, 0.5)
            transform = ax.get_yaxis_transform() if horizontal else ax.get_xaxis_transform()
            ax.annotate("n/a", xy=xy, xycoords=transform, ha="center", va="center", color="grey", fontsize=8)
            continue
        lo, hi = float(r[low]) * scale, float(r[high]) * scale
        err = [[m - lo], [hi - m]] if np.isfinite(lo) and np.isfinite(hi) else None
        size = 7 if slot >= 1 else 5
        if horizontal:
            ax.errorbar(m, pos, xerr=err, fmt="o", color=colour, ms=size, capsize=4, lw=2, zorder=3)
        else:
            ax.errorbar(pos, m, yerr=err, fmt="o", color=colour, ms=size, capsize=4 * min(slot, 1), lw=2, zorder=3)
        if label_values and not horizontal:
            ax.annotate(
                _num(m) + suffix,
                xy=(pos, m),
                xytext=(-7, 0),
                textcoords="offset points",
                ha="right",
                va="center",
                fontsize=8,
                color=colour,
            )


def _num(x: float) -> str:
    """Format a number with sensible precision for a figure label."""
    if not np.isfinite(x):
        return "n/a"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _category_axis(
    rows: pd.DataFrame, scenarios: list[str], settings: list[str]
) -> tuple[dict[tuple[str, str], float], list[float], list[str], float]:
    """Positions of (scenario, setting) pairs: one slot per scenario, or per setting with scenarios dodged."""
    positions: dict[tuple[str, str], float] = {}
    if settings == [""]:
        for i, s in enumerate(scenarios):
            positions[(s, "")] = float(i)
        return (
            positions,
            [float(i) for i in range(len(scenarios))],
            [scenario_label(s) for s in scenarios],
            1.0,
        )
    present = set(zip(rows["scenario"], rows["setting"], strict=True))
    k = len(scenarios)
    slot = 0.8 / max(k, 1)
    for i, setting in enumerate(settings):
        for j, s in enumerate(scenarios):
            if (s, setting) in present:
                positions[(s, setting)] = i + (j - (k - 1) / 2) * slot
    return (
        positions,
        [float(i) for i in range(len(settings))],
        [s.replace(" / ", "\n") for s in settings],
        slot,
    )


def _scenario_handles(scenarios: list[str], marker: str = "o") -> list[plt.Line2D]:
    return [
        plt.Line2D([], [], marker=marker, ls="-", lw=2, color=scenario_colour(s), label=s.replace("_", " "))
        for s in scenarios
    ]


def _metric_panels(
    result: SweepResult,
    specs: list[tuple[str, ...]],
    title: str,
    reference: float | None = None,
) -> plt.Figure:
    """One panel per metric (own y scale): each scenario's mean with its 95% CI, and each seed as a faint dot.

    With other swept settings, the x axis is the setting and the scenarios are side by side in each slot.
    """
    others = _other_factors(result)
    summary = _add_setting(result.summary, others)
    runs = _add_setting(result.runs, others)
    scenarios = scenario_order(summary["scenario"], result.baseline)
    settings = _setting_order(summary, others)
    show_seeds = _n_seeds(result) >= 2
    if settings == [""]:
        ncols, width, height = 2, max(4.8, 1.2 * len(scenarios) + 1.6), 3.9
    else:
        ncols, width, height = 1, max(8.0, 0.45 * len(scenarios) * len(settings) + 2.5), 3.6
    fig, axes = _grid(len(specs), ncols, width, height)
    for ax, (metric, short, unit, kind) in zip(axes, specs, strict=True):
        rows = summary[summary["metric"] == metric]
        values = pd.to_numeric(runs[metric], errors="coerce") if metric in runs else np.nan
        raw = runs[["scenario", "setting"]].assign(value=values) if show_seeds else None
        positions, ticks, labels, slot = _category_axis(rows, scenarios, settings)
        _dot_whisker(
            ax,
            rows,
            positions,
            "mean",
            "ci_low",
            "ci_high",
            _scale(kind),
            False,
            raw,
            slot,
            label_values=settings == [""],
            suffix="%" if kind == "share" else "",
        )
        if reference is not None:
            ax.axhline(reference, color="0.35", lw=1.2, ls="--", zorder=1)
        ax.set_xticks(ticks, labels)
        if settings == [""]:
            _colour_ticklabels(ax.get_xticklabels(), scenarios)
        else:
            ax.tick_params(axis="x", labelsize=8)
            ax.set_xlabel(_settings_title(others), fontsize=9)
            for x in ticks[:-1]:
                ax.axvline(x + 0.5, color="0.85", lw=0.8, zorder=0)
            ax.grid(axis="x", visible=False)
        ax.set_xlim(min(ticks) - 0.6, max(ticks) + 0.6)
        ax.set_title(_wrap(short, 42), fontsize=11)
        ax.set_ylabel(unit.replace("students per", "students\nper"))
        if kind == "share":
            ax.set_ylim(0, 105)
        else:
            ax.set_ylim(bottom=0)
            ax.set_ylim(0, ax.get_ylim()[1] * 1.08)
    seeds_note = "; faint dots: individual seeds" if show_seeds else ""
    fig.suptitle(f"{title}\n({_ci_note(result)}{seeds_note})", fontsize=12)
    if settings != [""]:
        fig.legend(
            handles=_scenario_handles(scenarios),
            loc="outside lower center",
            ncol=len(scenarios),
            frameon=False,
        )
    return fig


# ------------------------------------------------------------------------------------------------ figures


def plot_outcomes(result: SweepResult) -> plt.Figure | None:
    """Figure 1: the headline outcomes by scenario, each on its own scale, with 95% CIs."""
    specs = _available(result, HEADLINE)
    if not specs:
        return None
    return _metric_panels(result, specs, "Outcomes by scenario")


def plot_rri(result: SweepResult) -> plt.Figure | None:
    """Figure 5: disproportionality (over-policed vs other students) by scenario, with a line at 1."""
    specs = _available(result, RRI)
    if not specs:
        return None
    fig = _metric_panels(
        result,
        specs,
        "Disproportionality: rate for students from over-policed communities ÷ rate for other students",
        reference=1.0,
    )
    for ax in fig.axes:
        if ax.get_visible() and ax.get_ylabel():
            ax.set_ylim(0, max(ax.get_ylim()[1], 1.5))
            ax.set_ylabel("relative rate index\n(1 = equal rates)")
    return fig


def plot_contacts_by_type(result: SweepResult) -> plt.Figure | None:
    """Figure 2: police contacts by type, stacked, per scenario (absolute rate and mix of types)."""
    types = [t for t in CONTACT_TYPES if not _summary_for(result, f"police_contacts_{t}_per_1000").empty]
    if not types:
        return None
    others = _other_factors(result)
    summary = _add_setting(result.summary, others)
    scenarios = scenario_order(summary["scenario"], result.baseline)
    settings = _setting_order(summary, others)
    rows = []
    for s in scenarios:
        for setting in settings:
            sub = summary[(summary["scenario"] == s) & (summary["setting"] == setting)]
            if sub.empty:
                continue
            means = sub.set_index("metric")["mean"]
            rates = {t: float(means.get(f"police_contacts_{t}_per_1000", np.nan)) for t in types}
            rows.append({"scenario": s, "setting": setting} | rates)
    table = pd.DataFrame(rows)
    used = [t for t in types if (table[t].fillna(0.0) > 0).any()]
    types = used or types
    values = table[types].fillna(0.0).clip(lower=0.0)
    totals = values.sum(axis=1)
    shares = values.div(totals.where(totals > 0), axis=0).fillna(0.0) * 100
    labels = [_row_label(s, st) for s, st in zip(table["scenario"], table["setting"], strict=True)]
    n = len(table)
    fig, axes = _figure(1, 2, (13.0, max(2.6, 0.5 * n + 1.7)), sharey=True, width_ratios=[1.4, 1])
    ax_abs, ax_mix = axes[0]
    y = np.arange(n)[::-1]
    for ax, frame in ((ax_abs, values), (ax_mix, shares)):
        left = np.zeros(n)
        for t in types:
            ax.barh(y, frame[t], left=left, color=CONTACT_TYPES[t][1], edgecolor="white", height=0.7)
            left += frame[t].to_numpy()
        ax.grid(axis="y", visible=False)
    xmax = float(totals.max()) if len(totals) else 0.0
    for yi, total in zip(y, totals, strict=True):
        ax_abs.text(total + max(xmax, 1.0) * 0.01, yi, _num(total), va="center", fontsize=9)
        if total <= 0:
            ax_mix.text(50, yi, "no contacts", ha="center", va="center", color="grey", fontsize=9)
    ax_abs.set_xlim(0, max(xmax * 1.15, 1.0))
    ax_abs.set_yticks(y, labels)
    _colour_ticklabels(ax_abs.get_yticklabels(), list(table["scenario"]))
    if others:
        ax_abs.set_ylabel(f"scenario · {_settings_title(others)}", fontsize=9)
    ax_abs.set_xlabel(f"police contacts {RATE_UNIT}")
    ax_abs.set_title("Contacts by type (mean over seeds; total at the end of each bar)", fontsize=11)
    ax_mix.set_xlim(0, 100)
    ax_mix.set_xlabel("share of that scenario's contacts (%)")
    ax_mix.set_title("Mix of contact types", fontsize=11)
    handles = [Patch(color=CONTACT_TYPES[t][1], label=CONTACT_TYPES[t][0]) for t in types]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(types), frameon=False, title="contact type")
    fig.suptitle("Police contacts with young people, by type", fontsize=12)
    return fig


def plot_paired_differences(result: SweepResult) -> plt.Figure | None:
    """Figure 3: each scenario minus the baseline over the same seeds (paired), 95% CIs and a zero line."""
    if result.baseline is None or result.summary.empty or "diff_mean" not in result.summary:
        return None
    specs = _available(result, HEADLINE)
    others = _other_factors(result)
    summary = _add_setting(result.summary, others)
    summary = summary[(summary["scenario"] != result.baseline) & (summary["diff_n"] > 0)]
    if summary.empty or not specs:
        return None
    scenarios = [s for s in scenario_order(summary["scenario"], result.baseline) if s != result.baseline]
    settings = _setting_order(summary, others)
    present = set(zip(summary["scenario"], summary["setting"], strict=True))
    pairs = [(s, st) for s in scenarios for st in settings if (s, st) in present]
    positions = {p: float(len(pairs) - 1 - i) for i, p in enumerate(pairs)}
    fig, axes = _grid(len(specs), 2, 6.4, max(2.4, 0.42 * len(pairs) + 1.4))
    n_pairs = int(summary["diff_n"].max())
    for i, (ax, (metric, short, _unit, kind)) in enumerate(zip(axes, specs, strict=True)):
        rows = summary[summary["metric"] == metric]
        _dot_whisker(ax, rows, positions, "diff_mean", "diff_ci_low", "diff_ci_high", _scale(kind), True)
        ax.axvline(0, color="0.3", lw=1.2, zorder=1)
        ax.set_yticks(list(positions.values()), [_row_label(s, st) for s, st in positions])
        if i % 2 == 0:
            _colour_ticklabels(ax.get_yticklabels(), [s for s, _ in positions])
            if others:
                ax.set_ylabel(f"scenario · {_settings_title(others)}", fontsize=9)
        else:
            ax.tick_params(axis="y", labelleft=False)
        ax.set_ylim(-0.6, len(pairs) - 0.4)
        ax.set_title(_wrap(short, 48), fontsize=11)
        ax.set_xlabel("difference in percentage points" if kind == "share" else f"difference, {RATE_UNIT}")
        finite = rows[["diff_mean", "diff_ci_low", "diff_ci_high"]].to_numpy(dtype=float) * _scale(kind)
        finite = finite[np.isfinite(finite)]
        span = float(np.abs(finite).max()) if finite.size else 0.0
        if span == 0:
            ax.set_xlim(-1, 1)
        else:
            lo, hi = ax.get_xlim()
            ax.set_xlim(min(lo, -0.08 * span), max(hi, 0.08 * span))
        for _, r in rows.iterrows():
            no_spread = r["diff_n"] == 1 or (r["diff_ci_low"] == 0 and r["diff_ci_high"] == 0)
            same = r["diff_n"] >= 1 and r["diff_mean"] == 0 and no_spread
            pos = positions.get((r["scenario"], r["setting"]))
            if same and pos is not None:
                ax.annotate(
                    "identical to baseline in every seed",
                    xy=(0, pos),
                    xytext=(8, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=8,
                    color="0.35",
                )
    note = f"paired over {n_pairs} seeds, 95% CI" if n_pairs >= 2 else "one seed: no confidence interval"
    fig.suptitle(
        f"Difference from the baseline ({result.baseline.replace('_', ' ')}): "
        "scenario \N{MINUS SIGN} baseline, same seeds\n"
        f"({note})",
        fontsize=12,
    )
    return fig


def _t_band(values: pd.Series) -> pd.Series:
    """Mean and 95% t-interval of one day's values over seeds (NaN bounds with fewer than two)."""
    _n, mean, _sd, low, high = mean_ci(values.to_numpy(dtype=float))
    return pd.Series({"mean": mean, "low": low, "high": high})


def plot_time_series(result: SweepResult) -> plt.Figure | None:
    """Figure 4: cumulative counts per 1,000 students through the simulated days, mean and 95% band.

    With up to four settings of other swept factors, one row of panels per setting; with more, one thin line
    per (scenario, setting) and no bands.
    """
    daily = result.daily
    if daily is None or daily.empty or "students" not in result.runs or "day" not in daily:
        return None
    contact_cols = [f"police_contacts_{t}" for t in CONTACT_TYPES if f"police_contacts_{t}" in daily]
    frame = daily[["run", "scenario", "day"]].copy()
    specs = []
    for m, title in TIME_SERIES:
        if m == "police_contacts" and contact_cols:
            frame[m] = daily[contact_cols].sum(axis=1)
        elif m in daily:
            frame[m] = daily[m]
        else:
            continue
        specs.append((m, title))
    if not specs:
        return None
    others = _other_factors(result)
    keys = result.runs[["run", "students", *others]].drop_duplicates("run")
    frame = _add_setting(frame.drop(columns=others, errors="ignore").merge(keys, on="run", how="left"), others)
    frame = frame[frame["students"] > 0].sort_values(["run", "day"])
    for m, _ in specs:
        frame[m] = frame.groupby("run")[m].cumsum() / frame["students"] * 1000.0
    settings = _setting_order(frame, others)
    scenarios = scenario_order(frame["scenario"], result.baseline)
    rows_by_setting = len(settings) <= 4
    row_settings = settings if rows_by_setting else ["*"]
    nrows = len(row_settings)
    fig, axes = _figure(nrows, len(specs), (4.7 * len(specs), 3.2 * nrows + 0.8), sharex=True)
    n = _n_seeds(result)
    for r, setting in enumerate(row_settings):
        part = frame if setting == "*" else frame[frame["setting"] == setting]
        for c, (m, title) in enumerate(specs):
            ax = axes[r, c]
            if setting == "*":
                means = part.groupby(["scenario", "setting", "day"])[m].mean()
                groups = means.index
                assert isinstance(groups, pd.MultiIndex)
                for s in scenarios:
                    for st in settings:
                        if (s, st) in groups.droplevel(2):
                            line = means.loc[(s, st)]
                            ax.plot(line.index + 1, line.to_numpy(), color=scenario_colour(s), lw=1, alpha=0.6)
            else:
                band = part.groupby(["scenario", "day"])[m].apply(_t_band).unstack()
                for s in scenarios:
                    if s not in band.index.get_level_values(0):
                        continue
                    b = band.loc[s]
                    colour = scenario_colour(s)
                    is_base = s == result.baseline
                    if b["low"].notna().any():
                        ax.fill_between(b.index + 1, b["low"], b["high"], color=colour, alpha=0.15, lw=0)
                    ax.plot(
                        b.index + 1,
                        b["mean"],
                        color=colour,
                        lw=1.6 if is_base else 2.2,
                        ls="--" if is_base else "-",
                        zorder=4 if is_base else 3,
                    )
            ax.set_ylim(bottom=0)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            head = title if setting in ("", "*") else f"{title}\n{_settings_title(others)} = {setting}"
            ax.set_title(head, fontsize=11 if setting in ("", "*") else 9)
            if c == 0:
                ax.set_ylabel("cumulative, per 1,000 students")
            if r == nrows - 1:
                ax.set_xlabel("school day")
    days = int(frame["day"].max()) + 1
    if not rows_by_setting:
        note = (
            f"one line per scenario and setting of {_settings_title(others)} ({len(settings)} settings), "
            f"mean over {n} seeds"
        )
    elif n >= 2:
        note = f"line: mean over {n} seeds; band: 95% CI"
    else:
        note = "one seed: no band"
    fig.suptitle(
        f"Through the simulated school year: counts to date ({days} school days, not annualised)\n({note})",
        fontsize=12,
    )
    handles = [
        plt.Line2D(
            [],
            [],
            color=scenario_colour(s),
            lw=2.2,
            ls="--" if s == result.baseline and rows_by_setting else "-",
            label=s.replace("_", " ") + (" (baseline)" if s == result.baseline else ""),
        )
        for s in scenarios
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(scenarios), frameon=False)
    return fig


def plot_heatmap(result: SweepResult) -> plt.Figure | None:
    """Figure 6: with exactly two swept settings besides scenario and seed, a heatmap per scenario, metric."""
    others = _other_factors(result)
    if len(others) != 2 or result.summary.empty:
        return None
    fx, fy = others
    specs = [(m, t) for m, t in HEATMAP_METRICS if not _summary_for(result, m).empty]
    if not specs:
        return None
    summary = result.summary
    scenarios = scenario_order(summary["scenario"], result.baseline)
    xs, ys = _sort_key(summary[fx]), _sort_key(summary[fy])
    w = max(4.2, 0.9 * len(xs) + 2.4)
    h = max(2.8, 0.75 * len(ys) + 1.5)
    fig, axes = _figure(len(specs), len(scenarios), (w * len(scenarios), h * len(specs)))
    for r, (metric, title) in enumerate(specs):
        sub = summary[summary["metric"] == metric]
        for c, s in enumerate(scenarios):
            ax = axes[r, c]
            grid = (
                sub[sub["scenario"] == s]
                .pivot_table(index=fy, columns=fx, values="mean", aggfunc="first", dropna=False)
                .reindex(index=ys[::-1], columns=xs)
                .astype(float)
            )
            vmin, vmax = _heat_limits(grid.to_numpy())
            top = max(abs(vmin), abs(vmax))
            fmt = ",.0f" if top >= 100 else ".1f" if top >= 10 else ".2f"
            sns.heatmap(
                grid,
                ax=ax,
                annot=True,
                fmt=fmt,
                cmap="viridis",
                vmin=vmin,
                vmax=vmax,
                cbar=True,
                cbar_kws={"label": "mean" if c == len(scenarios) - 1 else None, "shrink": 0.9},
                linewidths=0.5,
                linecolor="white",
                annot_kws={"fontsize": 9},
            )
            ax.set_title(f"{s.replace('_', ' ')}\n{title}", fontsize=10, color=scenario_colour(s), fontweight="bold")
            ax.set_xlabel(_wrap_name(fx))
            ax.set_ylabel(_wrap_name(fy) if c == 0 else "")
            ax.set_xticks(np.arange(len(xs)) + 0.5, [_fmt_value(v) for v in xs], rotation=0)
            ax.set_yticks(np.arange(len(ys)) + 0.5, [_fmt_value(v) for v in ys[::-1]], rotation=0)
    fig.suptitle(
        f"Mean outcome {RATE_UNIT} over {_n_seeds(result)} seeds, by the two swept settings\n"
        f"(colour scale per panel, spanning at least {PLUS_MINUS}{HEAT_MIN_SPAN:.0%} of its mean so "
        "that small differences look small;\nblank cell: no finished run)",
        fontsize=12,
    )
    return fig


def _heat_limits(values: np.ndarray) -> tuple[float, float]:
    """Colour limits for one heatmap panel: its range, widened to at least ±HEAT_MIN_SPAN of its mean."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    centre = (lo + hi) / 2
    half = max((hi - lo) / 2, HEAT_MIN_SPAN * abs(float(finite.mean())), 1e-9)
    return centre - half, centre + half


def _experiment_specs(result: SweepResult) -> tuple[Spec, ...]:
    """The experiment's own outcomes of interest (``experiment.metrics`` in its YAML), as panel specs."""
    names = ((result.meta or {}).get("experiment") or {}).get("metrics") or []
    return specs(*names)


def plot_experiment_metrics(result: SweepResult) -> plt.Figure | None:
    """The outcomes the experiment itself names as the answer to its question, by swept setting."""
    specs = _available(result, _experiment_specs(result))
    if not specs:
        return None
    return _metric_panels(result, specs, "The experiment's own outcomes")


PLOTS: dict[str, Callable[[SweepResult], plt.Figure | None]] = {
    "outcomes": plot_outcomes,
    "contacts_by_type": plot_contacts_by_type,
    "paired_differences": plot_paired_differences,
    "school_year": plot_time_series,
    "disproportionality": plot_rri,
    "heatmap": plot_heatmap,
    "experiment_metrics": plot_experiment_metrics,
}


def make_plots(result: SweepResult, out_dir: Path | None = None) -> dict[str, Path]:
    """Write every figure the sweep supports into ``out_dir`` (default ``sweep_dir/figures``); name -> path."""
    figures: dict[str, Path] = {}
    if result.runs.empty:
        return figures
    out_dir = Path(out_dir) if out_dir is not None else Path(result.sweep_dir) / FIGURES_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in PLOTS:
        (out_dir / f"{name}.png").unlink(missing_ok=True)
    _theme()
    for name, plot in PLOTS.items():
        try:
            fig = plot(result)
        except Exception as err:  # one figure that cannot be drawn must not lose the others or the report
            plt.close("all")
            print(f"warning: figure {name!r} not drawn: {type(err).__name__}: {err}", file=sys.stderr)
            continue
        if fig is not None:
            _save(fig, out_dir, name, figures)
    plt.close("all")
    return figures
