"""The Hackney pilot (2025): advisors without regular presence, Safer Corridors patrols, a points budget.

1. School-linked officers no longer have a regular presence in schools: they are tactical advisors to staff, whose
   advice involves no contact with the child.
2. They use intelligence data to pick routes to and from schools and patrol them (Safer Corridors): stops, and
   detection of what happens on the routes patrolled. Routes are chosen each day from *recorded* incidents, so the
   feedback loop of DESIGN §4.6 exists; ``route_selection`` chooses the rule (see :mod:`sim.mechanisms.corridors`).
3. Each school gets a budget of points per school year (20: Liberty 2025) to spend on police-led activities from a
   menu. The real price list is not public: the menu and its prices are assumptions.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import math
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from sim.core.agents import Officer
from sim.core.config import NonNegative, Positive, Probability, Settings
from sim.core.incidents import SCHOOL_YEAR_DAYS, Location
from sim.core.outcomes import ContactType
from sim.mechanisms.base import LinkedAdvisorParams, LinkedAdvisorPolicing
from sim.mechanisms.corridors import RouteIntelligence, RouteSelection, total_variation, weighted_sample

if TYPE_CHECKING:
    from sim.core.config import SimConfig
    from sim.core.incidents import Incident


_TAIL_DAYS = 20  # the window of the patrols' last-days distance from true risk


class PointsActivity(Settings):
    """One item of the points menu."""

    cost: Positive = Field(description="Points it costs")
    reach: Literal["school", "year_group", "class"] = Field(description="Who takes part (each is a police contact)")
    officer_hours: NonNegative = Field(description="Officer hours it takes")
    weight: NonNegative = Field(description="Relative preference of schools for it")
    detects: str | None = Field(default=None, description="Incident type it can uncover (a weapon sweep)")
    detection_probability: Probability = Field(
        default=0.0, description="Chance per participant of average risk that it uncovers one"
    )


def _draw_index(weights: list[float], rng: np.random.Generator) -> int:
    """An index drawn in proportion to ``weights``.

    What ``rng.choice(len(weights), p=weights / sum)`` does (the same number from the same generator), without its
    argument checks, which cost more than the draw.
    """
    total = sum(weights)  # numpy's sum of so few numbers adds them in order, as here
    cdf = list(itertools.accumulate(w / total for w in weights))
    return bisect.bisect_right([c / cdf[-1] for c in cdf], rng.random())


class HackneyPilotParams(LinkedAdvisorParams):
    """Parameters of the Hackney pilot."""

    points_budget: NonNegative = Field(
        description="Points each school spends on police-led activities per school year (pro rata for shorter runs)"
    )
    points_menu: dict[str, PointsActivity] = Field(description="The police-led activities that points buy")
    patrol_share_of_routes: Probability = Field(
        description="Share of school routes patrolled each school day (at least one route when above 0)"
    )
    patrol_hours: NonNegative = Field(description="Officer hours per route patrol")
    stops_per_patrol: NonNegative = Field(
        description="Mean stops per patrol of a route of average size (Poisson; in proportion to the route's pupils)"
    )
    patrol_detection_probability: Probability = Field(
        description="Probability a patrol sees a school-run incident on its route that day"
    )
    stop_find_probability: Probability = Field(
        description="Probability a stop finds a possession offence on a secondary pupil of average school-run risk"
    )
    route_selection: RouteSelection = Field(
        description="Rule picking the day's routes: proportional, top_k, exposure_corrected, uniform, true_risk"
    )
    historic_records_per_route: NonNegative = Field(
        description="Mean recorded incidents per route before the pilot (Poisson, times the route's true risk)"
    )
    historic_over_policing_bias: Positive = Field(
        description="Multiplier on historic records of routes from over-policed wards"
    )
    patrol_deterrence: Probability = Field(
        description="Proportional fall in school-run incident risk on a route while it is patrolled"
    )


class HackneyPilot(LinkedAdvisorPolicing):
    """Advisors, Safer Corridors and the points budget."""

    Params = HackneyPilotParams
    params: HackneyPilotParams

    @classmethod
    def check_config(cls, config: SimConfig, params: HackneyPilotParams) -> None:
        """Every activity that detects must name an incident type in the catalogue."""
        for name, item in params.points_menu.items():
            if item.detects is not None and item.detects not in config.incidents.types:
                raise ValueError(
                    f"scenario.params.points_menu.{name}.detects: unknown incident type {item.detects!r}; "
                    f"allowed: {sorted(config.incidents.types)}"
                )

    def setup(self) -> None:
        """Link advisors to schools, seed route intelligence with (biased) history, plan each school's points."""
        super().setup()
        model = self.model
        borough = model.borough
        rng = model.streams.generator("route_history")
        bias = np.where(borough.ward_over_policed[borough.route_ward], self.params.historic_over_policing_bias, 1.0)
        expected = self.params.historic_records_per_route * borough.route_risk * bias
        model.intelligence = RouteIntelligence(borough.n_routes, rng.poisson(expected))
        self.patrolled = np.zeros(borough.n_routes, dtype=bool)
        self.patrol_history: list[np.ndarray] = []
        # The true pattern of school-run risk the patrols are compared with (extra_metrics). Each day's route rates
        # (BoroughModel.route_true_rate) are kept when the oracle rule needs them or the run is longer than a
        # school year; otherwise the metrics need only the students' risk summed over the run and the last days'
        # risk, which saves the daily route sums (a few per cent of a run).
        self.true_rate_history: list[np.ndarray] = []
        self._daily_true_rates = self.params.route_selection == "true_risk" or model.config.days > SCHOOL_YEAR_DAYS
        self._risk_sum = np.zeros(model.population.n)
        self._recent_risk: collections.deque[np.ndarray] = collections.deque(maxlen=_TAIL_DAYS)
        self.stops = 0
        self.stops_with_record = 0
        self.stops_with_find = 0
        self._spent = 0.0
        self.plan = self._plan_points()
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
        self._fixed_stop_weights: dict[int, np.ndarray] = {}
        street = model.street_base_rate
        secondary = model.population.phase == 1
        reference = street[secondary].mean() if secondary.any() else street.mean()
        self._carrying = street / reference if reference > 0 else np.zeros_like(street)
        sizes = np.bincount(model.population.route, minlength=borough.n_routes)
        self._mean_route_size = float(sizes[sizes > 0].mean()) if (sizes > 0).any() else 1.0
        share = self.params.patrol_share_of_routes
        self.patrols_per_day = max(1, round(share * borough.n_routes)) if share > 0 else 0

    # --- advisors ----------------------------------------------------------------------------------------------
    # --- Safer Corridors ---------------------------------------------------------------------------------------
    def start_of_day(self, day: int) -> None:
        """Choose today's patrolled routes from the route intelligence."""
        model = self.model
        true_rate = None
        if self._daily_true_rates:
            true_rate = model.route_true_rate()
            self.true_rate_history.append(true_rate)
        else:
            self._risk_sum += model.risk_today
            self._recent_risk.append(model.risk_today)  # today's risk is a new, read-only array each day
        rng = model.streams.generator("corridor_selection", day)
        self.patrolled = model.intelligence.select(self.params.route_selection, self.patrols_per_day, rng, true_rate)
        self.patrol_history.append(self.patrolled)

    def street_risk_multiplier(self) -> np.ndarray | None:
        """Deterrence on patrolled routes (none by default: no reliable evidence)."""
        if self.params.patrol_deterrence == 0:
            return None
        return np.where(self.patrolled, 1.0 - self.params.patrol_deterrence, 1.0)

    def patrol_officer(self, route: int) -> Officer:
        """The officer patrolling a route: the advisor linked to the route's school."""
        return (
            self.model.schools[int(self.model.borough.route_school[route])].link_officer or self.model.response_officer
        )

    def _stop_weights(self, officer: Officer, route: int) -> np.ndarray:
        """The officer's selection weights (``Officer.stop_weights``) over the students on a route.

        The default rule depends only on who is from an over-policed community, so a route's weights are worked out
        once.
        """
        students = self.model.population.students_on_route(route)
        if type(officer).stop_weights is not Officer.stop_weights:
            return officer.stop_weights(students)
        weights = self._fixed_stop_weights.get(route)
        if weights is None:
            weights = self._fixed_stop_weights[route] = officer.stop_weights(students)
        return weights

    def detects_street_incident(self, incident: Incident) -> Officer | None:
        """A patrol on the route may see what happens there."""
        if not self.patrolled[incident.route]:
            return None
        if incident.draw("patrol_detection") < self.params.patrol_detection_probability:
            return self.patrol_officer(incident.route)
        return None

    def proactive_activities(self, day: int) -> None:
        """Corridor patrols and their stops; the points-funded activities planned for today."""
        self._patrol_routes(day)
        for occurrence, (school_index, activity) in enumerate(self.plan.get(day, ())):
            self._run_activity(day, school_index, activity, occurrence)

    def _patrol_routes(self, day: int) -> None:
        """Each patrol stops students on its route; then what the day's stops find, all stops at once."""
        model = self.model
        pop = model.population
        catalogue = model.catalogue
        rng = model.streams.generator("corridor_stops", day)
        stopped_by_patrol: list[np.ndarray] = []
        officer_by_patrol: list[Officer] = []
        for route in np.flatnonzero(self.patrolled).tolist():
            officer = self.patrol_officer(route)
            school = int(model.borough.route_school[route])
            officer.log_hours("patrol", self.params.patrol_hours, school)
            students = pop.students_on_route(route)
            # Busier routes see more stops: the mean is per patrol on a route of average size.
            k = min(
                len(students), int(rng.poisson(self.params.stops_per_patrol * len(students) / self._mean_route_size))
            )
            if k == 0:
                continue
            stopped_by_patrol.append(students[weighted_sample(self._stop_weights(officer, route), k, rng)])
            officer_by_patrol.append(officer)
        if not stopped_by_patrol:
            return
        # A student is on one route and a patrol stops someone at most once: nobody is stopped twice in a day.
        stopped = np.concatenate(stopped_by_patrol)
        patrol = np.repeat(np.arange(len(stopped_by_patrol)), [len(s) for s in stopped_by_patrol])
        model.add_contacts(stopped, ContactType.CORRIDOR_STOP)
        self.stops += len(stopped)
        # Carrying follows the student's street risk (propensity, age and the route's true risk), relative to
        # the average secondary pupil's: stop_find_probability is the find rate for such a pupil.
        risk = model.risk_today[stopped] * self._carrying[stopped]
        p_find = np.minimum(1.0, self.params.stop_find_probability * risk)
        u_find, u_type = model.streams.uniforms_for(("stop_find", "stop_find_type"), day, stopped)
        found = np.flatnonzero(u_find < p_find)
        types = catalogue.types_found_by_stop(u_type[found])
        if not types:
            return
        incidents = catalogue.make_incidents(model, day, stopped[found], types, Location.STOP)
        for i, incident in zip(found.tolist(), incidents, strict=True):
            self.stops_with_find += 1
            incident.noticed = True
            model.police_attend(officer_by_patrol[patrol[i]], incident, contact=None, by_patrol=True)
            self.stops_with_record += int(incident.recorded)

    # --- points ------------------------------------------------------------------------------------------------
    def _plan_points(self) -> dict[int, list[tuple[int, str]]]:
        """Each school spends its yearly budget on menu items (by preference, while affordable) on random days.

        A run shorter than a school year (or a last, partial year) gets the budget pro rata.
        """
        model = self.model
        menu = self.params.points_menu
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
                remaining = self.params.points_budget * (last - first) / SCHOOL_YEAR_DAYS
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
        model = self.model
        item = self.params.points_menu[name]
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
        model.add_contacts(students, ContactType.POINTS_ACTIVITY)
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

    def points_spent(self) -> float:
        """Points spent so far, summed over schools."""
        return self._spent

    def extra_metrics(self) -> dict[str, Any]:
        """Corridor patrols: stops, finds, no-further-action share, and how far patrols are from true risk."""
        model = self.model
        days = len(self.patrol_history)
        patrol_days = np.sum(self.patrol_history, axis=0) if days else np.zeros(1)
        tail, year = min(_TAIL_DAYS, days), min(SCHOOL_YEAR_DAYS, days)
        if self._daily_true_rates:
            history = self.true_rate_history
            true_rate = np.sum(history, axis=0) if days else np.zeros(1)
            tail_rate = np.sum(history[-tail:], axis=0) if tail else None
            year_rate = np.sum(history[-year:], axis=0) if year else None
        else:  # at most a school year run: its last school year is all of it
            true_rate = model.route_true_rate(self._risk_sum)  # the days' route rates, summed over the days
            # the deque holds the last min(20, days) days' risk: exactly the tail
            tail_rate = np.sum([model.route_true_rate(risk) for risk in self._recent_risk], axis=0) if tail else None
            year_rate = true_rate if year else None
        tail_tv = total_variation(np.sum(self.patrol_history[-tail:], axis=0), tail_rate) if tail else None
        year_tv = total_variation(np.sum(self.patrol_history[-year:], axis=0), year_rate) if year else None
        return {
            "points_budget_per_school": self.params.points_budget,
            "corridor_patrols": float(patrol_days.sum()),
            "corridor_stops": self.stops,
            "corridor_stops_with_find": self.stops_with_find,
            "corridor_stops_no_further_action_share": (1 - self.stops_with_record / self.stops) if self.stops else None,
            "corridor_patrol_risk_tv_distance": total_variation(patrol_days, true_rate),
            "corridor_patrol_risk_tv_distance_last_20_days": tail_tv,
            "corridor_patrol_risk_tv_distance_last_school_year": year_tv,
        }
