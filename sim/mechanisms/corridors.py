"""Safer Corridors: intelligence-led patrols of school routes, the stops they make, and what they find.

Routes are chosen from *recorded* incidents, and records arise where patrols go: a feedback loop that can run away
from the true pattern of risk (Ensign et al. 2018, "Runaway Feedback Loops in Predictive Policing"). The rules:

* ``proportional``: patrol routes with probability proportional to records plus a prior pseudo-count (the urn model
  of Ensign et al., with a prior so that a route without history can be patrolled);
* ``top_k``: patrol the routes with the most records (greedy hot spots);
* ``exposure_corrected``: the correction Ensign et al. propose, discounting what patrols find in proportion to how
  often a route is patrolled: each patrol find counts in inverse proportion to the route's patrol days;
* ``uniform``: every route equally (no intelligence);
* ``true_risk``: proportional to the true incident rate (an oracle, as a reference).

Patrols work the morning school run, before the day's incidents. They stop secondary pupils only, chosen by the
officer's suspicion: the documented bias (``Officer.stop_weights``) times a noisy signal of whether the pupil
carries something (sim/core/possession.py). A stop finds an item only if the pupil carries one; a weapon found is
removed, so that pupil's weapon incidents that day are averted (docs/ODD.md §7.9).
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import scipy.special

from sim.core.agents import Officer
from sim.core.borough import SECONDARY
from sim.core.incidents import SCHOOL_YEAR_DAYS, Location
from sim.core.mechanism import Mechanism, MechanismParams, PreEmption
from sim.core.outcomes import CORRIDOR_STOP, REGISTRY, Kind
from sim.core.parameters import param
from sim.core.possession import NOTHING, carried_items

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
        prior_pseudo_count: records added to every route's weight under the ``proportional`` rule (a prior).
    """

    def __init__(self, n_routes: int, prior_records: np.ndarray, prior_pseudo_count: float = 0.0) -> None:
        self.records = prior_records.astype(float).copy()
        self.patrol_finds = np.zeros(n_routes)
        self.patrol_days = np.zeros(n_routes)
        self.prior_pseudo_count = prior_pseudo_count

    def add_record(self, route: int, by_patrol: bool) -> None:
        """A crime recorded on this route (from a patrol, or reported by the public)."""
        self.records[route] += 1
        if by_patrol:
            self.patrol_finds[route] += 1

    def exposure_corrected_weights(self) -> np.ndarray:
        """Ensign et al.'s correction: a patrol find counts in inverse proportion to how often its route is patrolled.

        A route patrolled on d_r days yields finds at about d_r x its true rate, so finds_r x (d̄ / d_r), d̄ the mean
        patrol days per route, estimates the true rate on a common scale; records that did not come from patrols
        (history, public reports) count as they are, and the prior pseudo-count is added as under ``proportional``.
        """
        other = self.records - self.patrol_finds
        mean_days = self.patrol_days.mean()
        corrected = np.divide(
            self.patrol_finds * mean_days,
            self.patrol_days,
            out=np.zeros_like(self.patrol_finds),
            where=self.patrol_days > 0,
        )
        return other + corrected + max(self.prior_pseudo_count, 1e-9)

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
            # A route with no record has only the prior's weight (Ensign et al.'s urn, prior 0: never patrolled).
            idx = weighted_sample(self.records + max(self.prior_pseudo_count, 1e-9), k, rng)
        elif rule == "exposure_corrected":
            idx = weighted_sample(self.exposure_corrected_weights(), k, rng)
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


def historic_expected_records(baseline_rate: np.ndarray, bias: np.ndarray, mean_records: float) -> np.ndarray:
    """Expected historic records per route: in proportion to the route's expected school-run incidents, times bias.

    Records follow where incidents happened, so a route whose pupils are mostly primary (far fewer school-run
    incidents) has few; ``mean_records`` is the mean over routes before the bias.
    """
    total = baseline_rate.sum()
    if total <= 0:
        return np.zeros_like(baseline_rate)
    return mean_records * len(baseline_rate) * baseline_rate / total * bias


def suspicion_weights(carrying: np.ndarray, noise: np.ndarray, signal_strength: float) -> np.ndarray:
    """Officers' suspicion of each pupil, up to a constant: exp(d' x), x = d' carrying + noise (noise ~ N(0, 1)).

    x is a signal-detection reading of the pupil (mean d' if they carry something, 0 if not); exp(d' x) is its
    likelihood ratio of carrying up to a constant, so an officer who stops in proportion to it stops a carrier
    exp(d'^2) times as readily as a pupil who carries nothing, on average. d' = 0: suspicion carries no information.
    """
    x = signal_strength * carrying
    x += noise
    x *= signal_strength
    return np.exp(x)


# --- outcomes ----------------------------------------------------------------------------------------------------
REGISTRY.officer_activity("patrol", owner=OWNER, meaning="Officer hours patrolling school routes.")
_DISTANCE = "total-variation distance (0-1)"
for _key, _kind, _unit, _label, _meaning in (
    ("corridor_patrols", Kind.COUNT, "route patrols", "Corridor patrols", "Route patrols (route-days patrolled)."),
    ("corridor_patrols_of_secondary_routes_share", Kind.SHARE, "share of patrols",
     "Corridor patrols of routes with secondary pupils",
     "Share of route patrols on routes with secondary pupils (patrols of primary routes make no stops)."),
    ("corridor_stops", Kind.COUNT, "stops", "Corridor stops", "Young people stopped by corridor patrols."),
    ("corridor_stops_per_1000_secondary", Kind.VALUE, "per 1,000 secondary pupils per school year",
     "Corridor stops per 1,000 secondary pupils",
     "Corridor stops per 1,000 secondary pupils per school year (compare: child stop-searches, all policing: "
     "about 18 per 1,000 10-17-year-olds in England and Wales, 2022/23)."),
    ("corridor_stops_of_primary_pupils", Kind.COUNT, "stops", "Corridor stops of primary pupils",
     "Corridor stops of primary pupils (always 0: only secondary pupils are stopped)."),
    ("corridor_stops_with_find", Kind.COUNT, "stops", "Corridor stops that found an offence",
     "Corridor stops that found a possession offence."),
    ("corridor_stop_find_share", Kind.SHARE, "share of stops", "Corridor stops that found something",
     "Share of corridor stops that found an item the pupil carried (drugs or a weapon)."),
    ("corridor_stop_weapon_find_share", Kind.SHARE, "share of stops", "Corridor stops that found a weapon",
     "Share of corridor stops that found a weapon (compare: section 60 searches, about 1.4%)."),
    ("corridor_items_carried_on_patrolled_routes", Kind.COUNT, "pupil-days",
     "Items carried on patrolled routes",
     "Secondary pupils carrying an item (drugs or a weapon) on a route while it was patrolled, summed over days: "
     "what stops could find (finds never exceed it)."),
    ("corridor_weapons_removed", Kind.COUNT, "weapons", "Weapons removed by corridor stops",
     "Weapons found by corridor stops and removed (that pupil's weapon incidents that day are averted)."),
    ("corridor_weapon_incidents_averted", Kind.COUNT, "incidents", "Weapon incidents averted by corridor stops",
     "Incidents that would have happened that day (same draws) but for a weapon a corridor stop removed: the "
     "pupil's weapon possession in school, and serious violence with probability removal_averts_violence."),
    ("corridor_stops_no_further_action_share", Kind.SHARE, "share of stops", "Corridor stops with no further action",
     "Share of corridor stops that ended without a crime record."),
    ("corridor_patrol_risk_tv_distance", Kind.VALUE, _DISTANCE,
     "Patrols vs true risk (whole run)",
     "Total-variation distance between where patrols went and where school-run incidents were expected (0: patrols "
     "follow true risk exactly, 1: disjoint), over the whole run."),
    ("corridor_patrol_risk_tv_distance_last_20_days", Kind.VALUE, _DISTANCE,
     "Patrols vs true risk (last 20 days)", "As corridor_patrol_risk_tv_distance, over the last 20 school days."),
    ("corridor_patrol_risk_tv_distance_last_school_year", Kind.VALUE, _DISTANCE,
     "Patrols vs true risk (last school year)",
     "As corridor_patrol_risk_tv_distance, over the last 190 school days."),
    ("corridor_patrol_risk_tv_distance_first_school_year", Kind.VALUE, _DISTANCE,
     "Patrols vs true risk (first school year)",
     "As corridor_patrol_risk_tv_distance, over the first 190 school days (with the last school year's: how far "
     "the patrols drifted as the loop ran)."),
    ("corridor_patrol_baseline_tv_distance", Kind.VALUE, _DISTANCE,
     "Patrols vs baseline risk (whole run)",
     "Total-variation distance between where patrols went and the school-run risk at the start of the run "
     "(before policing changed anyone's behaviour: patrol-independent), over the whole run."),
    ("corridor_patrol_baseline_tv_distance_last_20_days", Kind.VALUE, _DISTANCE,
     "Patrols vs baseline risk (last 20 days)",
     "As corridor_patrol_baseline_tv_distance, over the last 20 school days."),
    ("corridor_patrol_baseline_tv_distance_last_school_year", Kind.VALUE, _DISTANCE,
     "Patrols vs baseline risk (last school year)",
     "As corridor_patrol_baseline_tv_distance, over the last 190 school days."),
):  # fmt: skip
    REGISTRY.computed(_key, kind=_kind, unit=_unit, label=_label, meaning=_meaning, owner=OWNER,
                      fmt="{:.1%}" if _kind is Kind.SHARE else "{:,.3f}" if _kind is Kind.VALUE
                      else "{:,.0f}")  # fmt: skip

_CHILD_STOP_RATES = (
    "child stop-searches, all policing: ~18 per 1,000 10-17-year-olds in England and Wales (107,800 in the year to "
    "March 2023: Youth Justice Statistics 2022/23; Home Office, Police powers and procedures), higher in London "
    "(~30-40 per 1,000: the Met's ~16 searches per 1,000 residents, a fifth of them of children; ~50 in Haringey, "
    "1,561 children in Feb 2022-Mar 2023)"
)


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
        0.13,
        unit="stops per patrol",
        range=(0.0, 1.0),
        meaning="Mean stops per patrol of a route with the average number of secondary pupils (Poisson, in "
        "proportion to the route's secondary pupils; no stops on routes to primary schools)",
        source=f"derived from published rates: {_CHILD_STOP_RATES}. At London's rate a borough like Hackney makes "
        "~1,100 child stop-searches a year over ~400,000 officer patrol hours (~0.003 an hour); a patrol placed "
        "where and when secondary pupils walk meets 10-50 times as many, for 1.5 hours: 0.045-0.225 stops per "
        "patrol (default 0.13, the middle; range up to 1 for sweeps of a more intensive pilot). The default "
        "borough's corridor stops are then ~11 per 1,000 secondary pupils a year, a third of London's child rate "
        "from all policing",
    )
    patrol_detection_probability: float = param(
        0.5,
        unit="probability",
        range=(0.0, 1.0),
        meaning="Probability a patrol sees a school-run incident on its route that day",
        source="assumption: chance a patrol sees an incident on its route that day",
    )
    suspicion_signal: float = param(
        2.4,
        unit="sensitivity index d'",
        range=(0.0, 3.0),
        meaning="How well officers' suspicion tells who carries an item: a carrier is stopped exp(d'^2) times as "
        "readily as a pupil carrying nothing (~320 at 2.4); 0: no better than chance",
        source="calibrated (validation/targets.yaml, stops_no_further_action) to the 77% of child stop-searches "
        "that end with no further action (Youth Justice Statistics 2022/23): with the carrying above, d' 2.3-2.5 "
        "gives 80-76%; 1.4 (carriers 7 times as readily stopped) would give 97%, and d' = 0 (suspicionless, like "
        "section 60) 99.4%. Range 0 (no information) to 3 (searches on specific intelligence)",
    )
    search_detection_probability: float = param(
        0.8,
        unit="probability",
        range=(0.3, 1.0),
        meaning="Probability a search finds an item the stopped pupil carries",
        source="assumption: searches miss some concealed items",
    )
    carry_days_per_possession_incident: float = param(
        80.0,
        unit="carrying days per catalogued school-run possession incident",
        range=(1.0, 500.0),
        meaning="Days a pupil carries an item on the school run per school-run possession incident of the "
        "catalogue (1: carrying only on the catalogue's possession incidents; D > 1 adds D - 1 times their rates "
        "of carrying days)",
        source="derived from self-reports: ~5% of 13-17-year-olds carried a weapon in the past 12 months (Youth "
        "Endowment Fund, Children, violence and vulnerability 2023), ~6% of 11-15-year-olds took drugs in the last "
        "month (NHS England, Smoking, drinking and drug use among young people in England 2021; taking drugs is not "
        "carrying them on the school run: an upper reading); with 5-20 school-run days of carrying a year per "
        "carrier (assumption) that is 250-1,000 weapon and 300-1,200 drug carrying days per 1,000 secondary pupils "
        "a year, against the catalogue's 4 and 13 school-run possession incidents: D ~ 30-130, default 80 near the "
        "middle. The range reaches 500 because section 60 searches, made where violence is expected, find a "
        "weapon in ~1.4% where the model's suspicionless stops find one in ~0.23% at D = 80 (Home Office, Police "
        "powers and procedures 2022/23); 1: the catalogue's incidents only",
    )
    removal_averts_violence: float = param(
        0.5,
        unit="probability",
        range=(0.0, 1.0),
        meaning="Probability that removing a pupil's weapon averts their serious violence that day",
        source="assumption: the violence of a pupil carrying a weapon would often use it; 0: another weapon or none",
    )
    route_selection: RouteSelection = param(
        "proportional",
        unit="rule",
        meaning="Rule picking the day's routes: proportional, top_k, exposure_corrected, uniform, true_risk",
        source="Ensign et al. 2018 urn model: routes chosen in proportion to recorded incidents",
    )
    route_prior_records: float = param(
        1.0,
        unit="records per route",
        range=(0.0, 10.0),
        meaning="Pseudo-count added to every route's records under the proportional rule (a prior), so a route "
        "without a record can be patrolled",
        source="assumption: an add-one (Laplace) prior; 0 is Ensign et al.'s urn, where a route without a record "
        "is never patrolled",
    )
    historic_records_per_route: float = param(
        2.0,
        unit="records per route",
        range=(0.0, 100.0),
        meaning="Mean recorded incidents per route before the pilot (Poisson, in proportion to the route's expected "
        "school-run incidents at the start, so routes of primary pupils have few)",
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
        0.1,
        unit="proportional fall in risk",
        range=(0.0, 0.3),
        meaning="Proportional fall in school-run incident risk on a route while it is patrolled",
        source="Braga, Turchan, Papachristos & Hureau 2019 (Campbell review of hot-spots policing: small, "
        "significant crime reductions, d ~ 0.13, no displacement on average); YEF toolkit (hot spots "
        "policing: a moderate reduction in violence); 0: no deterrent effect of school-run patrols (Liberty "
        "2025: no reliable evidence for Safer Corridors itself)",
    )


class SaferCorridors(Mechanism):
    """Patrols of the day's routes, chosen from route intelligence; stops, and what patrols see and find.

    The patrolling officer is the officer linked to the route's school (an advisor), else the response team.
    """

    name = OWNER
    Params: ClassVar[type[MechanismParams]] = SaferCorridorsParams
    params: SaferCorridorsParams
    WEAPONS: ClassVar[tuple[str, ...]] = ("weapon_possession",)
    """Catalogue types that are weapons: found, they are removed and the pupil's weapon incidents that day averted."""
    VIOLENCE: ClassVar[tuple[str, ...]] = ("serious_violence",)
    """Catalogue types a removed weapon may avert that day (with probability ``removal_averts_violence``)."""

    def setup(self) -> None:
        """Seed route intelligence with (biased) history; prepare what stops and the distance metrics need."""
        model = self.model
        borough = model.borough
        pop = model.population
        rng = model.streams.generator("route_history")
        # Baseline risk: the school-run risk by route before policing has changed anyone (patrol-independent).
        self.baseline_rate = model.route_true_rate(model.risk_today)
        bias = np.where(borough.ward_over_policed[borough.route_ward], self.params.historic_over_policing_bias, 1.0)
        self.intelligence = RouteIntelligence(
            borough.n_routes,
            rng.poisson(historic_expected_records(self.baseline_rate, bias, self.params.historic_records_per_route)),
            prior_pseudo_count=self.params.route_prior_records,
        )
        self.patrolled = np.zeros(borough.n_routes, dtype=bool)
        self.patrol_history: list[np.ndarray] = []
        # The true pattern of school-run risk the patrols are compared with (metrics). Each day's route rates
        # (BoroughModel.route_true_rate) are kept when the oracle rule needs them or the run is longer than a
        # school year; otherwise the metrics need only the students' risk summed over the run and the last days'
        # risk, which saves the daily route sums (a few per cent of a run).
        self.true_rate_history: list[np.ndarray] = []
        self._daily_true_rates = self.params.route_selection == "true_risk" or model.config.days > SCHOOL_YEAR_DAYS
        self._risk_sum = np.zeros(pop.n)
        self._recent_risk: collections.deque[np.ndarray] = collections.deque(maxlen=_TAIL_DAYS)
        self.stops = 0
        self.stops_of_primary_pupils = 0
        self.stops_with_record = 0
        self.stops_with_find = 0
        self.weapons_removed = 0
        self.weapon_incidents_averted = 0
        self.items_carried = 0
        self.secondary_route_patrols = 0
        self._secondary_pupil_days = 0
        self._students_on_routes()
        names = {t.name: t.index for t in model.catalogue.types}
        self._weapons = frozenset(names[n] for n in self.WEAPONS if n in names)
        self._violence = frozenset(names[n] for n in self.VIOLENCE if n in names)
        # today's finds: pupil -> the item found when it was their school-run incident today; pupils disarmed today
        self._today = -1
        self._found_on_street: dict[int, int] = {}
        self._disarmed: set[int] = set()
        share = self.params.patrol_share_of_routes
        self.patrols_per_day = max(1, round(share * borough.n_routes)) if share > 0 else 0

    def _students_on_routes(self) -> None:
        """What stops need to know of the students on the routes: secondary pupils, and their mean per route."""
        pop, n_routes = self.model.population, self.model.borough.n_routes
        secondary = np.bincount(pop.route[pop.phase == SECONDARY], minlength=n_routes)
        self._secondary_pupils = int(secondary.sum())  # changes only where a school year starts
        self._mean_secondary_route = float(secondary[secondary > 0].mean()) if (secondary > 0).any() else 1.0

    def start_of_school_year(self, year: int) -> None:
        """Children have moved up, changed school or arrived: who is on each route has changed."""
        self._students_on_routes()

    def start_of_day(self, day: int) -> None:
        """Choose today's patrolled routes from the route intelligence; the patrols stop and search (morning)."""
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
        self._secondary_pupil_days += self._secondary_pupils
        self._stop_and_search(day)

    def street_risk_multiplier(self) -> np.ndarray | None:
        """Deterrence on patrolled routes (patrol_deterrence)."""
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

    def pre_empts(self, incident: Incident) -> PreEmption | None:
        """Today's finds: the item found was the pupil's school-run incident; a removed weapon averts its use."""
        if incident.day != self._today or not (self._found_on_street or self._disarmed):
            return None
        student = incident.student
        if incident.location == Location.STREET and self._found_on_street.get(student) == incident.type.index:
            return PreEmption.FOUND
        if student in self._disarmed:
            kind = incident.type.index
            if kind in self._weapons or (
                kind in self._violence and incident.draw("weapon_removal_averts") < self.params.removal_averts_violence
            ):
                self.weapon_incidents_averted += 1
                return PreEmption.AVERTED
        return None

    def after_crime_record(self, incident: Incident, officer: Officer, by_patrol: bool) -> None:
        """A record on the school run feeds the route intelligence (and counts as a find if a patrol made it)."""
        if incident.location in (Location.STREET, Location.STOP):
            self.intelligence.add_record(incident.route, by_patrol)

    def _stop_and_search(self, day: int) -> None:
        """Each patrol stops secondary pupils on its route, by suspicion; a search finds what a pupil carries."""
        model = self.model
        pop = model.population
        params = self.params
        self._today = day
        self._found_on_street = {}
        self._disarmed = set()
        rng = model.streams.generator("corridor_stops", day)
        groups: list[tuple[Officer, np.ndarray, np.ndarray, int]] = []  # officer, secondary pupils, bias, stops
        for route in np.flatnonzero(self.patrolled).tolist():
            officer = self.patrol_officer(route)
            officer.log_hours("patrol", params.patrol_hours, int(model.borough.route_school[route]))
            students = pop.students_on_route(route)
            secondary = pop.phase[students] == SECONDARY
            n_secondary = int(np.count_nonzero(secondary))
            if n_secondary == 0:
                continue  # a route to a primary school: the patrol watches but stops nobody
            self.secondary_route_patrols += 1
            # Busier routes see more stops: the mean is per patrol of a route of average secondary size.
            k = min(n_secondary, int(rng.poisson(params.stops_per_patrol * n_secondary / self._mean_secondary_route)))
            # the fixed part of suspicion: the officer's rule (kept per route when marked fixed_per_student)
            bias = officer.weights_for(("route", route), students)[secondary]
            groups.append((officer, students[secondary], bias, k))
        if not groups:
            return
        # Who carries what today, on the patrolled routes (the same school-run rates the day's incidents use).
        candidates = np.concatenate([g[1] for g in groups])
        multiplier = model.borough.route_risk[pop.route[candidates]]
        deterrence = model.policing.street_risk_multiplier()
        if deterrence is not None:
            multiplier = multiplier * deterrence[pop.route[candidates]]
        item, on_street = carried_items(model, day, candidates, multiplier, params.carry_days_per_possession_incident)
        carrying = item != NOTHING
        self.items_carried += int(np.count_nonzero(carrying))
        # the daily part of suspicion: a noisy reading of whether the pupil carries something
        noise = scipy.special.ndtri(model.streams.uniforms("corridor_suspicion", day, candidates))
        suspicion = suspicion_weights(carrying.astype(float), noise, params.suspicion_signal)
        stopped_parts, officers = [], []
        start = 0
        for officer, students, bias, k in groups:
            end = start + len(students)
            if k > 0:
                stopped_parts.append(start + weighted_sample(bias * suspicion[start:end], k, rng))
                officers.append(officer)
            start = end
        if not stopped_parts:
            return
        # positions in `candidates` of the stopped pupils (a pupil is on one route: nobody is stopped twice a day)
        at = np.concatenate(stopped_parts)
        patrol = np.repeat(np.arange(len(stopped_parts)), [len(p) for p in stopped_parts])
        stopped = candidates[at]
        model.add_contacts(stopped, CORRIDOR_STOP)
        self.stops += len(stopped)
        self.stops_of_primary_pupils += int(np.count_nonzero(pop.phase[stopped] != SECONDARY))
        detected = model.streams.uniforms("stop_search_detects", day, stopped) < params.search_detection_probability
        found = np.flatnonzero(carrying[at] & detected)
        if len(found) == 0:
            return
        types = [model.catalogue.types[k] for k in item[at[found]].tolist()]
        incidents = model.catalogue.make_incidents(model, day, stopped[found], types, Location.STOP)
        for i, incident in zip(found.tolist(), incidents, strict=True):
            student, kind = incident.student, incident.type.index
            self.stops_with_find += 1
            if on_street[at[i]]:
                self._found_on_street[student] = kind  # the day's school-run incident, found before it happened
            if kind in self._weapons:
                self.weapons_removed += 1
                self._disarmed.add(student)
            incident.noticed = True
            model.police_attend(officers[patrol[i]], incident, contact=None, by_patrol=True)
            self.stops_with_record += int(incident.recorded)

    def metrics(self) -> dict[str, Any]:
        """Patrols, stops, finds, the no-further-action share, and how far patrols are from true and baseline risk."""
        model = self.model
        days = len(self.patrol_history)
        patrol_days = np.sum(self.patrol_history, axis=0) if days else np.zeros(1)
        tail, year = min(_TAIL_DAYS, days), min(SCHOOL_YEAR_DAYS, days)
        if self._daily_true_rates:
            history = self.true_rate_history
            true_rate = np.sum(history, axis=0) if days else np.zeros(1)
            tail_rate = np.sum(history[-tail:], axis=0) if tail else None
            year_rate = np.sum(history[-year:], axis=0) if year else None
            first_rate = np.sum(history[:year], axis=0) if year else None
        else:  # at most a school year run: its last school year is all of it
            true_rate = model.route_true_rate(self._risk_sum)  # the days' route rates, summed over the days
            # the deque holds the last min(20, days) days' risk: exactly the tail
            tail_rate = np.sum([model.route_true_rate(risk) for risk in self._recent_risk], axis=0) if tail else None
            year_rate = first_rate = true_rate if year else None
        tail_patrols = np.sum(self.patrol_history[-tail:], axis=0) if tail else None
        year_patrols = np.sum(self.patrol_history[-year:], axis=0) if year else None
        first_patrols = np.sum(self.patrol_history[:year], axis=0) if year else None
        baseline = self.baseline_rate
        stops = self.stops
        return {
            "corridor_patrols": float(patrol_days.sum()),
            "corridor_patrols_of_secondary_routes_share": (
                self.secondary_route_patrols / patrol_days.sum() if patrol_days.sum() else None
            ),
            "corridor_stops": stops,
            "corridor_stops_per_1000_secondary": (
                stops * SCHOOL_YEAR_DAYS * 1000.0 / self._secondary_pupil_days if self._secondary_pupil_days else None
            ),
            "corridor_stops_of_primary_pupils": self.stops_of_primary_pupils,
            "corridor_stops_with_find": self.stops_with_find,
            "corridor_stop_find_share": self.stops_with_find / stops if stops else None,
            "corridor_stop_weapon_find_share": self.weapons_removed / stops if stops else None,
            "corridor_items_carried_on_patrolled_routes": self.items_carried,
            "corridor_weapons_removed": self.weapons_removed,
            "corridor_weapon_incidents_averted": self.weapon_incidents_averted,
            "corridor_stops_no_further_action_share": (1 - self.stops_with_record / stops) if stops else None,
            "corridor_patrol_risk_tv_distance": total_variation(patrol_days, true_rate),
            "corridor_patrol_risk_tv_distance_last_20_days": (
                None if tail_rate is None or tail_patrols is None else total_variation(tail_patrols, tail_rate)
            ),
            "corridor_patrol_risk_tv_distance_last_school_year": (
                None if year_rate is None or year_patrols is None else total_variation(year_patrols, year_rate)
            ),
            "corridor_patrol_risk_tv_distance_first_school_year": (
                None if first_rate is None or first_patrols is None else total_variation(first_patrols, first_rate)
            ),
            "corridor_patrol_baseline_tv_distance": total_variation(patrol_days, baseline),
            "corridor_patrol_baseline_tv_distance_last_20_days": (
                None if tail_patrols is None else total_variation(tail_patrols, baseline)
            ),
            "corridor_patrol_baseline_tv_distance_last_school_year": (
                None if year_patrols is None else total_variation(year_patrols, baseline)
            ),
        }
