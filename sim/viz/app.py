"""The interactive view: Mesa's SolaraViz page for the borough model. Start it with ``scripts/view``.

Each browser session gets its own model (made by :func:`Page`), so two analysts (or two tabs) never share one.
The page is driven by Mesa's controls (Reset, Play, Step) and shows, for the policing model, borough and seed
chosen in the side panel:

* the running rates per 1,000 students per school year of the headline outcomes, with the over-policed split, and
  their relative rate indices (RRI: over-policed / not over-policed), all from the outcome registry
  (:mod:`sim.core.outcomes`);
* police contacts by type (the registry's contact types);
* a map of the borough: wards on their ring (shaded where over-policed), schools by phase and size, and the school
  runs, coloured under Safer Corridors by the share of days each route has been patrolled (today's patrols drawn
  thick);
* a second tab, "Sweep results", to open a sweep folder and browse its report, tables and figures
  (:mod:`sim.viz.results`);
* with a second policing model chosen ("Compare with"), both run on the same seed, stepping together (paired
  draws), and the running difference of each headline rate is shown.

Everything is drawn with matplotlib on the server and served as images, so the page needs no network: the front
end comes from the ``solara-assets`` package (pinned with solara, ipyvue < 3 and ipyvuetify < 3 in pyproject.toml).
"""

from __future__ import annotations

import html
import math
import warnings
from typing import Any

import matplotlib as mpl

mpl.use("Agg")

import mesa
import numpy as np
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.analysis.specs import scenario_colour, scenario_files
from sim.core.borough import SECONDARY
from sim.core.config import SimConfig
from sim.core.configure import load_built_in_mechanisms
from sim.core.model import BoroughModel, _seed_from, quiet_mesa
from sim.core.outcomes import INCIDENTS, REGISTRY, Kind
from sim.core.parameters import Parameter, parameters
from sim.core.paths import CONF_DIR
from sim.mechanisms.corridors import SaferCorridors
from sim.viz.results import Results

SCENARIOS = list(scenario_files())  # every policing model in conf/scenario/
BOROUGHS = ["small", "hackney", *(p.stem for p in sorted((CONF_DIR / "borough").glob("*.yaml")) if p.stem != "small")]
NONE = "(none)"
DEFAULTS: dict[str, Any] = {"policing": "hackney_pilot", "compare_with": NONE, "borough": "small", "rng": 0}

MAIN_PARAMETERS = (
    "students.labelling_effect",
    "police.over_policed_stop_weight",
    "police.over_policed_approach_weight",
    "scenario.mechanisms.points_budget.budget",
    "scenario.mechanisms.safer_corridors.patrol_share_of_routes",
)
"""The parameters the side panel offers, each with its declared default, unit and plausible range."""


def main_parameters() -> dict[str, Parameter]:
    """The :data:`MAIN_PARAMETERS` as declared (``sim.core.parameters``): keyword name -> declaration."""
    declared = {p.name: p for p in parameters(SimConfig, include=("students", "police"))}
    for name, cls in BUILT_IN_MECHANISMS_LOADED.items():
        declared |= {f"scenario.mechanisms.{name}.{p.name}": p for p in parameters(cls.Params)}
    return {name.replace(".", "__"): declared[name] for name in MAIN_PARAMETERS}


SHORT_LABELS = {
    "students__labelling_effect": "Labelling effect",
    "police__over_policed_stop_weight": "Stop weight, over-policed",
    "police__over_policed_approach_weight": "Approach weight, over-policed",
    "scenario__mechanisms__points_budget__budget": "Points budget",
    "scenario__mechanisms__safer_corridors__patrol_share_of_routes": "Corridor patrol share",
}


def slider_step(low: float, high: float, default: float) -> float:
    """The coarsest round step giving at least 50 positions with the default on the grid (a slider snaps to it)."""
    for step in (10, 5, 1, 0.5, 0.1, 0.05, 0.01, 0.005, 0.001, 0.0005, 0.0001):
        positions = (default - low) / step
        if (high - low) / step >= 50 and math.isclose(positions, round(positions), abs_tol=1e-9):
            return step
    return (high - low) / 1000


def _slider(keyword: str, p: Parameter) -> dict[str, Any]:
    assert p.range is not None, p.name
    low, high = (float(v) for v in p.range)
    return {
        "type": "SliderFloat",
        "value": float(p.value),
        "min": low,
        "max": high,
        "step": slider_step(low, high, float(p.value)),
        "label": SHORT_LABELS.get(keyword, keyword),
    }


BUILT_IN_MECHANISMS_LOADED = load_built_in_mechanisms()
PARAMETERS = main_parameters()

model_params: dict[str, Any] = {
    "policing": {"type": "Select", "value": DEFAULTS["policing"], "values": SCENARIOS, "label": "Policing model"},
    "compare_with": {
        "type": "Select",
        "value": DEFAULTS["compare_with"],
        "values": [NONE, *SCENARIOS],
        "label": "Compare with (same seed, paired)",
    },
    "borough": {"type": "Select", "value": DEFAULTS["borough"], "values": BOROUGHS, "label": "Borough"},
    "rng": {"type": "InputText", "value": str(DEFAULTS["rng"]), "label": "Seed"},
    **{keyword: _slider(keyword, p) for keyword, p in PARAMETERS.items()},
}


def headline_rates() -> list[str]:
    """The headline rates per 1,000 of the outcome registry, by rank."""
    return [m.key for m in REGISTRY.headline() if m.kind == Kind.RATE]


def rri_key(rate: str) -> str | None:
    """The RRI metric of a rate per 1,000 (``x_per_1000`` -> ``rri_x``), if the registry has one."""
    key = "rri_" + rate.removesuffix("_per_1000")
    return key if key in REGISTRY else None


class ViewModel(mesa.Model):
    """What one browser session runs: a policing model, and optionally a second one on the same seed (paired).

    Args:
        policing: the scenario (``conf/scenario/``) shown.
        compare_with: a second scenario run alongside on the same seed, or ``"(none)"``.
        borough: the borough config.
        rng: the seed (a number, or the text typed in the page).
        days: school days to run.
        scenario: Mesa's own ``Scenario`` that SolaraViz passes on Reset (not used).
        **settings: the side panel's parameters (:data:`MAIN_PARAMETERS`, as ``section__key``), for both runs.
    """

    def __init__(
        self,
        policing: str = DEFAULTS["policing"],
        compare_with: str = DEFAULTS["compare_with"],
        borough: str = DEFAULTS["borough"],
        rng: Any = DEFAULTS["rng"],
        days: int = 190,
        scenario: Any = None,
        **settings: Any,
    ) -> None:
        seed = _seed_from(rng)
        super().__init__(rng=seed)
        self.seed = seed
        names = [policing] + ([compare_with] if compare_with and compare_with != NONE else [])
        # a parameter left at its declared default is not passed (so a scenario without its mechanism has no note)
        self.settings = {
            k: v
            for k, v in settings.items()
            if k not in PARAMETERS or not math.isclose(v, PARAMETERS[k].value, rel_tol=1e-9, abs_tol=1e-12)
        }
        with warnings.catch_warnings():  # the notes are shown on the page
            warnings.simplefilter("ignore", UserWarning)
            self.runs = [
                BoroughModel(policing=name, borough=borough, days=days, rng=seed, **self.settings) for name in names
            ]
        self.rates = headline_rates()
        # per run: one row per day of the headline rates, their over-policed split and RRIs
        self.history: list[list[dict[str, float | None]]] = [[] for _ in self.runs]
        self.running = True

    @property
    def day(self) -> int:
        """School days run."""
        return self.runs[0].day

    def step(self) -> None:
        """One school day in every run."""
        for run, rows in zip(self.runs, self.history, strict=True):
            run.step()
            metrics = run.metrics()
            keys = [k for rate in self.rates for k in (rate, f"{rate}_over_policed", f"{rate}_not_over_policed")]
            keys += [k for k in (rri_key(r) for r in self.rates) if k]
            rows.append({k: metrics.get(k) for k in keys})
        self.running = all(run.running for run in self.runs)


def _label(run: BoroughModel) -> str:
    return str(run.config.scenario.name)


def _values(rows: list[dict[str, float | None]], key: str) -> np.ndarray:
    return np.array([np.nan if r.get(key) is None else r[key] for r in rows], dtype=float)


def rates_figure(model: ViewModel) -> Figure:
    """Running rates per 1,000 (with the over-policed split) and RRIs of the headline outcomes."""
    rates = model.rates
    fig = Figure(figsize=(11, 2.4 * math.ceil(len(rates) / 2) + 0.4), layout=None)
    axes = fig.subplots(math.ceil(len(rates) / 2), 2, squeeze=False).ravel()
    fig.subplots_adjust(left=0.07, right=0.98, top=0.95, bottom=0.07, hspace=0.35, wspace=0.15)  # fixed: fast
    days = np.arange(1, model.day + 1)
    for ax, rate in zip(axes, rates, strict=False):
        metric = REGISTRY[rate]
        for run, rows in zip(model.runs, model.history, strict=True):
            colour = scenario_colour(_label(run))
            ax.plot(days, _values(rows, rate), color=colour, lw=2, label=f"{_label(run)}: all")
            if f"{rate}_over_policed" in REGISTRY:
                ax.plot(days, _values(rows, f"{rate}_over_policed"), color=colour, ls="--", label="over-policed")
                ax.plot(days, _values(rows, f"{rate}_not_over_policed"), color=colour, ls=":", label="not")
        title = metric.short
        rri = rri_key(rate)
        if rri and model.history[0] and model.history[0][-1].get(rri) is not None:
            title += "  ·  RRI " + " / ".join(REGISTRY[rri].format(rows[-1].get(rri)) for rows in model.history)
        ax.set_title(title, fontsize=9, loc="left")
        ax.set_ylabel("per 1,000 / year", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(rates) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, ncol=1, frameon=False)
    axes[-1 if len(rates) % 2 == 0 else len(rates) - 1].set_xlabel("school day", fontsize=8)
    return fig


def difference_figure(model: ViewModel) -> Figure | None:
    """The running difference of each headline rate, second model minus first (paired: same seed), a panel each."""
    if len(model.runs) < 2:
        return None
    rates = model.rates
    fig = Figure(figsize=(11, 2.2), layout=None)
    axes = fig.subplots(1, len(rates), squeeze=False).ravel()
    fig.subplots_adjust(left=0.06, right=0.99, top=0.78, bottom=0.2, wspace=0.35)
    days = np.arange(1, model.day + 1)
    first, second = model.history
    a, b = (_label(run) for run in model.runs)
    for ax, rate in zip(axes, rates, strict=True):
        ax.plot(days, _values(second, rate) - _values(first, rate), color="#444")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(REGISTRY[rate].short, fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
    fig.suptitle(
        f"Running difference, {b} minus {a} (same seed: paired), per 1,000 per year", fontsize=9, x=0.01, ha="left"
    )
    axes[0].set_xlabel("school day", fontsize=8)
    return fig


def contacts_figure(model: ViewModel) -> Figure:
    """Police contacts so far by type (the registry's contact types), per run."""
    types = REGISTRY.contact_types
    fig = Figure(figsize=(5.5, 3), layout=None)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.32, right=0.97, top=0.9, bottom=0.1)
    height = 0.8 / len(model.runs)
    y = np.arange(len(types))
    for i, run in enumerate(model.runs):
        metrics = run.metrics()
        counts = [metrics.get(t.name) or 0 for t in types]
        ax.barh(y + i * height, counts, height, color=scenario_colour(_label(run)), label=_label(run))
    ax.set_yticks(y + height * (len(model.runs) - 1) / 2, [REGISTRY[t.name].short for t in types], fontsize=7)
    ax.invert_yaxis()
    ax.set_title(f"Police contacts by type, days 1-{model.day}", fontsize=9, loc="left")
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, frameon=False)
    return fig


def map_figure(run: BoroughModel) -> Figure:
    """The borough: wards on their ring (over-policed shaded), schools by phase, routes by patrol intensity."""
    b = run.borough
    fig = Figure(figsize=(5.5, 5.2), layout=None)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.01)
    angle = 2 * np.pi * np.arange(b.n_wards) / b.n_wards
    ward_xy = np.column_stack([np.cos(angle), np.sin(angle)])
    for w in range(b.n_wards):
        over = bool(b.ward_over_policed[w])
        ax.add_patch(
            mpl.patches.Circle(
                tuple(ward_xy[w]),
                0.28 if b.n_wards <= 8 else 1.6 / b.n_wards + 0.05,
                facecolor="#d9a0a0" if over else "#e8e8e8",
                edgecolor="#9a4040" if over else "#b0b0b0",
                zorder=0,
            )
        )
        ax.annotate(f"ward {w}", tuple(ward_xy[w] * 1.22), ha="center", va="center", fontsize=6, color="#555")
    # each school sits inside its ward, spread around the ward's centre
    school_xy = np.zeros((b.n_schools, 2))
    for w in range(b.n_wards):
        schools = np.flatnonzero(b.school_ward == w)
        for k, s in enumerate(schools):
            t = 2 * np.pi * k / max(1, len(schools))
            school_xy[s] = ward_xy[w] * 0.92 + 0.12 * np.array([np.cos(t), np.sin(t)]) * (len(schools) > 1)
    corridors = next((m for m in run.policing.mechanisms if isinstance(m, SaferCorridors)), None)
    if corridors is not None:  # the share of school days each route has been patrolled, and today's patrols
        intensity = corridors.intelligence.patrol_days / max(1, run.day)
        today = corridors.patrolled
    else:
        intensity, today = np.zeros(b.n_routes), np.zeros(b.n_routes, dtype=bool)
    cmap = mpl.colormaps["viridis_r"]
    top = max(float(intensity.max()), 1e-9)
    for r in range(b.n_routes):
        start, end = ward_xy[b.route_ward[r]] * 0.8, school_xy[b.route_school[r]]
        colour = cmap(intensity[r] / top) if corridors is not None else "#c8c8c8"
        ax.plot(*zip(start, end, strict=True), color=colour, lw=3.5 if today[r] else 1.0, alpha=0.9, zorder=1)
    secondary = b.school_phase == SECONDARY
    size = 20 + 80 * b.school_pupils / b.school_pupils.max()
    for phase, marker, colour, label in (
        (~secondary, "o", "#E69F00", "primary"),
        (secondary, "s", "#0072B2", "secondary"),
    ):
        x, y = school_xy[phase, 0], school_xy[phase, 1]
        ax.scatter(x, y, s=size[phase], marker=marker, c=colour, label=f"{label} school", zorder=3)
    if run.day:  # what happened at each school today: incidents (in school and on its school runs) and contacts
        today_counts = run.ledger.counts[run.day - 1].sum(axis=2)  # school x counter
        incidents = today_counts[:, int(INCIDENTS)]
        contacts = today_counts[:, [int(t) for t in REGISTRY.contact_types]].sum(axis=1)
        hit = contacts > 0
        ax.scatter(
            school_xy[hit, 0],
            school_xy[hit, 1],
            s=60 + 25 * contacts[hit],
            facecolors="none",
            edgecolors="#D55E00",
            linewidths=1.5,
            label="police contacts today",
            zorder=4,
        )
        for school in range(b.n_schools):
            if incidents[school] or contacts[school]:
                ax.annotate(
                    f"{incidents[school]} inc · {contacts[school]} cont",
                    tuple(school_xy[school]),
                    xytext=(0, -11),
                    textcoords="offset points",
                    ha="center",
                    fontsize=6,
                    color="#8a3b00",
                    zorder=5,
                )
    ax.set_aspect("equal")
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-1.5, 1.5)
    ax.axis("off")
    if corridors is not None:
        note = f"\nroutes: share of days patrolled (darker = more; max {top:.0%}); thick: patrolled today"
    else:
        note = "\nroutes: no Safer Corridors patrols in this policing model"
    ax.set_title(
        f"{_label(run)}, day {run.day}: wards shaded where over-policed;\ntoday's incidents (inc) and police contacts "
        f"(cont, ringed) by school; {note}",
        fontsize=8,
        loc="left",
    )
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    return fig


@solara.component
def Summary(model: ViewModel) -> None:
    """What is running, in words: the scenario(s), borough, seed and day."""
    update_counter.get()
    names = " vs ".join(_label(run) for run in model.runs)
    borough = model.runs[0].config.borough.name
    changed = ", ".join(f"{k.split('__')[-1]} = {v:g}" for k, v in model.settings.items())
    if changed:
        names += f" (with {changed})"
    solara.HTML(  # not solara.Markdown: that loads KaTeX, which the offline assets do not have
        tag="div",
        unsafe_innerHTML=f"<b>Running:</b> {html.escape(names)} · borough <b>{html.escape(borough)}</b> · "
        f"seed <b>{model.seed}</b> · school day <b>{model.day}</b> of {model.runs[0].config.days}",
        style={"font-size": "16px", "padding": "8px 0"},
    )
    for run in model.runs:
        for note in run.notes:
            solara.Warning(note)


@solara.component
def Rates(model: ViewModel) -> None:
    """The running rates and RRIs, and with two models their running difference."""
    update_counter.get()
    if model.day == 0:
        solara.Info("Press Step or Play to run school days; the rates per 1,000 appear here.")
        return
    solara.FigureMatplotlib(rates_figure(model), format="png", dpi=80)
    difference = difference_figure(model)
    if difference is not None:
        solara.FigureMatplotlib(difference, format="png", dpi=80)


@solara.component
def Borough(model: ViewModel) -> None:
    """The borough map of each run and the contacts by type."""
    update_counter.get()
    with solara.Row(style={"flex-wrap": "wrap"}):
        for run in model.runs:
            solara.FigureMatplotlib(map_figure(run), format="png", dpi=80)
        solara.FigureMatplotlib(contacts_figure(model), format="png", dpi=80)


@solara.component
def Dashboard(model: ViewModel) -> None:
    """Everything the analyst sees, full width under Mesa's controls."""
    with solara.Column(style={"padding": "0 16px"}), solara.lab.Tabs():
        with solara.lab.Tab("Live run"):
            Summary(model)
            Rates(model)
            Borough(model)
        with solara.lab.Tab("Sweep results"):
            Results()


@solara.component
def Page() -> None:
    """The page: a model of its own for each browser session, driven by Mesa's SolaraViz (Reset, Play, Step)."""
    quiet_mesa()
    initial = solara.use_memo(ViewModel, [])
    model: solara.Reactive[ViewModel] = solara.use_reactive(
        initial
    )  # SolaraViz's Reset sets model.value; the dashboard follows it
    SolaraViz(
        model,
        components=[],  # Mesa's draggable grid of half-width tiles is too small for these figures
        model_params=model_params,
        name="Schools policing: what each policing model does to children, day by day",
    )
    Dashboard(model.value)
