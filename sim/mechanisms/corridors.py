"""Safer Corridors: intelligence-led patrols of school routes, the stops they make, and what they find.

Routes are chosen from *recorded* incidents, and records arise where patrols go: a feedback loop that can run away
from the true pattern of risk (Ensign et al. 2018, "Runaway Feedback Loops in Predictive Policing"). The rules:

* ``proportional``: patrol routes with probability proportional to records (the urn model of Ensign et al.);
* ``top_k``: patrol the routes with the most records (greedy hot spots);
* ``exposure_corrected``: the correction Ensign et al. propose, discounting what patrols find in proportion to how
  often a route is patrolled: routes are sampled by their posterior rate of finds *per patrol*, not by raw counts;
* ``uniform``: every route equally (no intelligence);
* ``true_risk``: proportional to the true incident rate (an oracle, as a reference).
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from sim.core.agents import Officer
from sim.core.incidents import SCHOOL_YEAR_DAYS, Location
from sim.core.mechanism import Mechanism, MechanismParams
from sim.core.outcomes import CORRIDOR_STOP, REGISTRY, Kind
from sim.core.parameters import param

if TYPE_CHECKING:
    from sim.core.incidents import Incident

_TAIL_DAYS = 20  # the window of the patrols' last-days distance from true risk
OWNER = "safer_corridors"

RouteSelection = Literal["proportional", "top_k", "exposure_corrected", "uniform", "true_risk"]


class RouteIntelligence:
    """Recorded street crime by route, and patrol exposure.

    Args:
        n_routes: number of routes.
        prior_records: historic records per route at the start (biased where policing was heavier).
    """

    def __init__(self, n_routes: int, prior_records: np.ndarray) -> None:
        self.records = prior_records.astype(float).copy()
        self.patrol_finds = np.zeros(n_routes)
        self.patrol_days = np.zeros(n_routes)

    def add_record(self, route: int, by_patrol: bool) -> None:
        """A crime recorded on this route (from a patrol, or reported by the public)."""
        self.records[route] += 1
        if by_patrol:
            self.patrol_finds[route] += 1

    def select(
        self, rule: RouteSelection, k: int, rng: np.random.Generator, true_rate: np.ndarray | None
    ) -> np.ndarray:
        """Choose ``k`` distinct routes to patrol today; returns a boolean mask over routes."""
        n = len(self.records)
        k = min(k, n)
        chosen = np.zeros(n, dtype=bool)
        if k == 0:
            return chosen
        if rule == "top_k":
            # ties broken at random so equal routes share patrols
            idx = np.lexsort((rng.random(n), -self.records))[:k]
        elif rule == "proportional":
            idx = weighted_sample(self.records + 1e-9, k, rng)
        elif rule == "exposure_corrected":
            # Gamma posterior of finds per patrol-day, prior centred on the borough-wide mean.
            mean_rate = (self.patrol_finds.sum() + 1.0) / (self.patrol_days.sum() + 1.0)
            shape = self.patrol_finds + 1.0
            rate = self.patrol_days + 1.0 / mean_rate
            idx = weighted_sample(shape / rate, k, rng)
        elif rule == "uniform":
            idx = rng.choice(n, size=k, replace=False)
        elif rule == "true_risk":
            if true_rate is None:
                raise ValueError("route selection by true risk needs today's true route rates")
            idx = weighted_sample(true_rate + 1e-12, k, rng)
        else:  # pragma: no cover - validated by the config schema
            raise ValueError(f"unknown route selection rule {rule!r}")
        chosen[idx] = True
        self.patrol_days[chosen] += 1
        return chosen


def weighted_sample(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """K distinct indices drawn without replacement, each draw proportional to weight (Efraimidis-Spirakis keys)."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    keys = np.log(rng.random(len(weights)))
    keys /= weights
    np.negative(keys, out=keys)
    return keys.argpartition(k - 1)[:k]


def total_variation(a: np.ndarray, b: np.ndarray) -> float | None:
    """Total-variation distance between two distributions given as non-negative weights (0 same, 1 disjoint)."""
    if a.sum() <= 0 or b.sum() <= 0:
        return None
    return float(0.5 * np.abs(a / a.sum() - b / b.sum()).sum())


# --- outcomes ----------------------------------------------------------------------------------------------------
REGISTRY.officer_activity("patrol", owner=OWNER, meaning="Officer hours patrolling school routes.")
for _key, _kind, _unit, _label, _meaning in (
    ("corridor_patrols", Kind.COUNT, "route patrols", "Corridor patrols", "Route patrols (route-days patrolled)."),
    ("corridor_stops", Kind.COUNT, "stops", "Corridor stops", "Young people stopped by corridor patrols."),
    ("corridor_stops_with_find", Kind.COUNT, "stops", "Corridor stops that found an offence",
     "Corridor stops that found a possession offence."),
    ("corridor_stops_no_further_action_share", Kind.SHARE, "share of stops", "Corridor stops with no further action",
     "Share of corridor stops that ended without a crime record."),
    ("corridor_patrol_risk_tv_distance", Kind.VALUE, "total-variation distance (0-1)",
     "Patrols vs true risk (whole run)",
     "Total-variation distance between where patrols went and where school-run incidents were expected (0: patrols "
     "follow true risk exactly, 1: disjoint), over the whole run."),
    ("corridor_patrol_risk_tv_distance_last_20_days", Kind.VALUE, "total-variation distance (0-1)",
     "Patrols vs true risk (last 20 days)", "As corridor_patrol_risk_tv_distance, over the last 20 school days."),
    ("corridor_patrol_risk_tv_distance_last_school_year", Kind.VALUE, "total-variation distance (0-1)",
     "Patrols vs true risk (last school year)",
     "As corridor_patrol_risk_tv_distance, over the last 190 school days."),
):  # fmt: skip
    REGISTRY.computed(_key, kind=_kind, unit=_unit, label=_label, meaning=_meaning, owner=OWNER,
                      fmt="{:.1%}" if _kind is Kind.SHARE else "{:,.3f}" if _kind is Kind.VALUE
                      else "{:,.0f}")  # fmt: skip


class SaferCorridorsParams(MechanismParams):
    """Parameters of Safer Corridors."""

    patrol_share_of_routes: float = param(
        0.03,
        unit="share of routes per school day",
        range=(0.0, 1.0),
        meaning="Share of school routes patrolled each school day (at least one route when above 0)",
        source="assumption: share of school routes patrolled each school day (~7 in Hackney)",
    )
    patrol_hours: float = param(
        1.5,
        unit="officer hours per patrol",
        range=(0.0, 8.0),
        meaning="Officer hours per route patrol",
        source="assumption: officer hours per route patrol (before and after school)",
    )
    stops_per_patrol: float = param(
        2.0,
        unit="stops per patrol",
        range=(0.0, 50.0),
        meaning="Mean stops per patrol of a route of average size (Poisson; in proportion to the route's pupils)",
        source="assumption: mean stops of young people per patrol of a route of average size",
    )
    patrol_detection_probability: float = param(
        0.5,
        unit="probability",
        range=(0.0, 1.0),
        meaning="Probability a patrol sees a school-run incident on its route that day",
        source="assumption: chance a patrol sees an incident on its route that day",
    )
    stop_find_probability: float = param(
        0.32,
        unit="probability",
        range=(0.0, 1.0),
        meaning="Probability a stop finds a possession offence on a secondary pupil of average school-run risk",
        source="assumption, calibrated (python -m sim.validate) so ~77% of stops end in no further action "
        "(Youth Justice Statistics 2022/23)",
    )
    route_selection: RouteSelection = param(
        "proportional",
        unit="rule",
        meaning="Rule picking the day's routes: proportional, top_k, exposure_corrected, uniform, true_risk",
        source="Ensign et al. 2018 urn model: routes chosen in proportion to recorded incidents",
    )
    historic_records_per_route: float = param(
        2.0,
        unit="records per route",
        range=(0.0, 100.0),
        meaning="Mean recorded incidents per route before the pilot (Poisson, times the route's true risk)",
        source="assumption: records per route before the pilot",
    )
    historic_over_policing_bias: float = param(
        2.0,
        unit="multiplier",
        range=(0.01, 10.0),
        meaning="Multiplier on historic records of routes from over-policed wards",
        source="assumption: historic records doubled where policing was heavier",
    )
    patrol_deterrence: float = param(
        0.0,
        unit="proportional fall in risk",
        range=(0.0, 1.0),
        meaning="Proportional fall in school-run incident risk on a route while it is patrolled",
        source="assumption: no reliable evidence of a deterrent effect (Liberty 2025)",
    )


class SaferCorridors(Mechanism):
    """Patrols of the day's routes, chosen from route intelligence; stops, and what patrols see and find.

    The patrolling officer is the officer linked to the route's school (an advisor), else the response team.
    """

    name = OWNER
    Params: ClassVar[type[MechanismParams]] = SaferCorridorsParams
    params: SaferCorridorsParams

    def setup(self) -> None:
        """Seed route intelligence with (biased) history; prepare what stops and the distance metrics need."""
        model = self.model
        borough = model.borough
        rng = model.streams.generator("route_history")
        bias = np.where(borough.ward_over_policed[borough.route_ward], self.params.historic_over_policing_bias, 1.0)
        expected = self.params.historic_records_per_route * borough.route_risk * bias
        self.intelligence = RouteIntelligence(borough.n_routes, rng.poisson(expected))
        self.patrolled = np.zeros(borough.n_routes, dtype=bool)
        self.patrol_history: list[np.ndarray] = []
        # The true pattern of school-run risk the patrols are compared with (metrics). Each day's route rates
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
        self._students_on_routes()
        share = self.params.patrol_share_of_routes
        self.patrols_per_day = max(1, round(share * borough.n_routes)) if share > 0 else 0

    def _students_on_routes(self) -> None:
        """What stops need to know of the students on the routes: their carrying, the mean route size."""
        model = self.model
        street = model.street_base_rate
        secondary = model.population.phase == 1
        reference = street[secondary].mean() if secondary.any() else street.mean()
        self._carrying = street / reference if reference > 0 else np.zeros_like(street)
        sizes = np.bincount(model.population.route, minlength=model.borough.n_routes)
        self._mean_route_size = float(sizes[sizes > 0].mean()) if (sizes > 0).any() else 1.0

    def start_of_school_year(self, year: int) -> None:
        """Students have moved school and arrived: who is on each route has changed."""
        self._students_on_routes()

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
        self.patrolled = self.intelligence.select(self.params.route_selection, self.patrols_per_day, rng, true_rate)
        self.patrol_history.append(self.patrolled)

    def street_risk_multiplier(self) -> np.ndarray | None:
        """Deterrence on patrolled routes (none by default: no reliable evidence)."""
        if self.params.patrol_deterrence == 0:
            return None
        return np.where(self.patrolled, 1.0 - self.params.patrol_deterrence, 1.0)

    def patrol_officer(self, route: int) -> Officer:
        """The officer patrolling a route: the officer linked to the route's school, else the response team."""
        model = self.model
        return model.schools[int(model.borough.route_school[route])].link_officer or model.response_officer

    def detects_street_incident(self, incident: Incident) -> Officer | None:
        """A patrol on the route may see what happens there."""
        if not self.patrolled[incident.route]:
            return None
        if incident.draw("patrol_detection") < self.params.patrol_detection_probability:
            return self.patrol_officer(incident.route)
        return None

    def after_crime_record(self, incident: Incident, officer: Officer, by_patrol: bool) -> None:
        """A record on the school run feeds the route intelligence (and counts as a find if a patrol made it)."""
        if incident.location in (Location.STREET, Location.STOP):
            self.intelligence.add_record(incident.route, by_patrol)

    def proactive_activities(self, day: int) -> None:
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
            weights = officer.weights_for(("route", route), students)
            stopped_by_patrol.append(students[weighted_sample(weights, k, rng)])
            officer_by_patrol.append(officer)
        if not stopped_by_patrol:
            return
        # A student is on one route and a patrol stops someone at most once: nobody is stopped twice in a day.
        stopped = np.concatenate(stopped_by_patrol)
        patrol = np.repeat(np.arange(len(stopped_by_patrol)), [len(s) for s in stopped_by_patrol])
        model.add_contacts(stopped, CORRIDOR_STOP)
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

    def metrics(self) -> dict[str, Any]:
        """Patrols, stops, finds, the no-further-action share, and how far patrols are from true risk."""
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
        tail_tv = None if tail_rate is None else total_variation(np.sum(self.patrol_history[-tail:], axis=0), tail_rate)
        year_tv = None if year_rate is None else total_variation(np.sum(self.patrol_history[-year:], axis=0), year_rate)
        return {
            "corridor_patrols": float(patrol_days.sum()),
            "corridor_stops": self.stops,
            "corridor_stops_with_find": self.stops_with_find,
            "corridor_stops_no_further_action_share": (1 - self.stops_with_record / self.stops) if self.stops else None,
            "corridor_patrol_risk_tv_distance": total_variation(patrol_days, true_rate),
            "corridor_patrol_risk_tv_distance_last_20_days": tail_tv,
            "corridor_patrol_risk_tv_distance_last_school_year": year_tv,
        }
