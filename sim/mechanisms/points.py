"""The points budget (Hackney pilot): each school spends a yearly budget of points on police-led activities.

Each school gets a budget of points per school year (20: Liberty 2025) to spend on activities from a menu
(assemblies, workshops, presentations, targeted weapon sweeps). The real price list is not public: the menu and its
prices are assumptions.
"""

from __future__ import annotations

import bisect
import itertools
import math
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sim.core.incidents import SCHOOL_YEAR_DAYS, Location
from sim.core.mechanism import Mechanism, MechanismParams
from sim.core.outcomes import POINTS_ACTIVITY, REGISTRY, Kind
from sim.core.parameters import NOT_A_PARAMETER, param

if TYPE_CHECKING:
    from sim.core.config import SimConfig

OWNER = "points_budget"
REGISTRY.officer_activity("points_activity", owner=OWNER, meaning="Officer hours running points-funded activities.")
REGISTRY.computed(
    "points_budget_per_school",
    kind=Kind.LABEL,
    unit="points per school per school year",
    label="Points budget per school",
    meaning="The points each school may spend per school year.",
    owner=OWNER,
    fmt="{:,.0f}",
)
REGISTRY.computed(
    "points_spent",
    kind=Kind.VALUE,
    unit="points",
    label="Points spent (all schools)",
    meaning="Points spent on police-led activities, summed over schools.",
    owner=OWNER,
    summary=True,
    fmt="{:,.0f}",
)


MENU_SOURCE = (
    "assumption: the draft toolkit named workshops, assemblies, presentations and targeted weapon sweeps; the real "
    "price list is not public, so costs, reach, hours and preferences are all assumptions"
)


class PointsActivity(BaseModel):
    """One item of the points menu."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(
        default=MENU_SOURCE,
        min_length=1,
        description="Where this item's figures come from (a citation, or 'assumption...'): the source of each setting",
        json_schema_extra=dict(NOT_A_PARAMETER),
    )
    cost: float = param(unit="points", range=(0.5, 100.0), meaning="Points it costs")
    reach: Literal["school", "year_group", "class"] = param(
        unit="who takes part", meaning="Who takes part (each participant is a police contact)"
    )
    officer_hours: float = param(unit="officer hours", range=(0.0, 24.0), meaning="Officer hours it takes")
    weight: float = param(unit="relative weight", range=(0.0, 100.0), meaning="Relative preference of schools for it")
    detects: str | None = param(
        None, unit="incident type", meaning="Incident type it can uncover (a weapon sweep); none for most items"
    )
    detection_probability: float = param(
        0.0,
        unit="probability per participant",
        range=(0.0, 1.0),
        meaning="Chance per participant of average risk that it uncovers one",
    )


def _draw_index(weights: list[float], rng: np.random.Generator) -> int:
    """An index drawn in proportion to ``weights``.

    What ``rng.choice(len(weights), p=weights / sum)`` does (the same number from the same generator), without its
    argument checks, which cost more than the draw.
    """
    total = sum(weights)  # numpy's sum of so few numbers adds them in order, as here
    cdf = list(itertools.accumulate(w / total for w in weights))
    return bisect.bisect_right([c / cdf[-1] for c in cdf], rng.random())


DEFAULT_MENU = {
    "assembly": PointsActivity(cost=4, reach="year_group", officer_hours=2.0, weight=1.0),
    "workshop": PointsActivity(cost=3, reach="class", officer_hours=2.0, weight=1.0),
    "presentation": PointsActivity(cost=2, reach="class", officer_hours=1.0, weight=1.0),
    "weapon_sweep": PointsActivity(
        cost=6,
        reach="year_group",
        officer_hours=4.0,
        weight=0.5,
        detects="weapon_possession",
        detection_probability=0.002,
    ),
}


class PointsBudgetParams(MechanismParams):
    """Parameters of the points budget."""

    budget: float = param(
        20.0,
        unit="points per school per school year",
        range=(0.0, 1000.0),
        meaning="Points each school spends on police-led activities per school year (pro rata for shorter runs)",
        source="Liberty 2025: 20 points per school per school year",
    )
    menu: dict[str, PointsActivity] = param(
        DEFAULT_MENU,
        unit="activities",
        meaning="The police-led activities that points buy: cost, reach, officer hours, preference, what it finds",
        source=MENU_SOURCE,
    )


class PointsBudget(Mechanism):
    """Each school spends its budget on menu items on random days; each item is a police contact per participant."""

    name = OWNER
    Params: ClassVar[type[MechanismParams]] = PointsBudgetParams
    params: PointsBudgetParams

    @classmethod
    def check_config(cls, config: SimConfig, params: Any) -> None:
        """Every activity that detects must name an incident type in the catalogue."""
        for name, item in params.menu.items():
            if item.detects is not None and item.detects not in config.incidents.types:
                raise ValueError(
                    f"scenario.mechanisms.points_budget.menu.{name}.detects: unknown incident type {item.detects!r}; "
                    f"allowed: {sorted(config.incidents.types)}"
                )

    def setup(self) -> None:
        """Plan each school's activities for the run; prepare their random streams."""
        model = self.model
        self._spent = 0.0
        self.plan = self._plan()
        # the generators of the planned activities (see _run_activity), their seeds hashed ahead in one pass
        model.streams.prepare(
            "points_activity",
            [
                (day, school, occurrence)
                for day, items in self.plan.items()
                for occurrence, (school, _) in enumerate(items)
            ],
        )
        self._year_groups_of: dict[int, np.ndarray] = {}

    def proactive_activities(self, day: int) -> None:
        """The activities planned for today."""
        for occurrence, (school_index, activity) in enumerate(self.plan.get(day, ())):
            self._run_activity(day, school_index, activity, occurrence)

    def _plan(self) -> dict[int, list[tuple[int, str]]]:
        """Each school spends its yearly budget on menu items (by preference, while affordable) on random days.

        A run shorter than a school year (or a last, partial year) gets the budget pro rata.
        """
        model = self.model
        menu = self.params.menu
        names = list(menu)
        cost = [float(menu[n].cost) for n in names]
        weight = [float(menu[n].weight) for n in names]
        plan: dict[int, list[tuple[int, str]]] = {}
        years = math.ceil(model.config.days / SCHOOL_YEAR_DAYS)
        for school in range(model.borough.n_schools):
            for year in range(years):
                rng = model.streams.generator("points_plan", school, year)
                first = year * SCHOOL_YEAR_DAYS
                last = min(model.config.days, first + SCHOOL_YEAR_DAYS)
                remaining = self.params.budget * (last - first) / SCHOOL_YEAR_DAYS
                while True:
                    p = [w if c <= remaining + 1e-9 and w > 0 else 0.0 for c, w in zip(cost, weight, strict=True)]
                    if not any(p):
                        break
                    k = _draw_index(p, rng)
                    remaining -= cost[k]
                    day = int(rng.integers(first, last))
                    plan.setdefault(day, []).append((school, names[k]))
        return plan

    def _run_activity(self, day: int, school_index: int, name: str, occurrence: int) -> None:
        """One planned activity: a police contact for each participant; a sweep may find weapons."""
        model = self.model
        item = self.params.menu[name]
        school = model.schools[school_index]
        officer = school.link_officer or model.response_officer
        pop = model.population
        rng = model.streams.generator("points_activity", day, school_index, occurrence)
        students = pop.students_of_school(school_index)
        if item.reach == "year_group":
            years = self._year_groups(school_index)
            year = int(years[rng.integers(len(years))])  # one of the school's year groups (as rng.choice(years))
            students = students[pop.year_group[students] == year]
        elif item.reach == "class":
            teacher = school.teachers[int(rng.integers(len(school.teachers)))]
            students = pop.students_of_class(teacher.class_id)
        self._spent += item.cost
        officer.log_hours("points_activity", item.officer_hours, school_index)
        model.add_contacts(students, POINTS_ACTIVITY)
        if item.detects is not None and item.detection_probability > 0:
            type_ = model.catalogue.by_name[item.detects]
            p = np.minimum(1.0, item.detection_probability * model.risk_today[students])
            u = model.streams.uniforms("sweep_find", day, students, slot=occurrence)
            found = students[u < p]
            for incident in model.catalogue.make_incidents(model, day, found, [type_] * len(found), Location.SWEEP):
                incident.noticed = True
                model.police_attend(officer, incident, contact=None)

    def _year_groups(self, school_index: int) -> np.ndarray:
        """The year groups a school has (sorted; fixed for a run, so found once)."""
        years = self._year_groups_of.get(school_index)
        if years is None:
            years = np.unique(self.model.population.year_group[self.model.population.students_of_school(school_index)])
            self._year_groups_of[school_index] = years
        return years

    def metrics(self) -> dict[str, Any]:
        """The budget and the points spent so far, summed over schools."""
        return {"points_budget_per_school": self.params.budget, "points_spent": self._spent}
